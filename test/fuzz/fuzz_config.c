/*
 * fuzz_config.c - libFuzzer target for the configuration parser
 * (config.c, with acl.c and net.c behind it).
 *
 * The input is a configuration file: it is written to a memfd and given
 * to config_load_fd(fd, "fuzz.cfg"), exactly as a reload reads it. A
 * configuration that loads is then walked (every string and array the
 * runtime would use is read, so a dangling pointer in it is reported)
 * and freed with config_free() (so a double free in it is reported).
 *
 * The harness changes nothing in the proxy's sources; it is linked with
 * -Wl,--wrap for a few functions (see fuzz.mk):
 *
 *  log_plain    the parser's diagnostics ("FILE:LINE: message", stderr):
 *               formatted into a buffer (so bad format arguments are still
 *               caught) and dropped. FUZZ_CONFIG_VERBOSE=1 prints them, to
 *               read what a crashing input means. (Redirecting fd 2 to
 *               /dev/null in-process would also swallow libFuzzer's status
 *               lines and the sanitizer reports, which share fd 2.)
 *  getaddrinfo  net.c's resolve_host() calls it for any bind/server/log
 *               address (and ACL "src"/"forwardfor except" pattern) that
 *               is not an IP literal: the harness counts the calls and
 *               answers them numerically (AI_NUMERICHOST): no DNS traffic,
 *               no resolver timeouts. The count is printed at exit.
 *  fopen        "acl ... -f FILE" opens FILE: only regular files of at most
 *               1 MiB outside /proc, /sys and /dev, so that an input naming
 *               /dev/zero or /proc/self/pagemap cannot hang the fuzzer.
 *  crypt_r      "user NAME password HASH" is checked by hashing with the
 *               hash's own cost: only cheap methods get through (see
 *               below).
 *  malloc, calloc, realloc, reallocarray, strdup, strndup, free
 *               acl.c's parser still leaves blocks behind when an input
 *               fails half-way inside an ACL or a condition:
 *               every block the parser allocates for an input is recorded
 *               and released after the input, so the fuzzer's memory stays
 *               flat over hours. Frees made by the parser itself go to the
 *               real free() at once, so a double free or a use after free
 *               inside one parse is still reported by ASan. The only state
 *               kept between inputs, acl.c's cache of predefined ACLs, is
 *               filled once in LLVMFuzzerInitialize, outside the tracking.
 *
 * Run with -detect_leaks=0 (the binary also defaults to ASan's
 * detect_leaks=0, see __asan_default_options below): the parser's
 * leftovers are released by the harness behind LeakSanitizer's back, and
 * libc (NSS for user/group) keeps caches of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "config.h"
#include "log.h"
#include "match.h"

static _Thread_local int tracking;      /* inside config_load_fd() */
static int verbose;

/* ---- allocation tracking: a set of live blocks ---- */

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__real_reallocarray(void *, size_t, size_t);
char *__real_strdup(const char *);
char *__real_strndup(const char *, size_t);
void  __real_free(void *);

void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);
void *__wrap_reallocarray(void *, size_t, size_t);
char *__wrap_strdup(const char *);
char *__wrap_strndup(const char *, size_t);
void  __wrap_free(void *);

static void **live;             /* open addressing, linear probing */
static size_t live_cap, live_n;

static size_t
slot_of(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 20) & (live_cap - 1);
}

static void
live_add(void *p);

static void
live_grow(void)
{
	void **old = live;
	size_t old_cap = live_cap;

	live_cap = live_cap ? live_cap * 2 : 1024;
	live = __real_calloc(live_cap, sizeof(*live));
	CHECK(live != NULL);
	live_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != NULL)
			live_add(old[i]);
	__real_free(old);
}

static void
live_add(void *p)
{
	size_t i;

	if (p == NULL)
		return;
	if ((live_n + 1) * 2 > live_cap)
		live_grow();
	for (i = slot_of(p); live[i] != NULL; i = (i + 1) & (live_cap - 1))
		if (live[i] == p)
			return;
	live[i] = p;
	live_n++;
}

/* Removes p (backward-shift deletion); 0 if it was not there. */
static int
live_del(void *p)
{
	size_t i, j, mask = live_cap - 1;

	if (p == NULL || live_cap == 0)
		return 0;
	for (i = slot_of(p); live[i] != p; i = (i + 1) & mask)
		if (live[i] == NULL)
			return 0;
	for (j = i;;) {
		size_t home;
		j = (j + 1) & mask;
		if (live[j] == NULL)
			break;
		home = slot_of(live[j]);
		/* can live[j] move back to i? (home not in (i, j]) */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			live[i] = live[j];
			i = j;
		}
	}
	live[i] = NULL;
	live_n--;
	return 1;
}

static void
live_release_all(void)
{
	for (size_t i = 0; i < live_cap; i++) {
		if (live[i] != NULL) {
			__real_free(live[i]);
			live[i] = NULL;
		}
	}
	live_n = 0;
	/* after a huge input, do not scan a huge table for every next one */
	if (live_cap > 4096) {
		__real_free(live);
		live = NULL;
		live_cap = 0;
	}
}

void *
__wrap_malloc(size_t n)
{
	void *p = __real_malloc(n);

	if (tracking)
		live_add(p);
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p = __real_calloc(n, size);

	if (tracking)
		live_add(p);
	return p;
}

void *
__wrap_realloc(void *old, size_t n)
{
	void *p = __real_realloc(old, n);

	if (tracking && p != NULL) {
		live_del(old);
		live_add(p);
	}
	return p;
}

void *
__wrap_reallocarray(void *old, size_t n, size_t size)
{
	void *p = __real_reallocarray(old, n, size);

	if (tracking && p != NULL) {
		live_del(old);
		live_add(p);
	}
	return p;
}

char *
__wrap_strdup(const char *s)
{
	char *p = __real_strdup(s);

	if (tracking)
		live_add(p);
	return p;
}

char *
__wrap_strndup(const char *s, size_t n)
{
	char *p = __real_strndup(s, n);

	if (tracking)
		live_add(p);
	return p;
}

void
__wrap_free(void *p)
{
	if (tracking)
		live_del(p);
	__real_free(p);
}

/* ---- diagnostics ---- */

void __wrap_log_plain(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

void
__wrap_log_plain(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (verbose)
		fprintf(stderr, "%s\n", msg);
}

/* ---- no DNS ---- */

static unsigned long dns_calls;
static char dns_example[64];

int __real_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);

int
__wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h;

	if (hints != NULL)
		h = *hints;
	else {
		memset(&h, 0, sizeof(h));
		h.ai_family = AF_UNSPEC;
	}
	h.ai_flags |= AI_NUMERICHOST;
	if (dns_calls++ == 0 && node != NULL)
		snprintf(dns_example, sizeof(dns_example), "%s", node);
	if (verbose)
		fprintf(stderr, "fuzz_config: getaddrinfo(\"%s\"), answered "
		    "numerically\n", node ? node : "(null)");
	return __real_getaddrinfo(node, service, &h, res);
}

static void
report_dns(void)
{
	if (dns_calls > 0)
		fprintf(stderr, "fuzz_config: getaddrinfo() was reached %lu "
		    "times (first name: \"%s\"); the harness answered "
		    "numerically, the proxy would have asked DNS\n",
		    dns_calls, dns_example);
}

/* ---- acl -f FILE ---- */

FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

FILE *
__wrap_fopen(const char *path, const char *mode)
{
	char real[PATH_MAX];
	struct stat st;

	if (tracking && mode[0] == 'r') {
		if (realpath(path, real) == NULL)
			return NULL;            /* errno from realpath */
		if (strncmp(real, "/proc/", 6) == 0 ||
		    strncmp(real, "/sys/", 5) == 0 ||
		    strncmp(real, "/dev/", 5) == 0 ||
		    stat(real, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size > (1 << 20)) {
			errno = EACCES;
			return NULL;
		}
		return __real_fopen(real, mode);
	}
	return __real_fopen(path, mode);
}

/* ---- crypt_r ---- */

/*
 * cfguserlist.c checks each "password HASH" by hashing with its
 * settings, and the hash names its own cost ("$6$rounds=999999999$",
 * "$2b$31$", yescrypt's parameters): minutes for one input. Only the
 * methods of fixed, small cost reach the real crypt_r (MD5, SHA-256 and
 * SHA-512 at their default rounds, DES); any other hash is answered as
 * crypt(3) answers a method it lacks, which the parser must refuse.
 */
#include <crypt.h>

char *__real_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data);
char *__wrap_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data);

char *
__wrap_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data)
{
	int cheap = strncmp(setting, "$1$", 3) == 0 ||
	    ((strncmp(setting, "$5$", 3) == 0 ||
	    strncmp(setting, "$6$", 3) == 0) &&
	    strncmp(setting + 3, "rounds=", 7) != 0) ||
	    (setting[0] != '$' && setting[0] != '_');

	if (!cheap)
		return NULL;
	return __real_crypt_r(phrase, setting, data);
}

/* ---- the target ---- */

static int
load(const uint8_t *data, size_t size, struct config **cfgp)
{
	int fd = memfd_create("fuzz.cfg", MFD_CLOEXEC);
	size_t off = 0;

	CHECK(fd >= 0);
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		CHECK(n > 0);
		off += (size_t)n;
	}
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	*cfgp = config_load_fd(fd, "fuzz.cfg");    /* closes fd */
	return *cfgp != NULL;
}

/* Touches what the runtime reads from a loaded configuration. */
static void
walk(const struct config *cfg)
{
	volatile size_t sink = 0;
	int nfe = 0;

	CHECK(cfg->file != NULL && cfg->log_tag != NULL);
	sink += strlen(cfg->log_tag);
	if (cfg->chroot_dir)
		sink += strlen(cfg->chroot_dir);
	if (cfg->pidfile)
		sink += strlen(cfg->pidfile);
	CHECK(cfg->nlogs >= 0 && (cfg->nlogs == 0 || cfg->logs != NULL));
	for (int i = 0; i < cfg->nlogs; i++)
		sink += (size_t)cfg->logs[i].facility;
	CHECK(cfg->maxhdr >= 1 && cfg->bufsize >= 4096);
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		CHECK(px->name != NULL && px->kind != NULL);
		CHECK(px->cap & (CAP_FE | CAP_BE));
		sink += strlen(px->name) + strlen(px->kind);
		if (px->xff_header)
			sink += strlen(px->xff_header);
		if (px->default_backend_name)
			sink += strlen(px->default_backend_name);
		for (int d = CAPTURE_REQ; d <= CAPTURE_RESP; d++) {
			CHECK(px->ncaps[d] == 0 || (px->cap & CAP_FE));
			for (int i = 0; i < px->ncaps[d]; i++)
				sink += strlen(px->caps[d][i].name) +
				    px->caps[d][i].len;
		}
		CHECK(px->nlogs >= 0 && (px->nlogs == 0 || px->logs != NULL));
		for (int i = 0; i < px->nlogs; i++)
			sink += (size_t)px->logs[i].facility +
			    (size_t)px->logs[i].addr.len;
		for (int i = 0; i < px->nservers; i++) {
			const struct server *s = &px->servers[i];
			sink += strlen(s->name) + strlen(s->addr_text);
		}
		for (const struct acl *a = px->acls; a; a = a->next) {
			if (a->name)
				sink += strlen(a->name);
			for (int e = 0; e < a->nexprs; e++)
				for (int k = 0; k < a->exprs[e].npats; k++)
					if (a->exprs[e].pats[k].str)
						sink += strlen(
						    a->exprs[e].pats[k].str);
		}
		if (px->cap & CAP_FE) {
			nfe++;
			CHECK(config_find_frontend(cfg, px->name) != NULL);
			for (int i = 0; i < px->nrules; i++) {
				const struct switch_rule *r = &px->rules[i];
				/* a loaded config has every static backend
				 * resolved; a dynamic one has its format */
				CHECK((r->backend != NULL) != (r->dynamic != NULL));
				CHECK(r->dynamic != NULL ||
				    (r->backend->cap & CAP_BE));
				sink += strlen(r->backend_name);
				if (r->cond)
					sink += (size_t)
					    acl_cond_needs_http(r->cond);
			}
			if (px->default_backend_name)
				CHECK(px->default_backend != NULL &&
				    (px->default_backend->cap & CAP_BE));
		}
	}
	for (int i = 0; i < cfg->nlisteners; i++) {
		const struct listener *l = &cfg->listeners[i];
		CHECK(l->fe != NULL && (l->fe->cap & CAP_FE));
		CHECK(l->addr.len > 0 && l->addr.len <= sizeof(l->addr.ss));
		sink += strlen(l->fe->name);
	}
	(void)nfe;
	(void)sink;
}

/* acl.c caches the predefined ACLs on first use: fill the cache now,
 * untracked, so that releasing an input's blocks never frees it. */
static void
warm_predefined(void)
{
	static const char warm[] =
	    "frontend f\n"
	    "  use_backend b if TRUE || FALSE || HTTP || HTTP_1.0 || "
	    "HTTP_1.1 || HTTP_CONTENT || HTTP_URL_ABS || HTTP_URL_SLASH || "
	    "HTTP_URL_STAR || LOCALHOST || METH_CONNECT || METH_DELETE || "
	    "METH_GET || METH_HEAD || METH_OPTIONS || METH_POST || METH_PUT "
	    "|| METH_TRACE\n"
	    "backend b\n";
	static struct config *cfg;      /* kept: its ACLs are the cache */

	CHECK(tracking == 0);
	CHECK(load((const uint8_t *)warm, sizeof(warm) - 1, &cfg));
}

/*
 * No LeakSanitizer in this binary, whatever runs it (libFuzzer's
 * -detect_leaks=0 only stops the per-input checks, not the one at exit;
 * AFL++ and fork mode would count that one as a crash). ASAN_OPTIONS
 * still overrides it.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_CONFIG_VERBOSE") != NULL &&
	    strcmp(getenv("FUZZ_CONFIG_VERBOSE"), "0") != 0;
	/* quoting.cfg expands it; keep inputs deterministic */
	setenv("WSPROXY_TEST_VAR", "fuzz value", 1);
	warm_predefined();
	dns_calls = 0;
	atexit(report_dns);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;

	tracking = 1;
	if (load(data, size, &cfg)) {
		walk(cfg);
		config_free(cfg);       /* under ASan: a double free shows */
	}
	tracking = 0;
	live_release_all();
	return 0;
}
