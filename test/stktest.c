/*
 * stktest.c - the stick tables (sticktable.c) outside the proxy, for
 * test/sticktable.bats. Built with -DSTK_TEST, which adds two hooks to
 * sticktable.c: stk_test_lock() (take the lock and keep it, optionally
 * wrecking the index as a process killed mid-update may) and
 * stk_test_check() (do the index and the lists agree with the entries).
 *
 *   stktest [CASE...]
 *
 * Runs the named cases (all without arguments) and prints "ok CASE" or
 * "not ok CASE: what" for each; exit 1 if any failed, 2 for an unknown
 * case. The clock is ours: each case sets "now" as the reference's
 * figures need.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../sticktable.h"

int stk_test_lock(struct stk_table *t, int scramble);
const char *stk_test_check(struct stk_table *t);

/* sticktable.c logs through log.c; here its messages go to stderr,
 * where bats shows them when a case fails. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, ": %s\n", strerror(saved));
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

static uint64_t now;

static uint64_t
test_clock(void)
{
	return now;
}

/* The first failure of the running case. */
static char failure[4096];

#define CHECK(cond, ...) do {                                           \
	if (!(cond)) {                                                  \
		if (failure[0] == '\0')                                 \
			(void)snprintf(failure, sizeof(failure),        \
			    __VA_ARGS__);                               \
		return;                                                 \
	}                                                               \
} while (0)

#define BIT(d) (1u << (d))

static struct stk_def defs[16];
static int ndefs;
static int next_nopurge;        /* the next table() is nopurge */

/* A mapped table; periods are all period_ms. */
static struct stk_table *
table(enum stk_type type, unsigned key_len, unsigned size,
    unsigned expire_ms, uint32_t stored, unsigned period_ms)
{
	struct stk_def *d = &defs[ndefs++ % 16];
	char err[256];

	memset(d, 0, sizeof(*d));
	d->name = "fe";
	d->type = type;
	d->key_len = key_len;
	d->size = size;
	d->expire_ms = expire_ms;
	d->stored = stored;
	d->nopurge = next_nopurge;
	next_nopurge = 0;
	for (int i = 0; i < STK_NDATA; i++)
		d->period_ms[i] = period_ms;
	if (stk_map(d, NULL, err, sizeof(err)) < 0) {
		(void)fprintf(stderr, "stk_map: %s\n", err);
		exit(1);
	}
	return d->shm;
}

static struct stk_key
int_key(long long n)
{
	struct stk_key k;
	int64_t v = n;

	memset(&k, 0, sizeof(k));
	memcpy(k.bytes, &v, sizeof(v));
	k.len = sizeof(v);
	return k;
}

static struct stk_key
str_key(const struct stk_table *t, const char *s)
{
	struct stk_key k;

	if (stk_key_str(t, s, strlen(s), &k) < 0) {
		(void)fprintf(stderr, "stk_key_str %s failed\n", s);
		exit(1);
	}
	return k;
}

static long long
rd(struct stk_table *t, int idx, enum stk_data d)
{
	long long v = -999;

	if (!stk_read(t, idx, d, &v))
		return -999;
	return v;
}

/* The value of d for key, -999 when there is no entry. */
static long long
lrd(struct stk_table *t, const struct stk_key *k, enum stk_data d)
{
	long long v = -999;

	if (!stk_lookup_read(t, k, d, &v))
		return -999;
	return v;
}

/* "clear table NAME key K" */
static int
clear_key(struct stk_table *t, const struct stk_key *k)
{
	struct stk_filter f = { 0, -1, 0, 0, k };

	return stk_clear(t, &f);
}

/* "clear table NAME data.conn_cnt gt 1" */
static const struct stk_filter more_than_one = { 0, STK_CONN_CNT,
    STK_OP_GT, 1, NULL };

/* ---- rates (13.4) ---- */

static void
case_rates(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 100, 0,
	    BIT(STK_HTTP_REQ_RATE) | BIT(STK_CONN_RATE), 2000);
	static const struct { uint64_t at; long long want; } fig[] = {
		{ 0, 4 }, { 1760, 4 }, { 2020, 3 }, { 2260, 3 }, { 2510, 2 },
		{ 2760, 2 }, { 3010, 1 }, { 3260, 1 }, { 3510, 0 },
		{ 10000, 0 }
	};
	struct stk_key k = int_key(1), k2 = int_key(2), k3 = int_key(3);
	int a, b, c;

	now = 0;
	a = stk_track(t, &k);
	for (int i = 0; i < 4; i++)
		stk_count(t, a, STK_EV_HTTP_REQ, 1);
	for (size_t i = 0; i < sizeof(fig) / sizeof(fig[0]); i++) {
		now = fig[i].at;
		CHECK(rd(t, a, STK_HTTP_REQ_RATE) == fig[i].want,
		    "4 events at 0, read at %llu: %lld, want %lld",
		    (unsigned long long)now, rd(t, a, STK_HTTP_REQ_RATE),
		    fig[i].want);
	}
	/* a single event reads 1 for its whole following period */
	now = 0;
	b = stk_track(t, &k2);
	stk_count(t, b, STK_EV_HTTP_REQ, 1);
	now = 2500;
	CHECK(rd(t, b, STK_HTTP_REQ_RATE) == 1, "single event at 2500: %lld",
	    rd(t, b, STK_HTTP_REQ_RATE));
	now = 3999;
	CHECK(rd(t, b, STK_HTTP_REQ_RATE) == 1, "single event at 3999: %lld",
	    rd(t, b, STK_HTTP_REQ_RATE));
	now = 4000;             /* remain 0: still the previous period */
	CHECK(rd(t, b, STK_HTTP_REQ_RATE) == 1, "single event at 4000: %lld",
	    rd(t, b, STK_HTTP_REQ_RATE));
	now = 4001;
	CHECK(rd(t, b, STK_HTTP_REQ_RATE) == 0, "single event at 4001: %lld",
	    rd(t, b, STK_HTTP_REQ_RATE));
	/* a fresh counter starts its period at its first event, whatever
	 * the clock reads; the update rotates */
	now = 100000;
	c = stk_track(t, &k3);
	for (int i = 0; i < 4; i++)
		stk_count(t, c, STK_EV_HTTP_REQ, 1);
	now = 102020;
	CHECK(rd(t, c, STK_HTTP_REQ_RATE) == 3, "fresh at 100000, 102020: %lld",
	    rd(t, c, STK_HTTP_REQ_RATE));
	stk_count(t, c, STK_EV_HTTP_REQ, 1);    /* curr 1, prev 4 */
	now = 102100;           /* (4 * 1900 + 1 * 2000) / 2000 */
	CHECK(rd(t, c, STK_HTTP_REQ_RATE) == 4, "rotated, 102100: %lld",
	    rd(t, c, STK_HTTP_REQ_RATE));
	now = 110000;           /* a long gap: the next event is alone */
	stk_count(t, c, STK_EV_HTTP_REQ, 1);
	CHECK(rd(t, c, STK_HTTP_REQ_RATE) == 1, "after a gap: %lld",
	    rd(t, c, STK_HTTP_REQ_RATE));
	/* tracking counts conn_rate */
	CHECK(rd(t, c, STK_CONN_RATE) == 0, "conn_rate at 110000: %lld",
	    rd(t, c, STK_CONN_RATE));
	now = 0;
	CHECK(rd(t, a, STK_CONN_RATE) == 1, "conn_rate at 0: %lld",
	    rd(t, a, STK_CONN_RATE));
}

/* ---- tracking and counting (13.2) ---- */

static void
case_track(void)
{
	struct stk_table *t = table(STK_STRING, 32, 10, 0,
	    BIT(STK_CONN_CNT) | BIT(STK_CONN_CUR) | BIT(STK_CONN_RATE) |
	    BIT(STK_HTTP_REQ_CNT) | BIT(STK_BYTES_IN_CNT) |
	    BIT(STK_BYTES_IN_RATE) | BIT(STK_GPC0) | BIT(STK_GPT0), 10000);
	struct stk_key k = str_key(t, "alice");
	int a, b;
	long long v;

	now = 0;
	a = stk_track(t, &k);
	b = stk_track(t, &k);
	CHECK(a >= 0 && a == b, "same key, two tracks: %d %d", a, b);
	CHECK(stk_trackers(t, a) == 2, "use %d", stk_trackers(t, a));
	CHECK(rd(t, a, STK_CONN_CUR) == 2, "conn_cur %lld",
	    rd(t, a, STK_CONN_CUR));
	CHECK(rd(t, a, STK_CONN_CNT) == 2, "conn_cnt %lld",
	    rd(t, a, STK_CONN_CNT));
	CHECK(rd(t, a, STK_CONN_RATE) == 2, "conn_rate %lld",
	    rd(t, a, STK_CONN_RATE));
	stk_untrack(t, a);
	CHECK(rd(t, a, STK_CONN_CUR) == 1 && stk_trackers(t, a) == 1,
	    "after one untrack: conn_cur %lld use %d",
	    rd(t, a, STK_CONN_CUR), stk_trackers(t, a));
	stk_untrack(t, a);
	stk_untrack(t, a);      /* one too many: stays at 0 */
	CHECK(rd(t, a, STK_CONN_CUR) == 0 && stk_trackers(t, a) == 0,
	    "below zero: conn_cur %lld use %d",
	    rd(t, a, STK_CONN_CUR), stk_trackers(t, a));
	CHECK(rd(t, a, STK_CONN_CNT) == 2, "conn_cnt after untrack %lld",
	    rd(t, a, STK_CONN_CNT));

	a = stk_track(t, &k);
	stk_count(t, a, STK_EV_HTTP_REQ, 77);   /* n ignored: +1 */
	stk_count(t, a, STK_EV_BYTES_IN, 195);
	stk_count(t, a, STK_EV_BYTES_IN, 5);
	stk_count(t, a, STK_EV_SESS, 1);        /* not stored */
	CHECK(rd(t, a, STK_HTTP_REQ_CNT) == 1, "http_req_cnt %lld",
	    rd(t, a, STK_HTTP_REQ_CNT));
	CHECK(rd(t, a, STK_BYTES_IN_CNT) == 200, "bytes_in_cnt %lld",
	    rd(t, a, STK_BYTES_IN_CNT));
	CHECK(rd(t, a, STK_BYTES_IN_RATE) == 200, "bytes_in_rate %lld",
	    rd(t, a, STK_BYTES_IN_RATE));
	CHECK(!stk_read(t, a, STK_SESS_CNT, &v), "sess_cnt not stored, read");
	CHECK(!stk_read(t, a, STK_HTTP_REQ_RATE, &v), "rate not stored, read");
	CHECK(lrd(t, &k, STK_CONN_CNT) == 3, "lookup conn_cnt %lld",
	    lrd(t, &k, STK_CONN_CNT));

	/* gpc0, gpt0; gpc1 not stored */
	CHECK(stk_gpc_inc(t, a, 0) == 1 && stk_gpc_inc(t, a, 0) == 2,
	    "gpc0 inc");
	CHECK(stk_gpc_clr(t, a, 0) == 2 && rd(t, a, STK_GPC0) == 0,
	    "gpc0 clr");
	CHECK(stk_gpc_inc(t, a, 1) == -1 && stk_gpc_clr(t, a, 1) == -1,
	    "gpc1 not stored");
	CHECK(stk_gpt_set(t, a, 42) == 0 && rd(t, a, STK_GPT0) == 42,
	    "gpt0");
	CHECK(stk_entries(t) == 1 && stk_size(t) == 10, "entries %u size %u",
	    stk_entries(t), stk_size(t));
	CHECK(strcmp(stk_table_def(t)->name, "fe") == 0, "def name");
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));
}

/* gpc0_rate counts with gpc0's increments, even without gpc0. */
static void
case_gpc_rate(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 10, 0,
	    BIT(STK_GPC0_RATE) | BIT(STK_GPC1) | BIT(STK_GPC1_RATE), 1000);
	struct stk_key k = int_key(9);
	int a;

	now = 0;
	a = stk_track(t, &k);
	CHECK(stk_gpc_inc(t, a, 0) == 0, "gpc0 only a rate: inc gives 0");
	stk_count(t, a, STK_EV_GPC0, 1);
	CHECK(rd(t, a, STK_GPC0_RATE) == 2, "gpc0_rate %lld",
	    rd(t, a, STK_GPC0_RATE));
	CHECK(stk_gpc_clr(t, a, 0) == -1, "gpc0 clr without gpc0");
	CHECK(stk_gpc_inc(t, a, 1) == 1, "gpc1 inc");
	stk_count(t, a, STK_EV_GPC1, 1);
	CHECK(rd(t, a, STK_GPC1) == 2 && rd(t, a, STK_GPC1_RATE) == 2,
	    "gpc1 %lld rate %lld", rd(t, a, STK_GPC1),
	    rd(t, a, STK_GPC1_RATE));
}

/* ---- expiry (13.5) ---- */

static void
case_expire(void)
{
	struct stk_table *t = table(STK_IP, 4, 10, 4000,
	    BIT(STK_CONN_CNT), 1000);
	struct stk_key k = str_key(t, "10.0.0.1"), k2 = str_key(t, "10.0.0.2");
	int a, b;

	now = 0;
	a = stk_track(t, &k);
	stk_untrack(t, a);
	now = 3500;
	CHECK(lrd(t, &k, STK_CONN_CNT) == 1, "present at 3.5 s: %lld",
	    lrd(t, &k, STK_CONN_CNT));
	CHECK(stk_entries(t) == 1, "entries at 3.5 s: %u", stk_entries(t));
	now = 4500;             /* the lookup above did not touch it */
	CHECK(lrd(t, &k, STK_CONN_CNT) == -999, "gone at 4.5 s");
	CHECK(stk_entries(t) == 0, "entries at 4.5 s: %u", stk_entries(t));

	/* held: never expires; expiry restarts when let go */
	now = 10000;
	b = stk_track(t, &k2);
	now = 60000;
	CHECK(lrd(t, &k2, STK_CONN_CNT) == 1, "held, 50 s later");
	CHECK(stk_entries(t) == 1, "held, entries %u", stk_entries(t));
	a = stk_track(t, &k);   /* an insert purges: not the held one */
	CHECK(stk_trackers(t, b) == 1, "held entry purged by an insert");
	stk_untrack(t, b);
	now = 63500;
	CHECK(lrd(t, &k2, STK_CONN_CNT) == 1, "3.5 s after the untrack");
	now = 64000;
	CHECK(lrd(t, &k2, STK_CONN_CNT) == -999, "4 s after the untrack");
	/* a purge by stk_entries: k (held since 60000) stays */
	CHECK(stk_entries(t) == 1, "entries %u", stk_entries(t));
	stk_untrack(t, a);
	now = 200000;
	CHECK(stk_entries(t) == 0, "all expired: %u", stk_entries(t));
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));
}

/* ---- a full table ---- */

static void
case_evict(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 3, 0,
	    BIT(STK_CONN_CNT), 1000);
	struct stk_key k[6];
	int idx[6];

	for (int i = 0; i < 6; i++)
		k[i] = int_key(i);
	for (int i = 0; i < 3; i++) {
		now = (uint64_t)i * 10;
		idx[i] = stk_track(t, &k[i]);
		stk_untrack(t, idx[i]);
	}
	now = 100;
	idx[0] = stk_track(t, &k[0]);   /* 0 is now the newest, and held */
	idx[3] = stk_track(t, &k[3]);   /* evicts 1, the oldest */
	CHECK(idx[3] >= 0, "insert into a full table");
	CHECK(lrd(t, &k[1], STK_CONN_CNT) == -999, "oldest not evicted");
	CHECK(lrd(t, &k[0], STK_CONN_CNT) == 2 &&
	    lrd(t, &k[2], STK_CONN_CNT) == 1 &&
	    lrd(t, &k[3], STK_CONN_CNT) == 1, "survivors");
	idx[2] = stk_track(t, &k[2]);   /* now all three held */
	CHECK(stk_track(t, &k[4]) == -1, "every entry held: stored");
	CHECK(stk_entries(t) == 3, "entries %u", stk_entries(t));
	stk_untrack(t, idx[2]);         /* 2 is the only one free to go */
	idx[4] = stk_track(t, &k[4]);
	CHECK(idx[4] >= 0 && lrd(t, &k[2], STK_CONN_CNT) == -999 &&
	    lrd(t, &k[0], STK_CONN_CNT) == 2, "held ones skipped");
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));

	/* clear table: held entries stay */
	CHECK(clear_key(t, &k[4]) == 0, "clear of a held key");
	stk_untrack(t, idx[4]);
	CHECK(clear_key(t, &k[4]) == 1, "clear of a key");
	CHECK(clear_key(t, &k[5]) == 0, "clear of a missing key");
	CHECK(stk_clear(t, NULL) == 0 && stk_entries(t) == 2,
	    "clear all, held stay: %u", stk_entries(t));
	stk_untrack(t, idx[0]);
	stk_untrack(t, idx[3]);
	/* clear table NAME data.conn_cnt gt 1: only 0's went (2 against 1) */
	CHECK(stk_clear(t, &more_than_one) == 1 && stk_entries(t) == 1 &&
	    lrd(t, &k[0], STK_CONN_CNT) == -999 &&
	    lrd(t, &k[3], STK_CONN_CNT) == 1, "clear by data");
	CHECK(stk_clear(t, NULL) == 1 && stk_entries(t) == 0, "clear all");
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));
}

static void
case_nopurge(void)
{
	struct stk_table *t;
	struct stk_key a = int_key(1), b = int_key(2), c = int_key(3);

	next_nopurge = 1;
	t = table(STK_INTEGER, 8, 2, 5000, BIT(STK_CONN_CNT), 1000);
	now = 0;
	stk_untrack(t, stk_track(t, &a));
	now = 1000;
	stk_untrack(t, stk_track(t, &b));
	now = 2000;
	CHECK(stk_track(t, &c) == -1, "nopurge: a new key stored");
	CHECK(lrd(t, &a, STK_CONN_CNT) == 1 && lrd(t, &b, STK_CONN_CNT) == 1,
	    "nopurge: an old key evicted");
	CHECK(stk_track(t, &a) >= 0, "nopurge: an old key not tracked");
	now = 6000;             /* b expired: room again */
	CHECK(stk_track(t, &c) >= 0, "nopurge: expired entry not reclaimed");
	CHECK(lrd(t, &b, STK_CONN_CNT) == -999, "b still there");
}

/* ---- keys ---- */

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1)
		in4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		ss.ss_family = AF_UNIX;
	return ss;
}

static int
key_is(const struct stk_key *k, const void *bytes, unsigned len)
{
	return k->len == len && memcmp(k->bytes, bytes, len) == 0;
}

static void
case_keys(void)
{
	struct stk_table *ip = table(STK_IP, 4, 10, 0, 0, 0);
	struct stk_table *ip6 = table(STK_IPV6, 16, 10, 0, 0, 0);
	struct stk_table *in = table(STK_INTEGER, 8, 10, 0, 0, 0);
	struct stk_table *str = table(STK_STRING, 4, 10, 0, 0, 0);
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff, 127, 0, 0, 1 };
	struct sockaddr_storage ss;
	struct stk_key k;
	int64_t n;

	ss = addr("127.0.0.1");
	CHECK(stk_key_addr(ip, &ss, &k) == 0 && key_is(&k, v4, 4), "ip v4");
	ss = addr("::ffff:127.0.0.1");
	CHECK(stk_key_addr(ip, &ss, &k) == 0 && key_is(&k, v4, 4),
	    "ip v4-mapped");
	ss = addr("::1");
	CHECK(stk_key_addr(ip, &ss, &k) == -1, "ip: IPv6 tracked");
	ss = addr("unix");
	CHECK(stk_key_addr(ip, &ss, &k) == -1, "ip: unix tracked");
	ss = addr("127.0.0.1");
	CHECK(stk_key_addr(ip6, &ss, &k) == 0 && key_is(&k, mapped, 16),
	    "ipv6: IPv4 not ::ffff:");
	ss = addr("::1");
	CHECK(stk_key_addr(ip6, &ss, &k) == 0 && k.len == 16 &&
	    k.bytes[15] == 1, "ipv6 ::1");
	ss = addr("10.0.0.1");
	n = 167772161;
	CHECK(stk_key_addr(in, &ss, &k) == 0 && key_is(&k, &n, 8),
	    "integer from IPv4");
	ss = addr("10.0.0.1");
	CHECK(stk_key_addr(str, &ss, &k) == 0 && key_is(&k, "10.0", 4),
	    "string from IPv4, len 4");

	CHECK(stk_key_str(ip, "127.0.0.1", 9, &k) == 0 && key_is(&k, v4, 4),
	    "ip from text");
	CHECK(stk_key_str(ip, "nope", 4, &k) == -1, "ip from junk");
	CHECK(stk_key_str(ip, "::2", 3, &k) == -1, "ip from IPv6 text");
	CHECK(stk_key_str(ip6, "127.0.0.1", 9, &k) == 0 &&
	    key_is(&k, mapped, 16), "ipv6 from IPv4 text");
	CHECK(stk_key_str(ip6, "::1x", 3, &k) == 0 && k.bytes[15] == 1,
	    "ipv6 from text, len honoured");
	n = 123;
	CHECK(stk_key_str(in, "123abc", 6, &k) == 0 && key_is(&k, &n, 8),
	    "integer: leading digits");
	n = -5;
	CHECK(stk_key_str(in, "-5", 2, &k) == 0 && key_is(&k, &n, 8),
	    "integer: sign");
	CHECK(stk_key_str(in, "abc", 3, &k) == -1, "integer: no digits");
	CHECK(stk_key_str(in, "", 0, &k) == -1, "integer: empty");
	CHECK(stk_key_str(str, "abcdef", 6, &k) == 0 && key_is(&k, "abcd", 4),
	    "string truncated");
	CHECK(stk_key_str(str, "ab", 2, &k) == 0 && key_is(&k, "ab", 2),
	    "short string");
	/* "ab" and "abcd" are two keys */
	CHECK(stk_track(str, &k) != stk_track(str, &(struct stk_key){
	    .bytes = "abcd", .len = 4 }), "string keys of two lengths");
	/* a key of the wrong length is refused */
	k = int_key(1);
	CHECK(stk_track(ip, &k) == -1, "an 8-byte key in an ip table");
}

/* ---- show table ---- */

/* What stk_dump writes, with each "0x...:" address replaced by "@:". */
static char *
dump_text(struct stk_table *t, char *out, size_t outlen)
{
	char raw[8192];
	FILE *f = tmpfile();
	size_t n, o = 0;

	if (f == NULL || stk_dump(t, fileno(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		(void)snprintf(out, outlen, "(dump failed)");
		return out;
	}
	n = fread(raw, 1, sizeof(raw) - 1, f);
	raw[n] = '\0';
	(void)fclose(f);
	for (size_t i = 0; i < n && o + 2 < outlen; i++) {
		if ((i == 0 || raw[i - 1] == '\n') && raw[i] == '0' &&
		    raw[i + 1] == 'x') {
			out[o++] = '@';
			i += 2;
			while (i < n && strchr("0123456789abcdef", raw[i]))
				i++;
			i--;
			continue;
		}
		out[o++] = raw[i];
	}
	out[o] = '\0';
	return out;
}

static void
case_dump(void)
{
	struct stk_table *t = table(STK_IP, 4, 102400, 30000,
	    BIT(STK_HTTP_REQ_RATE) | BIT(STK_CONN_CUR) | BIT(STK_GPC0) |
	    BIT(STK_CONN_CNT) | BIT(STK_SERVER_ID) | BIT(STK_BYTES_OUT_CNT) |
	    BIT(STK_HTTP_FAIL_RATE), 10000);
	struct stk_table *s = table(STK_STRING, 32, 10, 0,
	    BIT(STK_CONN_CNT), 0);
	struct stk_table *i6 = table(STK_IPV6, 16, 10, 0, 0, 0);
	struct stk_table *in = table(STK_INTEGER, 8, 10, 0, 0, 0);
	struct sockaddr_storage ss = addr("127.0.0.1");
	struct stk_key k;
	char got[2048];
	const char *want;
	int a;

	want = "# table: fe, type: ip, size:102400, used:0\n\n";
	CHECK(strcmp(dump_text(t, got, sizeof(got)), want) == 0,
	    "empty: [%s]", got);
	now = 0;
	CHECK(stk_key_addr(t, &ss, &k) == 0, "key");
	a = stk_track(t, &k);
	for (int i = 0; i < 3; i++)
		stk_count(t, a, STK_EV_HTTP_REQ, 1);
	stk_untrack(t, a);
	now = 189;
	want = "# table: fe, type: ip, size:102400, used:1\n"
	    "@: key=127.0.0.1 use=0 exp=29811 server_id=0 gpc0=0 conn_cnt=1 "
	    "conn_cur=0 http_req_rate(10000)=3 bytes_out_cnt=0 "
	    "http_fail_rate(10000)=0\n\n";
	CHECK(strcmp(dump_text(t, got, sizeof(got)), want) == 0,
	    "ip: [%s]", got);

	now = 0;
	k = str_key(s, "a b=c\\d");
	a = stk_track(s, &k);
	k = str_key(s, "zed");
	(void)stk_track(s, &k);
	want = "# table: fe, type: string, size:10, used:2\n"
	    "@: key=a\\ b\\=c\\\\d use=1 exp=0 conn_cnt=1\n"
	    "@: key=zed use=1 exp=0 conn_cnt=1\n\n";
	CHECK(strcmp(dump_text(s, got, sizeof(got)), want) == 0,
	    "string: [%s]", got);

	CHECK(stk_key_addr(i6, &ss, &k) == 0, "key6");
	(void)stk_track(i6, &k);
	want = "# table: fe, type: ipv6, size:10, used:1\n"
	    "@: key=::ffff:127.0.0.1 use=1 exp=0\n\n";
	CHECK(strcmp(dump_text(i6, got, sizeof(got)), want) == 0,
	    "ipv6: [%s]", got);
	k = int_key(-42);
	(void)stk_track(in, &k);
	want = "# table: fe, type: integer, size:10, used:1\n"
	    "@: key=-42 use=1 exp=0\n\n";
	CHECK(strcmp(dump_text(in, got, sizeof(got)), want) == 0,
	    "integer: [%s]", got);
	CHECK(stk_dump(in, -1) == -1, "a failed write is not an error");
}

/* ---- mappings ---- */

static void
case_map(void)
{
	struct stk_def a, b;
	char err[256];
	struct stk_table *first;

	memset(&a, 0, sizeof(a));
	a.name = "fe";
	a.type = STK_IP;
	a.key_len = 4;
	a.size = 100;
	a.stored = BIT(STK_HTTP_REQ_RATE);
	a.period_ms[STK_HTTP_REQ_RATE] = 10000;
	a.period_ms[STK_SESS_RATE] = 1;         /* not stored: ignored */
	CHECK(stk_map(&a, NULL, err, sizeof(err)) == 0, "map: %s", err);
	first = a.shm;
	b = a;
	b.shm = NULL;
	b.period_ms[STK_SESS_RATE] = 2;
	CHECK(stk_map(&b, &a, err, sizeof(err)) == 0 && b.shm == first,
	    "the same definition not shared");
	stk_unref(a.shm);       /* the old configuration goes */
	now = 0;
	{
		struct stk_key k = str_key(first, "1.2.3.4");
		CHECK(stk_track(b.shm, &k) >= 0, "shared table after unref");
	}
	a = b;
	a.shm = NULL;
	a.period_ms[STK_HTTP_REQ_RATE] = 20000;
	CHECK(stk_map(&a, &b, err, sizeof(err)) == 0 && a.shm != b.shm,
	    "another period shared");
	CHECK(stk_entries(a.shm) == 0, "a new table has entries");
	stk_unref(a.shm);
	stk_unref(b.shm);
	a.key_len = STK_MAX_KEY + 1;
	a.type = STK_STRING;
	CHECK(stk_map(&a, NULL, err, sizeof(err)) == -1, "len too big mapped");
}

/* A big table costs only what it holds. */
static long
rss_pages(void)
{
	long size = 0, rss = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	(void)fclose(f);
	return rss;
}

static void
case_big(void)
{
	struct stk_def d;
	char err[256];
	long before, after;

	memset(&d, 0, sizeof(d));
	d.name = "big";
	d.type = STK_STRING;
	d.key_len = 32;
	d.size = STK_MAX_SIZE;
	d.stored = BIT(STK_CONN_CNT);
	printf("# bytes per entry: ip %zu, string len 32 %zu\n",
	    stk_mapping_size(&(struct stk_def){ .type = STK_IP, .key_len = 4,
	    .size = 1000000 }) / 1000000,
	    stk_mapping_size(&(struct stk_def){ .type = STK_STRING,
	    .key_len = 32, .size = 1000000 }) / 1000000);
	before = rss_pages();
	CHECK(stk_map(&d, NULL, err, sizeof(err)) == 0, "map 16M: %s", err);
	now = 0;
	for (int i = 0; i < 1000; i++) {
		char s[16];
		struct stk_key k;
		(void)snprintf(s, sizeof(s), "k%d", i);
		k = str_key(d.shm, s);
		CHECK(stk_track(d.shm, &k) >= 0, "track %s", s);
	}
	after = rss_pages();
	/* 1000 entries and their buckets: well under 4 MB */
	CHECK(after - before < 1024, "rss grew by %ld pages", after - before);
	CHECK(stk_entries(d.shm) == 1000, "entries %u", stk_entries(d.shm));
	stk_unref(d.shm);
}

/* ---- processes ---- */

static int
wait_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
case_fork(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 100, 0,
	    BIT(STK_CONN_CNT) | BIT(STK_HTTP_REQ_CNT), 1000);
	struct stk_key k = int_key(7);
	pid_t pid;

	now = 0;
	if ((pid = fork()) < 0)
		CHECK(0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int a = stk_track(t, &k);
		stk_count(t, a, STK_EV_HTTP_REQ, 1);
		stk_count(t, a, STK_EV_HTTP_REQ, 1);
		stk_untrack(t, a);
		_exit(a >= 0 ? 0 : 1);
	}
	CHECK(wait_ok(pid), "child failed");
	CHECK(lrd(t, &k, STK_HTTP_REQ_CNT) == 2, "parent reads %lld",
	    lrd(t, &k, STK_HTTP_REQ_CNT));
}

/* The real clock for cases with several processes. */
static uint64_t
real_clock(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
case_robust(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 101, 0,
	    BIT(STK_CONN_CNT), 1000);
	struct stk_key k;
	int p[2], a;
	char c;
	pid_t pid;

	now = 0;
	for (int i = 0; i < 100; i++) {
		now = (uint64_t)i;
		k = int_key(i);
		stk_untrack(t, stk_track(t, &k));
	}
	CHECK(pipe(p) == 0, "pipe");
	if ((pid = fork()) < 0)
		CHECK(0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (stk_test_lock(t, 1) < 0)
			_exit(1);
		(void)write(p[1], "x", 1);
		for (;;)
			pause();
	}
	(void)close(p[1]);
	CHECK(read(p[0], &c, 1) == 1, "the child did not lock");
	(void)close(p[0]);
	CHECK(kill(pid, SIGKILL) == 0, "kill");
	(void)wait_ok(pid);
	alarm(10);              /* a deadlock fails the case */
	now = 1000;
	k = int_key(1000);
	a = stk_track(t, &k);
	CHECK(a >= 0, "track after the owner died");
	alarm(0);
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));
	CHECK(stk_entries(t) == 101, "entries %u", stk_entries(t));
	for (int i = 0; i < 100; i++) {
		k = int_key(i);
		CHECK(lrd(t, &k, STK_CONN_CNT) == 1, "key %d lost", i);
	}
	/* full now; the recency list was rebuilt oldest first: 0 goes */
	k = int_key(2000);
	CHECK(stk_track(t, &k) >= 0, "insert into the full table");
	k = int_key(0);
	CHECK(lrd(t, &k, STK_CONN_CNT) == -999, "not the oldest evicted");
	k = int_key(1);
	CHECK(lrd(t, &k, STK_CONN_CNT) == 1, "key 1 evicted");
}

/* Children killed at random moments while they insert, evict, count
 * and delete: the table stays consistent. */
static void
case_killstorm(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 64, 50,
	    BIT(STK_CONN_CNT) | BIT(STK_CONN_CUR) | BIT(STK_HTTP_REQ_RATE),
	    1000);
	pid_t pids[4];
	const char *bad;

	stk_clock = real_clock;
	srand(42);
	for (int round = 0; round < 100; round++) {
		for (int c = 0; c < 4; c++) {
			if ((pids[c] = fork()) < 0)
				CHECK(0, "fork: %s", strerror(errno));
			if (pids[c] == 0) {
				srand((unsigned)getpid());
				for (;;) {
					struct stk_key k = int_key(rand() % 200);
					int a = stk_track(t, &k);
					stk_count(t, a, STK_EV_HTTP_REQ, 1);
					stk_untrack(t, a);
					if (rand() % 8 == 0)
						(void)clear_key(t, &k);
				}
			}
		}
		(void)usleep((useconds_t)(rand() % 3000));
		for (int c = 0; c < 4; c++) {
			(void)kill(pids[c], SIGKILL);
			(void)wait_ok(pids[c]);
		}
		alarm(10);
		bad = stk_test_check(t);
		alarm(0);
		CHECK(bad == NULL, "round %d: %s", round, bad);
	}
	CHECK(stk_entries(t) <= 64, "entries %u", stk_entries(t));
}

static void
case_many(void)
{
	struct stk_table *t = table(STK_INTEGER, 8, 100, 0,
	    BIT(STK_CONN_CNT) | BIT(STK_CONN_CUR) | BIT(STK_HTTP_REQ_CNT),
	    1000);
	struct stk_key shared_key = int_key(-1);
	pid_t pids[8];
	int ok = 1;

	stk_clock = real_clock;
	for (int c = 0; c < 8; c++) {
		if ((pids[c] = fork()) < 0)
			CHECK(0, "fork: %s", strerror(errno));
		if (pids[c] == 0) {
			struct stk_key own = int_key(c);
			for (int i = 0; i < 2000; i++) {
				int a = stk_track(t, &shared_key);
				int b = stk_track(t, &own);
				if (a < 0 || b < 0)
					_exit(1);
				stk_count(t, a, STK_EV_HTTP_REQ, 1);
				stk_untrack(t, b);
				stk_untrack(t, a);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < 8; c++)
		ok &= wait_ok(pids[c]);
	CHECK(ok, "a child failed");
	CHECK(lrd(t, &shared_key, STK_CONN_CUR) == 0, "conn_cur %lld",
	    lrd(t, &shared_key, STK_CONN_CUR));
	CHECK(lrd(t, &shared_key, STK_CONN_CNT) == 16000, "conn_cnt %lld",
	    lrd(t, &shared_key, STK_CONN_CNT));
	CHECK(lrd(t, &shared_key, STK_HTTP_REQ_CNT) == 16000,
	    "http_req_cnt %lld", lrd(t, &shared_key, STK_HTTP_REQ_CNT));
	for (int c = 0; c < 8; c++) {
		struct stk_key own = int_key(c);
		CHECK(lrd(t, &own, STK_CONN_CNT) == 2000 &&
		    lrd(t, &own, STK_CONN_CUR) == 0, "key %d", c);
	}
	{
		int a = stk_track(t, &shared_key);
		CHECK(stk_trackers(t, a) == 1, "use %d", stk_trackers(t, a));
	}
	CHECK(stk_test_check(t) == NULL, "check: %s", stk_test_check(t));
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "rates", case_rates },
	{ "track", case_track },
	{ "gpc_rate", case_gpc_rate },
	{ "expire", case_expire },
	{ "evict", case_evict },
	{ "nopurge", case_nopurge },
	{ "keys", case_keys },
	{ "dump", case_dump },
	{ "map", case_map },
	{ "big", case_big },
	{ "fork", case_fork },
	{ "robust", case_robust },
	{ "killstorm", case_killstorm },
	{ "many", case_many },
};

static int
run_case(int i)
{
	failure[0] = '\0';
	stk_clock = test_clock;
	cases[i].run();
	for (int d = 0; d < ndefs && d < 16; d++)
		stk_unref(defs[d].shm);
	ndefs = 0;
	if (failure[0] != '\0') {
		printf("not ok %s: %s\n", cases[i].name, failure);
		return 1;
	}
	printf("ok %s\n", cases[i].name);
	return 0;
}

int
main(int argc, char **argv)
{
	int ncases = (int)(sizeof(cases) / sizeof(cases[0]));
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		for (int i = 0; i < ncases; i++)
			failed |= run_case(i);
		return failed;
	}
	for (int a = 1; a < argc; a++) {
		int i;
		for (i = 0; i < ncases; i++)
			if (strcmp(argv[a], cases[i].name) == 0)
				break;
		if (i == ncases) {
			(void)fprintf(stderr, "stktest: no case %s\n", argv[a]);
			return 2;
		}
		failed |= run_case(i);
	}
	return failed;
}
