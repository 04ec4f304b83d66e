/*
 * sticktable.c - stick tables (reference 13) shared by every process.
 *
 * A table is one anonymous MAP_SHARED mapping, made by the parent and
 * inherited by every child it forks:
 *
 *	struct shared         the lock, the entry count, the recency list's
 *	                      ends, the free list and the high-water mark
 *	buckets[nbuckets]     hash index: heads of chains of entries
 *	entries[size]         fixed-size records (struct entry + key bytes)
 *
 * Links (chain, recency list, free list, bucket heads) hold an entry's
 * index + 1, so that 0 means "none" and fresh zero pages need no
 * initialising: entries are only touched as they are first used, up to
 * the high-water mark, and a big table costs only what it holds.
 *
 * What private memory holds (struct stk_table) is the parent's handle:
 * a copy of the definition, the geometry and a reference count. The
 * children inherit a copy made at fork and never change it.
 *
 * Everything is done under one robust process-shared mutex. A process
 * killed while it holds it leaves the next locker EOWNERDEAD; that one
 * rebuilds the index, the recency list and the free list from the
 * entries (their in-use flags and keys), which are the only truth: an
 * entry is inserted by filling it and linking it, and its in-use flag is
 * set last; it is deleted by clearing the flag first. A half-done insert
 * is thus forgotten, a half-done delete completed. A counter the dead
 * process was changing may be off by that one update.
 *
 * The recency list is in order of last touch (oldest first), since every
 * touch moves an entry to its end under the lock with a monotonic clock.
 * Expiry walks it from the old end and stops at the first entry touched
 * within the expiry; a held entry met on the way cannot expire and is
 * moved to the end as it is, so that long-held entries are not walked
 * again and again (its touch when it is let go puts it in order again).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sticktable.h"

/* Plain counters and rates, each in its own array of an entry. */
enum {
	C_CONN_CNT, C_CONN_CUR, C_SESS_CNT, C_HTTP_REQ_CNT, C_HTTP_ERR_CNT,
	C_HTTP_FAIL_CNT, C_BYTES_IN_CNT, C_BYTES_OUT_CNT, C_GPC0, C_GPC1,
	C_GPT0, C_SERVER_ID, NCOUNTERS
};
enum {
	R_CONN, R_SESS, R_HTTP_REQ, R_HTTP_ERR, R_HTTP_FAIL, R_BYTES_IN,
	R_BYTES_OUT, R_GPC0, R_GPC1, NRATES
};

/* Where each data type lives in an entry, and its name in a dump. */
static const struct {
	const char *name;
	int is_rate;
	int slot;
} data_info[STK_NDATA] = {
	[STK_CONN_CNT] = { "conn_cnt", 0, C_CONN_CNT },
	[STK_CONN_CUR] = { "conn_cur", 0, C_CONN_CUR },
	[STK_CONN_RATE] = { "conn_rate", 1, R_CONN },
	[STK_SESS_CNT] = { "sess_cnt", 0, C_SESS_CNT },
	[STK_SESS_RATE] = { "sess_rate", 1, R_SESS },
	[STK_HTTP_REQ_CNT] = { "http_req_cnt", 0, C_HTTP_REQ_CNT },
	[STK_HTTP_REQ_RATE] = { "http_req_rate", 1, R_HTTP_REQ },
	[STK_HTTP_ERR_CNT] = { "http_err_cnt", 0, C_HTTP_ERR_CNT },
	[STK_HTTP_ERR_RATE] = { "http_err_rate", 1, R_HTTP_ERR },
	[STK_HTTP_FAIL_CNT] = { "http_fail_cnt", 0, C_HTTP_FAIL_CNT },
	[STK_HTTP_FAIL_RATE] = { "http_fail_rate", 1, R_HTTP_FAIL },
	[STK_BYTES_IN_CNT] = { "bytes_in_cnt", 0, C_BYTES_IN_CNT },
	[STK_BYTES_IN_RATE] = { "bytes_in_rate", 1, R_BYTES_IN },
	[STK_BYTES_OUT_CNT] = { "bytes_out_cnt", 0, C_BYTES_OUT_CNT },
	[STK_BYTES_OUT_RATE] = { "bytes_out_rate", 1, R_BYTES_OUT },
	[STK_GPC0] = { "gpc0", 0, C_GPC0 },
	[STK_GPC0_RATE] = { "gpc0_rate", 1, R_GPC0 },
	[STK_GPC1] = { "gpc1", 0, C_GPC1 },
	[STK_GPC1_RATE] = { "gpc1_rate", 1, R_GPC1 },
	[STK_GPT0] = { "gpt0", 0, C_GPT0 },
	[STK_SERVER_ID] = { "server_id", 0, C_SERVER_ID },
};

/* 2.6's internal order: the order of "show table". */
static const enum stk_data dump_order[STK_NDATA] = {
	STK_SERVER_ID, STK_GPT0, STK_GPC0, STK_GPC0_RATE, STK_CONN_CNT,
	STK_CONN_RATE, STK_CONN_CUR, STK_SESS_CNT, STK_SESS_RATE,
	STK_HTTP_REQ_CNT, STK_HTTP_REQ_RATE, STK_HTTP_ERR_CNT,
	STK_HTTP_ERR_RATE, STK_BYTES_IN_CNT, STK_BYTES_IN_RATE,
	STK_BYTES_OUT_CNT, STK_BYTES_OUT_RATE, STK_GPC1, STK_GPC1_RATE,
	STK_HTTP_FAIL_CNT, STK_HTTP_FAIL_RATE
};

/* What an event counts: a counter and a rate (STK_NDATA: none). */
static const struct {
	enum stk_data cnt, rate;
} event_data[] = {
	[STK_EV_SESS] = { STK_SESS_CNT, STK_SESS_RATE },
	[STK_EV_HTTP_REQ] = { STK_HTTP_REQ_CNT, STK_HTTP_REQ_RATE },
	[STK_EV_HTTP_ERR] = { STK_HTTP_ERR_CNT, STK_HTTP_ERR_RATE },
	[STK_EV_HTTP_FAIL] = { STK_HTTP_FAIL_CNT, STK_HTTP_FAIL_RATE },
	[STK_EV_BYTES_IN] = { STK_BYTES_IN_CNT, STK_BYTES_IN_RATE },
	[STK_EV_BYTES_OUT] = { STK_BYTES_OUT_CNT, STK_BYTES_OUT_RATE },
	[STK_EV_GPC0] = { STK_GPC0, STK_GPC0_RATE },
	[STK_EV_GPC1] = { STK_GPC1, STK_GPC1_RATE },
};

/* A frequency counter (13.4). */
struct freq {
	uint64_t curr;          /* events in the current period */
	uint64_t prev;          /* events in the previous one */
	uint64_t tick;          /* start of the current period (ms) */
};

/* One entry; its key's bytes follow it (the table's key_len of them). */
struct entry {
	uint64_t touch_ms;      /* last created or touched */
	int64_t cnt[NCOUNTERS];
	struct freq rate[NRATES];
	int32_t use;            /* trackers holding it */
	uint32_t next;          /* hash chain, or free list */
	uint32_t older, newer;  /* recency list */
	uint16_t key_len;
	uint8_t in_use;         /* the commit point: see set_in_use() */
};

/* The head of the mapping. */
struct shared {
	pthread_mutex_t lock;
	uint32_t count;         /* entries in use */
	uint32_t hwm;           /* entries [0, hwm) have been used */
	uint32_t free_head;     /* entries below hwm not in use */
	uint32_t oldest, newest;
};

/* The parent's handle on a mapping; children inherit a copy. */
struct stk_table {
	int refs;
	struct stk_def def;     /* a copy; name is ours, shm is us */
	struct shared *sh;
	uint32_t *buckets;
	unsigned char *entries;
	size_t stride;          /* bytes per entry */
	uint32_t bucket_mask;
	size_t map_len;
};

static uint64_t clock_ms(void);
uint64_t (*stk_clock)(void) = clock_ms;

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; 0 keeps
	 * every counter sane if it ever did */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- geometry ---- */

static size_t
align_up(size_t n, size_t alignment)
{
	return (n + alignment - 1) / alignment * alignment;
}

static size_t
entry_stride(const struct stk_def *def)
{
	return align_up(sizeof(struct entry) + def->key_len,
	    _Alignof(struct entry));
}

static uint32_t
bucket_count(const struct stk_def *def)
{
	uint32_t n = 1;

	while (n < def->size && n < STK_MAX_SIZE)
		n <<= 1;
	return n;
}

static size_t
buckets_offset(void)
{
	return align_up(sizeof(struct shared), _Alignof(uint32_t));
}

static size_t
entries_offset(const struct stk_def *def)
{
	return align_up(buckets_offset() +
	    (size_t)bucket_count(def) * sizeof(uint32_t),
	    _Alignof(struct entry));
}

size_t
stk_mapping_size(const struct stk_def *def)
{
	return entries_offset(def) + (size_t)def->size * entry_stride(def);
}

/* ---- entries and links ---- */

static struct entry *
entry_at(const struct stk_table *t, uint32_t idx)
{
	return (struct entry *)(void *)(t->entries + (size_t)idx * t->stride);
}

/* link (index + 1, 0: none) to an entry */
static struct entry *
linked(const struct stk_table *t, uint32_t link)
{
	return link == 0 ? NULL : entry_at(t, link - 1);
}

static unsigned char *
key_of(struct entry *e)
{
	return (unsigned char *)(e + 1);
}

static uint32_t
link_of(const struct stk_table *t, const struct entry *e)
{
	return (uint32_t)(((const unsigned char *)e - t->entries) /
	    t->stride) + 1;
}

/*
 * The commit point of inserts and deletes. A killed process stops
 * between two instructions and what it stored before stays; the fences
 * keep the compiler from moving the other stores across this one, so
 * that everything an insert filled in precedes the flag, and a delete
 * clears the flag before it unlinks anything.
 */
static void
set_in_use(struct entry *e, uint8_t v)
{
	atomic_signal_fence(memory_order_seq_cst);
	*(volatile uint8_t *)&e->in_use = v;
	atomic_signal_fence(memory_order_seq_cst);
}

static uint32_t
hash_key(const unsigned char *bytes, unsigned len)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (unsigned i = 0; i < len; i++)
		h = (h ^ bytes[i]) * 16777619u;
	return h ^ len;
}

static uint32_t *
bucket_of(const struct stk_table *t, const unsigned char *bytes,
    unsigned len)
{
	return &t->buckets[hash_key(bytes, len) & t->bucket_mask];
}

static void
lru_unlink(const struct stk_table *t, struct entry *e)
{
	struct shared *sh = t->sh;
	struct entry *o = linked(t, e->older), *n = linked(t, e->newer);

	if (o != NULL)
		o->newer = e->newer;
	else
		sh->oldest = e->newer;
	if (n != NULL)
		n->older = e->older;
	else
		sh->newest = e->older;
	e->older = e->newer = 0;
}

static void
lru_append(const struct stk_table *t, struct entry *e)
{
	struct shared *sh = t->sh;
	uint32_t l = link_of(t, e);
	struct entry *last = linked(t, sh->newest);

	e->older = sh->newest;
	e->newer = 0;
	if (last != NULL)
		last->newer = l;
	else
		sh->oldest = l;
	sh->newest = l;
}

static void
hash_unlink(const struct stk_table *t, struct entry *e)
{
	uint32_t *link = bucket_of(t, key_of(e), e->key_len);
	uint32_t l = link_of(t, e);

	while (*link != 0 && *link != l)
		link = &linked(t, *link)->next;
	if (*link == l)
		*link = e->next;
	e->next = 0;
}

/* Deletes e: flag first (see the top of the file). */
static void
entry_delete(const struct stk_table *t, struct entry *e)
{
	struct shared *sh = t->sh;

	set_in_use(e, 0);
	hash_unlink(t, e);
	lru_unlink(t, e);
	e->next = sh->free_head;
	sh->free_head = link_of(t, e);
	sh->count--;
}

static int
expired(const struct stk_table *t, const struct entry *e, uint64_t now)
{
	return t->def.expire_ms != 0 && now - e->touch_ms >= t->def.expire_ms;
}

static void
touch(const struct stk_table *t, struct entry *e, uint64_t now)
{
	e->touch_ms = now;
	lru_unlink(t, e);
	lru_append(t, e);
}

/* Deletes the expired entries no one holds (see the top of the file). */
static void
purge_expired(const struct stk_table *t, uint64_t now)
{
	uint32_t n = t->sh->count;
	struct entry *e;

	/* n bounds the walk: held entries go round to the end once */
	while (n-- > 0 && (e = linked(t, t->sh->oldest)) != NULL &&
	    expired(t, e, now)) {
		if (e->use > 0) {
			lru_unlink(t, e);
			lru_append(t, e);
		} else
			entry_delete(t, e);
	}
}

/* ---- rebuilding after a process died holding the lock ---- */

/* Merges two recency lists linked by "newer", oldest touch first. */
static uint32_t
merge_by_touch(const struct stk_table *t, uint32_t a, uint32_t b)
{
	uint32_t head = 0, *tail = &head;

	while (a != 0 && b != 0) {
		struct entry *ea = linked(t, a), *eb = linked(t, b);
		if (ea->touch_ms <= eb->touch_ms) {
			*tail = a;
			tail = &ea->newer;
			a = ea->newer;
		} else {
			*tail = b;
			tail = &eb->newer;
			b = eb->newer;
		}
	}
	*tail = a != 0 ? a : b;
	return head;
}

/* Sorts a list linked by "newer" by touch (merge sort: no memory). */
static uint32_t
sort_by_touch(const struct stk_table *t, uint32_t head)
{
	uint32_t slow = head, fast, second;

	if (head == 0 || linked(t, head)->newer == 0)
		return head;
	fast = linked(t, head)->newer;
	while (fast != 0 && linked(t, fast)->newer != 0) {
		slow = linked(t, slow)->newer;
		fast = linked(t, linked(t, fast)->newer)->newer;
	}
	second = linked(t, slow)->newer;
	linked(t, slow)->newer = 0;
	return merge_by_touch(t, sort_by_touch(t, head),
	    sort_by_touch(t, second));
}

/* The index, the recency list, the free list and the count, anew from
 * the entries' in-use flags and keys. */
static void
rebuild(const struct stk_table *t)
{
	struct shared *sh = t->sh;
	uint32_t head = 0, prev = 0, hwm = sh->hwm;

	if (hwm > t->def.size)
		hwm = sh->hwm = t->def.size;
	memset(t->buckets, 0, (size_t)(t->bucket_mask + 1) * sizeof(uint32_t));
	sh->count = 0;
	sh->free_head = 0;
	for (uint32_t i = hwm; i-- > 0;) {
		struct entry *e = entry_at(t, i);
		if (!e->in_use) {
			e->next = sh->free_head;
			sh->free_head = i + 1;
			continue;
		}
		uint32_t *b = bucket_of(t, key_of(e), e->key_len);
		e->next = *b;
		*b = i + 1;
		e->newer = head;
		head = i + 1;
		sh->count++;
	}
	head = sort_by_touch(t, head);
	sh->oldest = head;
	for (uint32_t l = head; l != 0; l = linked(t, l)->newer) {
		linked(t, l)->older = prev;
		prev = l;
	}
	sh->newest = prev;
}

/* Locks t: 0, or -1 (logged) when the lock cannot be had. */
static int
lock(const struct stk_table *t)
{
	int rc = pthread_mutex_lock(&t->sh->lock);

	if (rc == EOWNERDEAD) {
		log_warnx("stick-table %s: a process died updating it, "
		    "rebuilt", t->def.name);
		rebuild(t);
		if ((rc = pthread_mutex_consistent(&t->sh->lock)) != 0) {
			/* cannot happen with a robust mutex we own; if it
			 * did, unlocking makes the lock unusable, loudly */
			log_warnx("stick-table %s: consistent: %s",
			    t->def.name, strerror(rc));
			(void)pthread_mutex_unlock(&t->sh->lock);
			return -1;
		}
	}
	if (rc != 0) {
		log_warnx("stick-table %s: lock: %s", t->def.name,
		    strerror(rc));
		return -1;
	}
	return 0;
}

static void
unlock(const struct stk_table *t)
{
	int rc = pthread_mutex_unlock(&t->sh->lock);

	if (rc != 0)
		log_warnx("stick-table %s: unlock: %s", t->def.name,
		    strerror(rc));
}

#ifdef STK_TEST
/* test/stktest.c: takes the lock and leaves it held; scramble: also
 * wrecks the index and the lists, as a process killed mid-update may. */
int stk_test_lock(struct stk_table *t, int scramble);
int
stk_test_lock(struct stk_table *t, int scramble)
{
	if (lock(t) < 0)
		return -1;
	if (scramble) {
		memset(t->buckets, 0xff,
		    (size_t)(t->bucket_mask + 1) * sizeof(uint32_t));
		t->sh->oldest = t->sh->newest = 0;
		t->sh->free_head = 0;
		t->sh->count = 12345;
	}
	return 0;
}

/* test/stktest.c: NULL when the index and the lists agree with the
 * entries, else what is wrong. */
const char *stk_test_check(struct stk_table *t);
const char *
stk_test_check(struct stk_table *t)
{
	struct shared *sh = t->sh;
	uint32_t used = 0, n = 0, prev = 0;
	const char *bad = NULL;

	if (lock(t) < 0)
		return "lock";
	for (uint32_t i = 0; i < sh->hwm && !bad; i++) {
		struct entry *e = entry_at(t, i);
		used += e->in_use;
		if (e->in_use && (t->def.type == STK_STRING ?
		    e->key_len > t->def.key_len :
		    e->key_len != t->def.key_len))
			bad = "key length";
	}
	if (!bad && used != sh->count)
		bad = "count";
	for (uint32_t b = 0; b <= t->bucket_mask && !bad; b++)
		for (uint32_t l = t->buckets[b]; l != 0 && !bad;
		    l = linked(t, l)->next, n++) {
			struct entry *e = linked(t, l);
			if (l > sh->hwm || !e->in_use || n > used)
				bad = "hash chain";
			else if (bucket_of(t, key_of(e), e->key_len) !=
			    &t->buckets[b])
				bad = "hash bucket";
		}
	if (!bad && n != used)
		bad = "hash entries";
	n = 0;
	for (uint32_t l = sh->oldest; l != 0 && !bad;
	    prev = l, l = linked(t, l)->newer, n++)
		if (l > sh->hwm || !linked(t, l)->in_use ||
		    linked(t, l)->older != prev || n > used)
			bad = "recency list";
	if (!bad && (n != used || sh->newest != prev))
		bad = "recency ends";
	n = 0;
	for (uint32_t l = sh->free_head; l != 0 && !bad;
	    l = linked(t, l)->next, n++)
		if (l > sh->hwm || linked(t, l)->in_use || n > sh->hwm)
			bad = "free list";
	if (!bad && n != sh->hwm - used)
		bad = "free count";
	unlock(t);
	return bad;
}
#endif

/* ---- mapping ---- */

static int
init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	int rc;

	if ((rc = pthread_mutexattr_init(&attr)) != 0)
		return rc;
	if ((rc = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) == 0 &&
	    (rc = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) == 0)
		rc = pthread_mutex_init(m, &attr);
	(void)pthread_mutexattr_destroy(&attr);
	return rc;
}

/* The same table, for prev's mapping to carry on into def. */
static int
same_def(const struct stk_def *a, const struct stk_def *b)
{
	if (a->type != b->type || a->key_len != b->key_len ||
	    a->size != b->size || a->expire_ms != b->expire_ms ||
	    (a->nopurge != 0) != (b->nopurge != 0) || a->stored != b->stored)
		return 0;
	for (int d = 0; d < STK_NDATA; d++)
		if ((a->stored & (1u << d)) && data_info[d].is_rate &&
		    a->period_ms[d] != b->period_ms[d])
			return 0;
	return 1;
}

int
stk_map(struct stk_def *def, const struct stk_def *prev, char *err,
    size_t errlen)
{
	struct stk_table *t;
	size_t len;
	void *map;
	int rc;

	if (prev != NULL && prev->shm != NULL && same_def(def, prev)) {
		def->shm = prev->shm;
		stk_ref(def->shm);
		return 0;
	}
	if (def->key_len > STK_MAX_KEY || def->size > STK_MAX_SIZE) {
		(void)snprintf(err, errlen, "stick-table: len or size too big");
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->def.name = strdup(def->name ? def->name : "")) == NULL) {
		(void)snprintf(err, errlen, "stick-table: %s", strerror(errno));
		free(t);
		return -1;
	}
	len = stk_mapping_size(def);
	/* MAP_NORESERVE: only the pages entries come to use are counted */
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		(void)snprintf(err, errlen, "stick-table: mmap %zu bytes: %s",
		    len, strerror(errno));
		goto err;
	}
	if ((rc = init_lock(map)) != 0) {
		(void)snprintf(err, errlen, "stick-table: mutex: %s",
		    strerror(rc));
		if (munmap(map, len) < 0)
			log_warn("munmap stick-table");
		goto err;
	}
	t->refs = 1;
	t->def.line = def->line;
	t->def.type = def->type;
	t->def.key_len = def->key_len;
	t->def.size = def->size;
	t->def.expire_ms = def->expire_ms;
	t->def.nopurge = def->nopurge;
	t->def.stored = def->stored;
	memcpy(t->def.period_ms, def->period_ms, sizeof(t->def.period_ms));
	t->def.shm = t;
	t->sh = map;
	t->buckets = (uint32_t *)(void *)((char *)map + buckets_offset());
	t->entries = (unsigned char *)map + entries_offset(def);
	t->stride = entry_stride(def);
	t->bucket_mask = bucket_count(def) - 1;
	t->map_len = len;
	def->shm = t;
	return 0;
err:
	free(t->def.name);
	free(t);
	return -1;
}

void
stk_ref(struct stk_table *t)
{
	t->refs++;
}

void
stk_unref(struct stk_table *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	/* no one may hold the lock now: the parent's last reference goes
	 * when no child of that configuration is left */
	(void)pthread_mutex_destroy(&t->sh->lock);
	if (munmap(t->sh, t->map_len) < 0)
		log_warn("munmap stick-table %s", t->def.name);
	free(t->def.name);
	free(t);
}

/* ---- keys ---- */

static int
key_ipv4(const struct stk_table *t, const struct in_addr *a,
    struct stk_key *key)
{
	char text[INET_ADDRSTRLEN];
	uint64_t v;
	int64_t n;

	memset(key, 0, sizeof(*key));
	switch (t->def.type) {
	case STK_IP:
		memcpy(key->bytes, a, 4);
		key->len = 4;
		return 0;
	case STK_IPV6:
		key->bytes[10] = key->bytes[11] = 0xff;
		memcpy(key->bytes + 12, a, 4);
		key->len = 16;
		return 0;
	case STK_INTEGER:
		v = ntohl(a->s_addr);
		n = (int64_t)v;
		memcpy(key->bytes, &n, sizeof(n));
		key->len = sizeof(n);
		return 0;
	case STK_STRING:
		if (inet_ntop(AF_INET, a, text, sizeof(text)) == NULL)
			return -1;
		return stk_key_str(t, text, strlen(text), key);
	}
	return -1;
}

static int
key_ipv6(const struct stk_table *t, const struct in6_addr *a,
    struct stk_key *key)
{
	char text[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(a) && t->def.type != STK_STRING) {
		struct in_addr a4;
		memcpy(&a4, &a->s6_addr[12], 4);
		return key_ipv4(t, &a4, key);
	}
	switch (t->def.type) {
	case STK_IPV6:
		memset(key, 0, sizeof(*key));
		memcpy(key->bytes, a, 16);
		key->len = 16;
		return 0;
	case STK_STRING:
		if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
			return -1;
		return stk_key_str(t, text, strlen(text), key);
	default:
		return -1;      /* 2.6: an IPv6 client is not tracked */
	}
}

int
stk_key_addr(const struct stk_table *t, const struct sockaddr_storage *ss,
    struct stk_key *key)
{
	if (ss->ss_family == AF_INET)
		return key_ipv4(t,
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr,
		    key);
	if (ss->ss_family == AF_INET6)
		return key_ipv6(t,
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr,
		    key);
	return -1;
}

/* 2.6's read_int64: a sign, leading digits; -1 when there are none. */
static int
parse_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == len || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if (v <= (uint64_t)INT64_MAX)
			v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > (uint64_t)INT64_MAX)
		v = (uint64_t)INT64_MAX;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int
stk_key_str(const struct stk_table *t, const char *s, size_t len,
    struct stk_key *key)
{
	char text[INET6_ADDRSTRLEN];
	struct in_addr a4;
	struct in6_addr a6;
	int64_t n;

	memset(key, 0, sizeof(*key));
	switch (t->def.type) {
	case STK_STRING:
		if (len > t->def.key_len)
			len = t->def.key_len;
		memcpy(key->bytes, s, len);
		key->len = (unsigned)len;
		return 0;
	case STK_INTEGER:
		if (parse_int(s, len, &n) < 0)
			return -1;
		memcpy(key->bytes, &n, sizeof(n));
		key->len = sizeof(n);
		return 0;
	case STK_IP:
	case STK_IPV6:
		if (len >= sizeof(text) || memchr(s, '\0', len) != NULL)
			return -1;
		memcpy(text, s, len);
		text[len] = '\0';
		if (inet_pton(AF_INET, text, &a4) == 1)
			return key_ipv4(t, &a4, key);
		if (inet_pton(AF_INET6, text, &a6) == 1)
			return key_ipv6(t, &a6, key);
		return -1;
	}
	return -1;
}

/* ---- lookups and inserts (t locked) ---- */

/* A key of t's type and length. */
static int
key_fits(const struct stk_table *t, const struct stk_key *key)
{
	if (t->def.type == STK_STRING)
		return key->len <= t->def.key_len;
	return key->len == t->def.key_len;
}

/* The live entry of key, or NULL; an expired one is deleted. */
static struct entry *
lookup(const struct stk_table *t, const struct stk_key *key, uint64_t now)
{
	uint32_t l = *bucket_of(t, key->bytes, key->len);

	for (struct entry *e; (e = linked(t, l)) != NULL; l = e->next) {
		if (!e->in_use || e->key_len != key->len ||
		    memcmp(key_of(e), key->bytes, key->len) != 0)
			continue;
		if (e->use == 0 && expired(t, e, now)) {
			entry_delete(t, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* Makes room when t is full: the oldest entry no one holds goes. */
static int
evict_one(const struct stk_table *t)
{
	struct entry *e;

	if (t->def.nopurge)
		return -1;
	for (e = linked(t, t->sh->oldest); e != NULL; e = linked(t, e->newer))
		if (e->use == 0) {
			entry_delete(t, e);
			return 0;
		}
	return -1;
}

/* A free record: from the free list, else one never used. */
static struct entry *
take_free(const struct stk_table *t)
{
	struct shared *sh = t->sh;
	struct entry *e;

	if ((e = linked(t, sh->free_head)) != NULL) {
		sh->free_head = e->next;
		return e;
	}
	if (sh->hwm < t->def.size)
		return entry_at(t, sh->hwm++);
	return NULL;
}

/* A new entry for key (t has no live one), or NULL when t is full. */
static struct entry *
insert(const struct stk_table *t, const struct stk_key *key, uint64_t now)
{
	struct entry *e;
	uint32_t *b;

	purge_expired(t, now);
	if (t->sh->count >= t->def.size && evict_one(t) < 0)
		return NULL;
	if ((e = take_free(t)) == NULL)
		return NULL;
	memset(e, 0, t->stride);
	memcpy(key_of(e), key->bytes, key->len);
	e->key_len = (uint16_t)key->len;
	e->touch_ms = now;
	b = bucket_of(t, key->bytes, key->len);
	e->next = *b;
	*b = link_of(t, e);
	lru_append(t, e);
	t->sh->count++;
	set_in_use(e, 1);
	return e;
}

/* Entry idx if it is one in use (trackers' indexes are, while held). */
static struct entry *
held(const struct stk_table *t, int idx)
{
	struct entry *e;

	if (idx < 0 || (unsigned)idx >= t->sh->hwm)
		return NULL;
	e = entry_at(t, (uint32_t)idx);
	return e->in_use ? e : NULL;
}

/* ---- counters ---- */

static int
stores(const struct stk_table *t, enum stk_data d)
{
	return (unsigned)d < STK_NDATA && (t->def.stored & (1u << d)) != 0;
}

static uint64_t
period_of(const struct stk_table *t, enum stk_data d)
{
	/* a zero period would divide by zero; the parser refuses it */
	return t->def.period_ms[d] ? t->def.period_ms[d] : 1;
}

/* 13.4's update. */
static void
freq_add(struct freq *f, uint64_t now, uint64_t period, uint64_t n)
{
	if (f->curr == 0 && f->prev == 0 && f->tick == 0)
		f->tick = now;  /* a fresh counter starts at its first event */
	if (now < f->tick)
		now = f->tick;
	if (now - f->tick < period) {
		f->curr += n;
		return;
	}
	f->prev = f->curr;
	f->curr = n;
	f->tick += period;
	if (now - f->tick >= period) {  /* a whole period without events */
		f->prev = 0;
		f->tick = now;
	}
}

/* 13.4's read: (prev * remain + curr * P) / P, split so that a large
 * prev does not overflow. */
static uint64_t
freq_read(const struct freq *f, uint64_t now, uint64_t period)
{
	uint64_t curr = f->curr, prev = f->prev;
	int64_t remain;

	if (now < f->tick)
		now = f->tick;
	remain = (int64_t)(f->tick + period - now);
	if (remain < 0) {
		remain += (int64_t)period;
		prev = curr;
		curr = 0;
		if (remain < 0)
			prev = 0;
	}
	if (curr == 0 && prev <= 1)
		return prev;    /* no flapping between 0 and 1 */
	return curr + prev / period * (uint64_t)remain +
	    prev % period * (uint64_t)remain / period;
}

/* Adds n to data d of e if t stores it. */
static void
add(const struct stk_table *t, struct entry *e, enum stk_data d,
    uint64_t n, uint64_t now)
{
	if (!stores(t, d))
		return;
	if (data_info[d].is_rate)
		freq_add(&e->rate[data_info[d].slot], now, period_of(t, d), n);
	else
		e->cnt[data_info[d].slot] += (int64_t)n;
}

static long long
value_of(const struct stk_table *t, const struct entry *e, enum stk_data d,
    uint64_t now)
{
	if (data_info[d].is_rate)
		return (long long)freq_read(&e->rate[data_info[d].slot], now,
		    period_of(t, d));
	return e->cnt[data_info[d].slot];
}

/* ---- tracking ---- */

int
stk_track(struct stk_table *t, const struct stk_key *key)
{
	struct entry *e;
	uint64_t now;
	int idx = -1;

	if (!key_fits(t, key) || lock(t) < 0)
		return -1;
	now = stk_clock();
	if ((e = lookup(t, key, now)) == NULL)
		e = insert(t, key, now);
	if (e != NULL) {
		e->use++;
		add(t, e, STK_CONN_CNT, 1, now);
		add(t, e, STK_CONN_CUR, 1, now);
		add(t, e, STK_CONN_RATE, 1, now);
		touch(t, e, now);
		idx = (int)(link_of(t, e) - 1);
	}
	unlock(t);
	return idx;
}

void
stk_untrack(struct stk_table *t, int idx)
{
	struct entry *e;

	if (lock(t) < 0)
		return;
	if ((e = held(t, idx)) != NULL) {
		if (stores(t, STK_CONN_CUR) && e->cnt[C_CONN_CUR] > 0)
			e->cnt[C_CONN_CUR]--;
		if (e->use > 0)
			e->use--;
		touch(t, e, stk_clock());
	}
	unlock(t);
}

void
stk_count(struct stk_table *t, int idx, enum stk_event ev, uint64_t n)
{
	struct entry *e;
	uint64_t now;

	if ((unsigned)ev >= sizeof(event_data) / sizeof(event_data[0]))
		return;
	if (ev != STK_EV_BYTES_IN && ev != STK_EV_BYTES_OUT)
		n = 1;
	if (lock(t) < 0)
		return;
	if ((e = held(t, idx)) != NULL) {
		now = stk_clock();
		add(t, e, event_data[ev].cnt, n, now);
		add(t, e, event_data[ev].rate, n, now);
		touch(t, e, now);
	}
	unlock(t);
}

int
stk_read(struct stk_table *t, int idx, enum stk_data d, long long *value)
{
	struct entry *e;
	int found = 0;

	if (!stores(t, d) || lock(t) < 0)
		return 0;
	if ((e = held(t, idx)) != NULL) {
		*value = value_of(t, e, d, stk_clock());
		found = 1;
	}
	unlock(t);
	return found;
}

int
stk_lookup_read(struct stk_table *t, const struct stk_key *key,
    enum stk_data d, long long *value)
{
	struct entry *e;
	uint64_t now;
	int found = 0;

	if (!stores(t, d) || !key_fits(t, key) || lock(t) < 0)
		return 0;
	now = stk_clock();
	if ((e = lookup(t, key, now)) != NULL) {
		*value = value_of(t, e, d, now);
		found = 1;
	}
	unlock(t);
	return found;
}

int
stk_trackers(struct stk_table *t, int idx)
{
	struct entry *e;
	int use = 0;

	if (lock(t) < 0)
		return 0;
	if ((e = held(t, idx)) != NULL)
		use = e->use;
	unlock(t);
	return use;
}

long long
stk_gpc_inc(struct stk_table *t, int idx, int which)
{
	enum stk_data gpc = which ? STK_GPC1 : STK_GPC0;
	enum stk_data rate = which ? STK_GPC1_RATE : STK_GPC0_RATE;
	struct entry *e;
	long long v = -1;
	uint64_t now;

	if ((!stores(t, gpc) && !stores(t, rate)) || lock(t) < 0)
		return -1;
	if ((e = held(t, idx)) != NULL) {
		now = stk_clock();
		add(t, e, gpc, 1, now);
		add(t, e, rate, 1, now);
		/* only the rate stored: 2.6 returns 0 */
		v = stores(t, gpc) ? e->cnt[data_info[gpc].slot] : 0;
		touch(t, e, now);
	}
	unlock(t);
	return v;
}

long long
stk_gpc_clr(struct stk_table *t, int idx, int which)
{
	enum stk_data gpc = which ? STK_GPC1 : STK_GPC0;
	struct entry *e;
	long long v = -1;

	if (!stores(t, gpc) || lock(t) < 0)
		return -1;
	if ((e = held(t, idx)) != NULL) {
		v = e->cnt[data_info[gpc].slot];
		e->cnt[data_info[gpc].slot] = 0;
		touch(t, e, stk_clock());
	}
	unlock(t);
	return v;
}

int
stk_gpt_set(struct stk_table *t, int idx, long long value)
{
	struct entry *e;
	int rc = -1;

	if (!stores(t, STK_GPT0) || lock(t) < 0)
		return -1;
	if ((e = held(t, idx)) != NULL) {
		e->cnt[C_GPT0] = value;
		touch(t, e, stk_clock());
		rc = 0;
	}
	unlock(t);
	return rc;
}

/* ---- the table as a whole ---- */

unsigned
stk_entries(struct stk_table *t)
{
	unsigned n;

	if (lock(t) < 0)
		return 0;
	purge_expired(t, stk_clock());
	n = t->sh->count;
	unlock(t);
	return n;
}

unsigned
stk_size(const struct stk_table *t)
{
	return t->def.size;
}

const struct stk_def *
stk_table_def(const struct stk_table *t)
{
	return &t->def;
}

/* "show table" and "clear table" NAME data.X OP V key K: does e pass? */
static int
entry_wanted(const struct stk_table *t, struct entry *e,
    const struct stk_filter *f, uint64_t now)
{
	long long v;

	if (f == NULL)
		return 1;
	if (f->key != NULL && (e->key_len != f->key->len ||
	    memcmp(key_of(e), f->key->bytes, f->key->len) != 0))
		return 0;
	if (f->data < 0)
		return 1;
	v = value_of(t, e, (enum stk_data)f->data, now);
	switch (f->op) {
	case STK_OP_EQ: return v == f->value;
	case STK_OP_NE: return v != f->value;
	case STK_OP_LT: return v < f->value;
	case STK_OP_LE: return v <= f->value;
	case STK_OP_GT: return v > f->value;
	default: return v >= f->value;
	}
}

int
stk_clear(struct stk_table *t, const struct stk_filter *f)
{
	struct entry *e, *next;
	uint64_t now;
	int n = 0;

	if ((f != NULL && f->key != NULL && !key_fits(t, f->key)) ||
	    lock(t) < 0)
		return 0;
	now = stk_clock();
	if (f != NULL && f->key != NULL) {
		/* one entry at most: found through the index */
		if ((e = lookup(t, f->key, now)) != NULL && e->use == 0 &&
		    entry_wanted(t, e, f, now)) {
			entry_delete(t, e);
			n = 1;
		}
	} else {
		for (e = linked(t, t->sh->oldest); e != NULL; e = next) {
			next = linked(t, e->newer);
			if (e->use == 0 && entry_wanted(t, e, f, now)) {
				entry_delete(t, e);
				n++;
			}
		}
	}
	unlock(t);
	return n;
}

/* ---- show table ---- */

/* A growing text buffer; failed set once an allocation failed. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
text_add(struct text *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *tx, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (tx->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(tx->buf + tx->len, tx->cap - tx->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			tx->failed = 1;
			return;
		}
		if ((size_t)n < tx->cap - tx->len) {
			tx->len += (size_t)n;
			return;
		}
		size_t cap = tx->cap * 2 + (size_t)n + 1;
		char *p = realloc(tx->buf, cap);
		if (p == NULL) {
			tx->failed = 1;
			return;
		}
		tx->buf = p;
		tx->cap = cap;
	}
}

static const char *
type_name(enum stk_type type)
{
	static const char *const names[] = {
		[STK_IP] = "ip", [STK_IPV6] = "ipv6",
		[STK_INTEGER] = "integer", [STK_STRING] = "string"
	};

	return (unsigned)type < 4 ? names[type] : "?";
}

/* A string key as 2.6's dump_text writes it: separators escaped. */
static void
text_key_string(struct text *tx, const unsigned char *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == ' ' || c == '=' || c == '\\')
			text_add(tx, "\\%c", c);
		else if (c == '\t')
			text_add(tx, "\\t");
		else if (c == '\n')
			text_add(tx, "\\n");
		else if (c == '\r')
			text_add(tx, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			text_add(tx, "\\x%02x", c);
		else
			text_add(tx, "%c", c);
	}
}

static void
text_key(struct text *tx, const struct stk_table *t, struct entry *e)
{
	char addr[INET6_ADDRSTRLEN];
	int64_t n;

	switch (t->def.type) {
	case STK_IP:
	case STK_IPV6:
		if (inet_ntop(t->def.type == STK_IP ? AF_INET : AF_INET6,
		    key_of(e), addr, sizeof(addr)) == NULL)
			(void)snprintf(addr, sizeof(addr), "?");
		text_add(tx, "%s", addr);
		break;
	case STK_INTEGER:
		memcpy(&n, key_of(e), sizeof(n));
		text_add(tx, "%lld", (long long)n);
		break;
	case STK_STRING:
		text_key_string(tx, key_of(e), e->key_len);
		break;
	}
}

static void
text_entry(struct text *tx, const struct stk_table *t, struct entry *e,
    uint64_t now)
{
	uint64_t exp = 0;

	if (t->def.expire_ms != 0 && now - e->touch_ms < t->def.expire_ms)
		exp = t->def.expire_ms - (now - e->touch_ms);
	text_add(tx, "0x%lx: key=", (unsigned long)(uintptr_t)e);
	text_key(tx, t, e);
	text_add(tx, " use=%d exp=%llu", e->use, (unsigned long long)exp);
	for (int i = 0; i < STK_NDATA; i++) {
		enum stk_data d = dump_order[i];
		if (!stores(t, d))
			continue;
		if (data_info[d].is_rate)
			text_add(tx, " %s(%u)=%lld", data_info[d].name,
			    t->def.period_ms[d], value_of(t, e, d, now));
		else
			text_add(tx, " %s=%lld", data_info[d].name,
			    value_of(t, e, d, now));
	}
	text_add(tx, "\n");
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
stk_data_find(const char *name)
{
	for (int d = 0; d < STK_NDATA; d++)
		if (data_info[d].name != NULL &&
		    strcmp(data_info[d].name, name) == 0)
			return d;
	return -1;
}

int
stk_stores(const struct stk_table *t, enum stk_data d)
{
	return stores(t, d);
}

int
stk_dump_filter(struct stk_table *t, int fd, const struct stk_filter *f)
{
	struct text tx = { NULL, 0, 0, 0 };
	uint64_t now;
	int rc;

	/* the text is made under the lock and written after it, so that a
	 * slow reader never holds every process up */
	if (lock(t) < 0)
		return -1;
	now = stk_clock();
	purge_expired(t, now);
	text_add(&tx, "# table: %s, type: %s, size:%u, used:%u\n",
	    t->def.name, type_name(t->def.type), t->def.size, t->sh->count);
	for (struct entry *e = linked(t, t->sh->oldest);
	    e != NULL && !(f != NULL && f->header_only);
	    e = linked(t, e->newer))
		if (entry_wanted(t, e, f, now))
			text_entry(&tx, t, e, now);
	unlock(t);
	if (f == NULL)
		text_add(&tx, "\n");
	rc = tx.failed ? -1 : write_all(fd, tx.buf, tx.len);
	free(tx.buf);
	return rc;
}

int
stk_dump(struct stk_table *t, int fd)
{
	return stk_dump_filter(t, fd, NULL);
}
