/*
 * config.c - the HAProxy configuration subset: words as HAProxy splits
 * them, sections, keyword tables, defaults inheritance, and the checks run
 * once the whole file is read. Every diagnostic is "FILE:LINE: message";
 * parsing goes on after an error so that all of them are reported.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define MAX_WORDS 64
#define DEFAULT_MAXCONN 2000    /* HAProxy 1.x, global and per frontend */
#define DEFAULT_BUFSIZE 16384
#define DEFAULT_RETRIES 3
#define DEFAULT_INTER 2000      /* ms between health checks */
#define DEFAULT_RISE 2
#define DEFAULT_FALL 3

enum section { SEC_NONE, SEC_GLOBAL, SEC_DEFAULTS, SEC_PROXY };

struct named_defaults {
	char *name;
	struct proxy px;
	struct named_defaults *next;
};

struct parser {
	struct config *cfg;
	const char *file;
	int line;
	int errors;
	enum section sec;
	struct proxy defaults;          /* the most recent defaults section */
	struct named_defaults *named;
	struct proxy *cur;              /* section being read */
	struct proxy **tail;
	int uid_set, gid_set;
};

/* ---- diagnostics ---- */

static void
p_err(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
p_warn(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
p_vreport(struct parser *p, int line, const char *kind, const char *fmt,
    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_plain("%s:%d: %s%s", p->file, line, kind, msg);
}

static void
p_err(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vreport(p, p->line, "", fmt, ap);
	va_end(ap);
	p->errors++;
}

static void
p_warn(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->cfg->quiet)
		return;
	va_start(ap, fmt);
	p_vreport(p, p->line, "warning: ", fmt, ap);
	va_end(ap);
}

/* For checks made after parsing, which name the line they concern. */
static void
p_err_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
p_warn_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
p_err_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vreport(p, line, "", fmt, ap);
	va_end(ap);
	p->errors++;
}

static void
p_warn_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->cfg->quiet)
		return;
	va_start(ap, fmt);
	p_vreport(p, line, "warning: ", fmt, ap);
	va_end(ap);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *ptr = calloc(n, size);

	if (ptr == NULL)
		fatal("calloc");
	return ptr;
}

static char *
xstrdup(const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		fatal("strdup");
	return copy;
}

/*
 * Grows *array by one element and returns it, zeroed. The capacity is
 * the count rounded up to a power of two (at least 4), so a port range
 * of thousands of listeners costs no quadratic copying.
 */
static size_t
grow_capacity(size_t n)
{
	size_t cap = 4;

	while (cap < n)
		cap *= 2;
	return cap;
}

static void *
grow(void *array_ptr, int *count, size_t size)
{
	void **array = array_ptr;
	size_t n = (size_t)*count;
	char *grown = *array;

	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		grown = reallocarray(*array, grow_capacity(n + 1), size);
		if (grown == NULL)
			fatal("reallocarray");
		*array = grown;
	}
	memset(grown + n * size, 0, size);
	(*count)++;
	return grown + n * size;
}

/* ---- words ---- */

struct wordbuf {
	char data[16384];
	size_t len;
	int overflow;
};

static void
wb_put(struct wordbuf *wb, char c)
{
	if (wb->len + 1 >= sizeof(wb->data)) {
		wb->overflow = 1;
		return;
	}
	wb->data[wb->len++] = c;
}

/* "$NAME" or "${NAME}" inside double quotes; returns chars consumed. */
static size_t
expand_env(const char *s, struct wordbuf *wb)
{
	char name[256];
	size_t i = 1, n = 0;
	int braced = s[1] == '{';
	const char *value;

	if (braced)
		i++;
	while ((isalnum((unsigned char)s[i]) || s[i] == '_') &&
	    n + 1 < sizeof(name))
		name[n++] = s[i++];
	name[n] = '\0';
	if (n == 0 || (braced && s[i] != '}')) {
		wb_put(wb, '$');
		return 1;
	}
	if (braced)
		i++;
	value = getenv(name);
	for (; value != NULL && *value; value++)
		wb_put(wb, *value);
	return i;
}

/* Backslash escape at s (s[0] == '\\'); returns chars consumed. */
static size_t
unescape(const char *s, struct wordbuf *wb)
{
	switch (s[1]) {
	case 'n': wb_put(wb, '\n'); return 2;
	case 'r': wb_put(wb, '\r'); return 2;
	case 't': wb_put(wb, '\t'); return 2;
	case 'x':
		if (isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], '\0' };
			wb_put(wb, (char)strtol(hex, NULL, 16));
			return 4;
		}
		break;
	case ' ': case '#': case '\\': case '\'': case '"': case '$':
		wb_put(wb, s[1]);
		return 2;
	case '\0':
		return 1;
	default:
		break;
	}
	wb_put(wb, '\\');
	return 1;
}

/*
 * Splits a line into words as HAProxy does: blanks separate, '#' starts a
 * comment, backslash escapes, "weak" and 'strong' quotes. Returns the
 * number of words, or -1 with a message.
 */
static int
split_words(struct parser *p, const char *line, struct wordbuf *wb,
    char **words)
{
	const char *s = line;
	int nwords = 0;

	wb->len = 0;
	wb->overflow = 0;
	for (;;) {
		char quote = 0;
		size_t start;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		if (nwords == MAX_WORDS) {
			p_err(p, "too many words, truncating after word %d, "
			    "position %ld: <%s>.", MAX_WORDS, (long)(s - line),
			    s);
			return -1;
		}
		start = wb->len;
		while (*s != '\0') {
			if (quote == 0 && (*s == ' ' || *s == '\t' || *s == '#'))
				break;
			if (*s == quote) {
				quote = 0;
				s++;
			} else if (quote == 0 && (*s == '"' || *s == '\'')) {
				quote = *s++;
			} else if (quote != '\'' && *s == '\\') {
				s += unescape(s, wb);
			} else if (quote == '"' && *s == '$') {
				s += expand_env(s, wb);
			} else {
				wb_put(wb, *s++);
			}
		}
		if (quote != 0) {
			p_err(p, "unmatched quote at position %ld",
			    (long)(s - line));
			return -1;
		}
		wb_put(wb, '\0');
		if (wb->overflow) {
			p_err(p, "line too long");
			return -1;
		}
		words[nwords++] = wb->data + start;
	}
	return nwords;
}

/* ---- values ---- */

/*
 * A time: integer with an optional unit (us ms s m h d), no unit meaning
 * milliseconds, rounded up to ms. Returns 0, or -1 with a message.
 */
static int
parse_time(struct parser *p, const char *kw, const char *s, int *ms)
{
	static const struct {
		const char *unit;
		unsigned long long num, den;   /* ms = value * num / den */
	} units[] = {
		{ "us", 1, 1000 }, { "ms", 1, 1 }, { "s", 1000, 1 },
		{ "m", 60000, 1 }, { "h", 3600000, 1 }, { "d", 86400000, 1 },
	};
	unsigned long long value = 0, num = 1, den = 1, total;
	const char *c = s;
	size_t ulen = 0;

	if (!isdigit((unsigned char)*c)) {
		p_err(p, "'%s' expects an integer value (got '%s')", kw, s);
		return -1;
	}
	while (isdigit((unsigned char)*c)) {
		value = value * 10 + (unsigned)(*c++ - '0');
		if (value > 100000000000ULL)
			goto overflow;
	}
	if (*c != '\0') {
		size_t best = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			/* the longest unit that prefixes the rest */
			if (strncmp(c, units[i].unit, n) == 0 && n > best) {
				best = n;
				num = units[i].num;
				den = units[i].den;
			}
		}
		if (best == 0) {
			p_err(p, "unexpected character '%c' in '%s'", *c, kw);
			return -1;
		}
		ulen = best;
		if (c[ulen] != '\0')
			p_warn(p, "unexpected character '%c' after the timer "
			    "value '%s', only (us=microseconds,ms=milliseconds,"
			    "s=seconds,m=minutes,h=hours,d=days) are supported.",
			    c[ulen], s);
	}
	total = (value * num + den - 1) / den;
	if (total > INT_MAX)
		goto overflow;
	*ms = (int)total;
	return 0;
overflow:
	p_err(p, "timer overflow in argument '%s' to '%s' (maximum value is "
	    "2147483647 ms or ~24.8 days)", s, kw);
	return -1;
}

static int
parse_int(struct parser *p, const char *kw, const char *s, long min,
    long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		p_err(p, "'%s' expects an integer argument (got '%s').", kw, s);
		return -1;
	}
	if (v < min || v > max) {
		p_err(p, "'%s' value %ld is out of range (%ld..%ld).", kw, v,
		    min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
need_args(struct parser *p, char **w, int n, int count, const char *what)
{
	if (n - 1 >= count)
		return 0;
	p_err(p, "'%s' expects %s.", w[0], what);
	return -1;
}

/* ---- log targets ---- */

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6",
	"local7"
};

static const char *const levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"
};

static int
lookup_name(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* "log ADDR [len N] [format F] FACILITY [MAXLEVEL [MINLEVEL]]" */
static int
parse_log_target(struct parser *p, char **w, int n, struct log_target *t)
{
	char err[256];
	int i = 2;

	memset(t, 0, sizeof(*t));
	t->len = 1024;
	t->max_level = 7;
	t->min_level = 0;
	t->fd = -1;
	if (strcmp(w[1], "stdout") == 0 || strcmp(w[1], "stderr") == 0)
		t->fd = strcmp(w[1], "stdout") == 0 ? 1 : 2;
	else if (net_parse_log_target(w[1], &t->addr, err, sizeof(err)) < 0) {
		p_err(p, "log : %s", err);
		return -1;
	}
	while (i + 1 < n && (strcmp(w[i], "len") == 0 ||
	    strcmp(w[i], "format") == 0)) {
		if (strcmp(w[i], "len") == 0 &&
		    parse_int(p, "len", w[i + 1], 80, 65535, &t->len) < 0)
			return -1;
		if (strcmp(w[i], "format") == 0) {
			if (strcmp(w[i + 1], "raw") == 0)
				t->raw = 1;
			else if (strcmp(w[i + 1], "rfc3164") != 0 &&
			    strcmp(w[i + 1], "local") != 0)
				p_warn(p, "log format '%s' is not supported; "
				    "using the local (rfc3164) format.",
				    w[i + 1]);
		}
		i += 2;
	}
	if (i >= n) {
		p_err(p, "'log' expects <address> and <facility> as arguments.");
		return -1;
	}
	t->facility = lookup_name(facilities, 24, w[i]);
	if (t->facility < 0) {
		p_err(p, "unknown log facility '%s'", w[i]);
		return -1;
	}
	if (++i < n && (t->max_level = lookup_name(levels, 8, w[i])) < 0) {
		p_err(p, "unknown optional log level '%s'", w[i]);
		return -1;
	}
	if (++i < n && (t->min_level = lookup_name(levels, 8, w[i])) < 0) {
		p_err(p, "unknown optional minimum log level '%s'", w[i]);
		return -1;
	}
	if (++i < n) {
		p_err(p, "'log' : unexpected extra argument '%s'.", w[i]);
		return -1;
	}
	return 0;
}

/* ---- global section ---- */

static int
g_log(struct parser *p, char **w, int n)
{
	struct log_target t;

	if (need_args(p, w, n, 1, "<address> and <facility> as arguments") < 0)
		return -1;
	if (strcmp(w[1], "global") == 0) {
		p_err(p, "'global' is not supported for a global syslog server.");
		return -1;
	}
	if (parse_log_target(p, w, n, &t) < 0)
		return -1;
	*(struct log_target *)grow(&p->cfg->logs, &p->cfg->nlogs,
	    sizeof(t)) = t;
	return 0;
}

static int
g_maxconn(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	return parse_int(p, w[0], w[1], 1, 1000000, &p->cfg->maxconn);
}

static int
g_chroot(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a directory as an argument") < 0)
		return -1;
	free(p->cfg->chroot_dir);
	p->cfg->chroot_dir = xstrdup(w[1]);
	return 0;
}

static int
g_pidfile(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a file name as an argument") < 0)
		return -1;
	free(p->cfg->pidfile);
	p->cfg->pidfile = xstrdup(w[1]);
	return 0;
}

static int
g_log_tag(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a tag as an argument") < 0)
		return -1;
	if (n > 2) {
		p_err(p, "'log-tag' : unexpected extra argument '%s'.", w[2]);
		return -1;
	}
	free(p->cfg->log_tag);
	p->cfg->log_tag = xstrdup(w[1]);
	return 0;
}

static int
g_daemon(struct parser *p, char **w, int n)
{
	if (n > 1) {
		p_err(p, "'daemon' cannot handle unexpected argument '%s'.",
		    w[1]);
		return -1;
	}
	p->cfg->daemon = 1;
	return 0;
}

static int
g_quiet(struct parser *p, char **w, int n)
{
	(void)w;
	(void)n;
	p->cfg->quiet = 1;
	return 0;
}

/* uid/gid: numbers; user/group: names resolved now, before any chroot. */
static int
g_identity(struct parser *p, char **w, int n)
{
	int is_user = w[0][0] == 'u';
	int *set = is_user ? &p->uid_set : &p->gid_set;
	long id;
	char *end;

	if (need_args(p, w, n, 1, "an argument") < 0)
		return -1;
	if (*set)
		p_warn(p, "%s already specified. Continuing.",
		    is_user ? "user/uid" : "group/gid");
	if (strcmp(w[0], "user") == 0 || strcmp(w[0], "group") == 0) {
		if (is_user) {
			struct passwd *pw = getpwnam(w[1]);
			if (pw == NULL) {
				p_err(p, "cannot find user id for '%s'", w[1]);
				return -1;
			}
			id = pw->pw_uid;
		} else {
			struct group *gr = getgrnam(w[1]);
			if (gr == NULL) {
				p_err(p, "cannot find group id for '%s'", w[1]);
				return -1;
			}
			id = gr->gr_gid;
		}
	} else {
		id = strtol(w[1], &end, 10);
		if (*end != '\0' || id < 0) {
			p_warn(p, "%s: string '%s' is not a number.", w[0],
			    w[1]);
			return 0;
		}
	}
	if (is_user)
		p->cfg->uid = (uid_t)id;
	else
		p->cfg->gid = (gid_t)id;
	*set = 1;
	return 0;
}

static int
g_tune(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (strcmp(w[0], "tune.bufsize") == 0)
		return parse_int(p, w[0], w[1], 4096, 1 << 24,
		    &p->cfg->bufsize);
	return parse_int(p, w[0], w[1], 1, 32767, &p->cfg->maxhdr);
}

struct global_kw {
	const char *name;
	int (*parse)(struct parser *, char **, int);
};

/* Sorted for bsearch(). */
static const struct global_kw global_kws[] = {
	{ "chroot",           g_chroot },
	{ "daemon",           g_daemon },
	{ "gid",              g_identity },
	{ "group",            g_identity },
	{ "log",              g_log },
	{ "log-tag",          g_log_tag },
	{ "maxconn",          g_maxconn },
	{ "pidfile",          g_pidfile },
	{ "quiet",            g_quiet },
	{ "tune.bufsize",     g_tune },
	{ "tune.http.maxhdr", g_tune },
	{ "uid",              g_identity },
	{ "user",             g_identity },
};

/* HAProxy keywords with no effect here yet: a warning, never silence. */
static const char *const global_known[] = {
	"ca-base", "cpu-map", "crt-base", "debug", "description",
	"external-check", "hard-stop-after", "log-send-hostname",
	"lua-load", "master-worker", "maxconnrate", "maxsslconn", "nbproc",
	"nbthread", "node", "nosplice", "ssl-default-bind-ciphers",
	"ssl-default-bind-options", "ssl-default-server-ciphers",
	"ssl-default-server-options", "ssl-server-verify", "spread-checks",
	"stats", "ulimit-n", "unix-bind",
};

static int
kw_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
is_known_unsupported(const char *const *list, size_t count, const char *kw)
{
	return bsearch(kw, list, count, sizeof(list[0]), kw_cmp) != NULL;
}

static void
parse_global_line(struct parser *p, char **w, int n)
{
	const struct global_kw *kw;

	kw = bsearch(w[0], global_kws, sizeof(global_kws) /
	    sizeof(global_kws[0]), sizeof(global_kws[0]), kw_cmp);
	if (kw != NULL) {
		kw->parse(p, w, n);
		return;
	}
	if (strncmp(w[0], "tune.", 5) == 0 ||
	    is_known_unsupported(global_known, sizeof(global_known) /
	    sizeof(global_known[0]), w[0])) {
		p_warn(p, "'%s' is not supported by wsproxy; ignored.", w[0]);
		return;
	}
	p_err(p, "unknown keyword '%s' in 'global' section", w[0]);
}

/* ---- proxies ---- */

static void
proxy_init_defaults(struct proxy *px)
{
	memset(px, 0, sizeof(*px));
	px->cap = CAP_FE | CAP_BE;
	px->kind = "defaults";
	px->mode = MODE_TCP;
	px->conn_mode = CONN_MODE_KAL;
	px->maxconn = DEFAULT_MAXCONN;
	px->retries = DEFAULT_RETRIES;
	px->xff_except_len = -1;
}

static char *
strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* *to becomes a copy of from that owns its strings and its log list. */
static void
proxy_copy_settings(struct proxy *to, const struct proxy *from)
{
	*to = *from;
	to->name = strdup_or_null(from->name);
	to->default_backend_name = strdup_or_null(from->default_backend_name);
	to->xff_header = strdup_or_null(from->xff_header);
	to->httpchk_line = strdup_or_null(from->httpchk_line);
	to->logs = NULL;
	if (from->nlogs > 0) {
		/* the capacity grow() expects, since more may be added */
		to->logs = xcalloc(grow_capacity((size_t)from->nlogs),
		    sizeof(*to->logs));
		memcpy(to->logs, from->logs,
		    (size_t)from->nlogs * sizeof(*to->logs));
	}
}

/* Frees what proxy_copy_settings() gave a defaults section. */
static void
defaults_release(struct proxy *d)
{
	free(d->name);
	free(d->default_backend_name);
	free(d->xff_header);
	free(d->httpchk_line);
	free(d->logs);
	memset(d, 0, sizeof(*d));
}

/* A new proxy starts as a copy of the defaults; lists are its own. */
static struct proxy *
proxy_new(struct parser *p, const char *kind, const char *name, int cap)
{
	struct proxy *px = xcalloc(1, sizeof(*px));

	proxy_copy_settings(px, &p->defaults);
	free(px->name);
	px->name = xstrdup(name);
	px->kind = kind;
	px->cap = cap;
	px->line = p->line;
	px->timeouts_set = 0;
	return px;
}

static int
valid_proxy_name(const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.:", *c))
			return 0;
	return *name != '\0';
}

static struct proxy *
find_proxy(const struct config *cfg, const char *name, int cap)
{
	for (struct proxy *px = cfg->proxies; px; px = px->next)
		if ((px->cap & cap) && strcmp(px->name, name) == 0)
			return px;
	return NULL;
}

struct proxy *
config_find_frontend(const struct config *cfg, const char *name)
{
	return find_proxy(cfg, name, CAP_FE);
}

static int
add_listener(const struct net_addr *addr, void *arg)
{
	struct parser *p = arg;
	struct listener *l = grow(&p->cfg->listeners, &p->cfg->nlisteners,
	    sizeof(*l));

	l->addr = *addr;
	l->fd = -1;
	l->line = p->line;
	l->fe = p->cur;
	p->cur->nbinds++;
	return 0;
}

/* "ADDR:PORT[,ADDR:PORT...]" */
static int
parse_bind_list(struct parser *p, const char *list, int *first, int *count)
{
	char *copy = xstrdup(list), *save = NULL, err[256];
	int rc = 0;

	*first = p->cfg->nlisteners;
	for (char *a = strtok_r(copy, ",", &save); a != NULL;
	    a = strtok_r(NULL, ",", &save)) {
		if (net_parse_bind(a, add_listener, p, err, sizeof(err)) < 0) {
			p_err(p, "'bind' : %s", err);
			rc = -1;
			break;
		}
	}
	free(copy);
	*count = p->cfg->nlisteners - *first;
	return rc;
}

static void
start_section(struct parser *p, char **w, int n)
{
	/* kind must outlive the line's words: use the literals. */
	const char *kind = strcmp(w[0], "frontend") == 0 ? "frontend" :
	    strcmp(w[0], "backend") == 0 ? "backend" : "listen";
	int cap = kind[0] == 'f' ? CAP_FE : kind[0] == 'b' ? CAP_BE :
	    CAP_FE | CAP_BE;
	struct proxy *px, *dup;

	if (n < 2) {
		p_err(p, "'%s' expects <name> as an argument.", kind);
		p->cur = NULL;
		return;
	}
	if (!valid_proxy_name(w[1]))
		p_err(p, "character not permitted in %s name '%s'.", kind,
		    w[1]);
	dup = find_proxy(p->cfg, w[1], cap);
	if (dup != NULL)
		p_err(p, "%s '%s' has the same name as %s '%s' declared at "
		    "%s:%d.", kind, w[1], dup->kind, dup->name, p->file,
		    dup->line);
	px = proxy_new(p, kind, w[1], cap);
	*p->tail = px;
	p->tail = &px->next;
	p->cur = px;
	p->sec = SEC_PROXY;
	/* HAProxy <= 1.5: "listen NAME ADDR:PORT" is an implicit bind. */
	if (n > 2) {
		int first, count;
		if (strcmp(kind, "backend") == 0 || n > 3) {
			p_err(p, "'%s' : unexpected argument '%s'.", kind,
			    w[kind[0] == 'b' ? 2 : 3]);
			return;
		}
		parse_bind_list(p, w[2], &first, &count);
	}
}

static struct named_defaults *
find_named_defaults(struct parser *p, const char *name)
{
	for (struct named_defaults *d = p->named; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* "defaults [NAME] [from DEF]": resets everything, it does not inherit. */
static void
start_defaults(struct parser *p, char **w, int n)
{
	defaults_release(&p->defaults);
	proxy_init_defaults(&p->defaults);
	if (n == 4 && strcmp(w[2], "from") == 0) {
		struct named_defaults *from = find_named_defaults(p, w[3]);
		if (from == NULL)
			p_err(p, "defaults section '%s' not found.", w[3]);
		else
			proxy_copy_settings(&p->defaults, &from->px);
	} else if (n > 2) {
		p_err(p, "'defaults' expects [<name>] [from <defaults>].");
	}
	free(p->defaults.name);
	p->defaults.name = n >= 2 ? xstrdup(w[1]) : NULL;
	p->defaults.line = p->line;
	p->sec = SEC_DEFAULTS;
	p->cur = &p->defaults;
}

/* A named defaults is kept, as it stands at the end of its section. */
static void
end_section(struct parser *p)
{
	if (p->sec == SEC_DEFAULTS && p->defaults.name != NULL) {
		struct named_defaults *d = xcalloc(1, sizeof(*d));
		proxy_copy_settings(&d->px, &p->defaults);
		d->name = d->px.name;
		d->next = p->named;
		p->named = d;
	}
}

/* ---- proxy keywords ---- */

static const char *
cap_name(int cap)
{
	return cap == CAP_FE ? "frontend" : "backend";
}

/* HAProxy ignores a keyword a proxy has no capability for, with a warning. */
static int
check_cap(struct parser *p, struct proxy *px, const char *kw, int cap)
{
	if ((px->cap & cap) != 0)
		return 1;
	p_warn(p, "'%s' ignored because %s '%s' has no %s capability.", kw,
	    px->kind, px->name, cap_name(cap));
	return 0;
}

static int
px_mode(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "one of 'tcp' or 'http'") < 0)
		return -1;
	if (strcmp(w[1], "http") == 0)
		px->mode = MODE_HTTP;
	else if (strcmp(w[1], "tcp") == 0)
		px->mode = MODE_TCP;
	else if (strcmp(w[1], "health") == 0)
		p_warn(p, "'mode health' is not supported by wsproxy; ignored.");
	else {
		p_err(p, "unknown proxy mode '%s'.", w[1]);
		return -1;
	}
	return 0;
}

static int
px_maxconn(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (!(px->cap & CAP_FE)) {
		p_warn(p, "'maxconn' ignored because %s '%s' has no frontend "
		    "capability. Maybe you want 'fullconn' instead ?",
		    px->kind, px->name);
		return 0;
	}
	return parse_int(p, w[0], w[1], 1, 1000000, &px->maxconn);
}

static int
px_retries(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (!check_cap(p, px, w[0], CAP_BE))
		return 0;
	return parse_int(p, w[0], w[1], 0, 1000, &px->retries);
}

static int
px_redispatch(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)n;
	if (check_cap(p, px, w[0], CAP_BE))
		px->options |= OPT_REDISPATCH;
	return 0;
}

static int
px_bind(struct parser *p, struct proxy *px, char **w, int n)
{
	int first, count;

	if (need_args(p, w, n, 1, "{<path>|[addr1]:port1[-end1]}{|[addr2]:"
	    "port2[-end2]}...") < 0)
		return -1;
	if (!check_cap(p, px, w[0], CAP_FE))
		return 0;
	if (parse_bind_list(p, w[1], &first, &count) < 0)
		return -1;
	for (int i = 2; i < n; i++) {
		if (strcmp(w[i], "accept-proxy") == 0) {
			for (int l = first; l < first + count; l++)
				p->cfg->listeners[l].accept_proxy = 1;
		} else if (strcmp(w[i], "backlog") == 0) {
			int backlog;
			if (++i >= n) {
				p_err(p, "'bind' : missing value for 'backlog'.");
				return -1;
			}
			if (parse_int(p, "backlog", w[i], 1, 65535, &backlog) < 0)
				return -1;
			for (int l = first; l < first + count; l++)
				p->cfg->listeners[l].backlog = backlog;
		} else if (strcmp(w[i], "name") == 0 || strcmp(w[i], "id") == 0) {
			if (++i >= n) {
				p_err(p, "'bind' : missing value for '%s'.",
				    w[i - 1]);
				return -1;
			}
		} else if (strcmp(w[i], "v4v6") == 0 ||
		    strcmp(w[i], "v6only") == 0 ||
		    strcmp(w[i], "transparent") == 0 ||
		    strcmp(w[i], "defer-accept") == 0) {
			p_warn(p, "'bind' : '%s' is not supported by wsproxy; "
			    "ignored.", w[i]);
		} else {
			p_err(p, "'bind %s' in section '%s': unknown keyword "
			    "'%s'.", w[1], px->kind, w[i]);
			return -1;
		}
	}
	return 0;
}

static int
px_default_backend(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "a backend name") < 0)
		return -1;
	if (!check_cap(p, px, w[0], CAP_FE))
		return 0;
	px->default_backend_name = xstrdup(w[1]);
	px->default_backend_line = p->line;
	return 0;
}

static int
px_use_backend(struct parser *p, struct proxy *px, char **w, int n)
{
	struct switch_rule *rule;
	struct acl_cond *cond = NULL;
	char err[512];

	if (need_args(p, w, n, 1, "a backend name") < 0)
		return -1;
	if (!check_cap(p, px, w[0], CAP_FE))
		return 0;
	if (strchr(w[1], '%') != NULL) {
		p_err(p, "dynamic backend names ('%s') are not supported.", w[1]);
		return -1;
	}
	if (n > 2) {
		cond = acl_cond_parse(&px->acls, w + 2, n - 2, err, sizeof(err));
		if (cond == NULL) {
			p_err(p, "error detected while parsing switching rule : "
			    "%s", err);
			return -1;
		}
	}
	rule = grow(&px->rules, &px->nrules, sizeof(*rule));
	rule->backend_name = xstrdup(w[1]);
	rule->cond = cond;
	rule->line = p->line;
	return 0;
}

static int
px_acl(struct parser *p, struct proxy *px, char **w, int n)
{
	char err[512], warn[512] = "";

	if (need_args(p, w, n, 2, "a name and a fetch method") < 0)
		return -1;
	if (acl_parse(&px->acls, w[1], w + 2, n - 2, err, sizeof(err), warn,
	    sizeof(warn)) < 0) {
		p_err(p, "error detected while parsing ACL '%s' : %s", w[1],
		    err);
		return -1;
	}
	if (warn[0] != '\0')
		p_warn(p, "%s", warn);
	return 0;
}

static int
log_target_equal(const struct log_target *a, const struct log_target *b)
{
	return a->fd == b->fd && a->facility == b->facility &&
	    a->max_level == b->max_level && a->min_level == b->min_level &&
	    a->len == b->len && a->raw == b->raw && a->addr.len == b->addr.len &&
	    memcmp(&a->addr.ss, &b->addr.ss, a->addr.len) == 0;
}

static int
px_log(struct parser *p, struct proxy *px, char **w, int n)
{
	struct log_target t;

	if (need_args(p, w, n, 1, "<address> and <facility> as arguments") < 0)
		return -1;
	if (strcmp(w[1], "global") == 0) {
		/* copies the global targets; repeating it is harmless */
		for (int i = 0; i < p->cfg->nlogs; i++) {
			int dup = 0;
			for (int j = 0; j < px->nlogs; j++)
				dup |= log_target_equal(&px->logs[j],
				    &p->cfg->logs[i]);
			if (!dup)
				*(struct log_target *)grow(&px->logs,
				    &px->nlogs, sizeof(t)) = p->cfg->logs[i];
		}
		return 0;
	}
	if (parse_log_target(p, w, n, &t) < 0)
		return -1;
	*(struct log_target *)grow(&px->logs, &px->nlogs, sizeof(t)) = t;
	return 0;
}

/* Server parameters: those taking a value, those that are flags. */
static const char *const server_params_with_value[] = {
	"addr", "ca-file", "cookie", "crt", "downinter", "error-limit", "fall",
	"fastinter", "id", "init-addr", "inter", "maxconn", "maxqueue",
	"minconn", "observe", "on-error", "on-marked-down", "on-marked-up",
	"port", "redir", "resolvers", "rise", "slowstart", "sni", "source",
	"track", "verify", "weight",
};

static const char *const server_flags[] = {
	"agent-check", "backup", "check", "check-send-proxy", "check-ssl",
	"disabled", "enabled", "no-check", "non-stick", "send-proxy",
	"send-proxy-v2", "ssl",
};

/* Parameters with an effect today; the others are checked and warned. */
static const char *const server_params_done[] = {
	"backup", "check", "check-send-proxy", "disabled", "downinter",
	"enabled", "fall", "fastinter", "id", "inter", "maxconn", "no-check",
	"port", "rise", "send-proxy", "send-proxy-v2", "weight",
};

/* Silently sending plaintext where TLS was asked for is never right. */
static const char *const server_params_tls[] = {
	"ca-file", "check-ssl", "crt", "sni", "ssl", "verify",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
server_param_value(struct parser *p, struct server *srv, const char *kw,
    const char *value)
{
	int v;

	if (strcmp(kw, "weight") == 0)
		return parse_int(p, "weight", value, 0, 256, &srv->weight);
	if (strcmp(kw, "maxconn") == 0)
		return parse_int(p, "maxconn", value, 0, 1000000, &srv->maxconn);
	if (strcmp(kw, "rise") == 0)
		return parse_int(p, kw, value, 1, 1000000, &srv->rise);
	if (strcmp(kw, "fall") == 0)
		return parse_int(p, kw, value, 1, 1000000, &srv->fall);
	if (strcmp(kw, "port") == 0)
		return parse_int(p, kw, value, 1, 65535, &srv->check_port);
	if (strcmp(kw, "inter") == 0 || strcmp(kw, "fastinter") == 0 ||
	    strcmp(kw, "downinter") == 0 || strcmp(kw, "slowstart") == 0) {
		if (parse_time(p, kw, value, &v) < 0)
			return -1;
		if (v == 0 && strcmp(kw, "slowstart") != 0) {
			p_err(p, "'%s' has to be > 0.", kw);
			return -1;
		}
		if (strcmp(kw, "inter") == 0)
			srv->inter = v;
		else if (strcmp(kw, "fastinter") == 0)
			srv->fastinter = v;
		else if (strcmp(kw, "downinter") == 0)
			srv->downinter = v;
	}
	return 0;
}

/*
 * Checks and keeps one "server" parameter; returns the words consumed.
 * Names of parameters without an effect yet are added to ignored.
 */
static int
server_param(struct parser *p, struct proxy *px, struct server *srv,
    char **w, int n, int i, char *ignored, size_t ignored_len)
{
	const char *kw = w[i];
	int is_flag = is_known_unsupported(server_flags, NELEM(server_flags),
	    kw);

	if (!is_flag && !is_known_unsupported(server_params_with_value,
	    NELEM(server_params_with_value), kw)) {
		p_err(p, "'server %s/%s' : unknown keyword '%s'.", px->name,
		    srv->name, kw);
		return -1;
	}
	if (is_known_unsupported(server_params_tls, NELEM(server_params_tls),
	    kw)) {
		p_err(p, "'server %s/%s' : '%s' cannot be honoured: wsproxy "
		    "speaks no TLS (terminate TLS in front of it, e.g. with "
		    "stunnel).", px->name, srv->name, kw);
		return -1;
	}
	if (!is_known_unsupported(server_params_done,
	    NELEM(server_params_done), kw)) {
		char quoted[64];
		size_t used = strlen(ignored);
		snprintf(quoted, sizeof(quoted), "'%s'", kw);
		if (strstr(ignored, quoted) == NULL)
			snprintf(ignored + used, ignored_len - used, "%s%s",
			    used ? ", " : "", quoted);
	}
	if (is_flag) {
		if (strcmp(kw, "backup") == 0)
			srv->backup = 1;
		else if (strcmp(kw, "disabled") == 0)
			srv->disabled = 1;
		else if (strcmp(kw, "enabled") == 0)
			srv->disabled = 0;
		else if (strcmp(kw, "check") == 0)
			srv->check = 1;
		else if (strcmp(kw, "no-check") == 0)
			srv->check = 0;
		else if (strcmp(kw, "send-proxy") == 0)
			srv->send_proxy = 1;
		else if (strcmp(kw, "send-proxy-v2") == 0)
			srv->send_proxy = 2;
		else if (strcmp(kw, "check-send-proxy") == 0)
			srv->check_send_proxy = 1;
		return 1;
	}
	if (i + 1 >= n) {
		p_err(p, "'server %s/%s' : '%s' expects an argument.",
		    px->name, srv->name, kw);
		return -1;
	}
	return server_param_value(p, srv, kw, w[i + 1]) < 0 ? -1 : 2;
}

static int
px_server(struct parser *p, struct proxy *px, char **w, int n)
{
	struct server *srv;
	char err[256], ignored[512] = "";

	if (!(px->cap & CAP_BE)) {
		p_err(p, "'server' not allowed because %s '%s' has no backend "
		    "capability.", px->kind, px->name);
		return -1;
	}
	if (need_args(p, w, n, 2, "<name> and <addr>[:<port>] as arguments") < 0)
		return -1;
	for (int i = 0; i < px->nservers; i++) {
		if (strcmp(px->servers[i].name, w[1]) == 0) {
			p_err(p, "backend '%s', another server named '%s' was "
			    "already defined at line %d, please use distinct "
			    "names.", px->name, w[1], px->servers[i].line);
			return -1;
		}
	}
	srv = grow(&px->servers, &px->nservers, sizeof(*srv));
	srv->name = xstrdup(w[1]);
	srv->addr_text = xstrdup(w[2]);
	srv->line = p->line;
	srv->weight = 1;
	srv->inter = DEFAULT_INTER;
	srv->rise = DEFAULT_RISE;
	srv->fall = DEFAULT_FALL;
	if (net_parse_server(w[2], &srv->addr, &srv->port_mode,
	    &srv->port_offset, err, sizeof(err)) < 0) {
		p_err(p, "'server %s' : %s", w[1], err);
		return -1;
	}
	for (int i = 3; i < n;) {
		int used = server_param(p, px, srv, w, n, i, ignored,
		    sizeof(ignored));
		if (used < 0)
			return -1;
		i += used;
	}
	if (ignored[0] != '\0')
		p_warn(p, "'server %s/%s' : %s not implemented yet; ignored.",
		    px->name, srv->name, ignored);
	if (srv->check && srv->port_mode != PORT_FIXED &&
	    srv->check_port == 0) {
		p_warn(p, "'server %s/%s' has neither service port nor check "
		    "port. Check has been disabled.", px->name, srv->name);
		srv->check = 0;
	}
	srv->params = xcalloc((size_t)n, sizeof(char *));
	for (int i = 3; i < n; i++)
		srv->params[srv->nparams++] = xstrdup(w[i]);
	return 0;
}

static int
px_balance(struct parser *p, struct proxy *px, char **w, int n)
{
	static const char *const algos[] = { "first", "leastconn",
	    "roundrobin", "source", "static-rr", "uri", "url_param" };
	static const struct { const char *name; enum balance_algo algo; }
	    done[] = {
		{ "roundrobin", BALANCE_ROUNDROBIN },
		{ "static-rr", BALANCE_STATIC_RR },
		{ "leastconn", BALANCE_LEASTCONN },
		{ "first", BALANCE_FIRST },
		{ "source", BALANCE_SOURCE },
	};

	if (need_args(p, w, n, 1, "an algorithm") < 0)
		return -1;
	if (!check_cap(p, px, w[0], CAP_BE))
		return 0;
	if (!is_known_unsupported(algos, sizeof(algos) / sizeof(algos[0]),
	    w[1]) && strncmp(w[1], "hdr(", 4) != 0 &&
	    strncmp(w[1], "rdp-cookie", 10) != 0) {
		p_err(p, "'balance' only supports 'roundrobin', 'static-rr', "
		    "'leastconn', 'first', 'source', 'uri', 'url_param', "
		    "'hdr(name)' and 'rdp-cookie(name)' options.");
		return -1;
	}
	for (size_t i = 0; i < NELEM(done); i++) {
		if (strcmp(w[1], done[i].name) == 0) {
			px->balance = done[i].algo;
			return 0;
		}
	}
	p_warn(p, "'balance %s' is not implemented by wsproxy; using "
	    "'roundrobin'.", w[1]);
	px->balance = BALANCE_ROUNDROBIN;
	return 0;
}

/* ---- timeouts ---- */

struct timeout_kw {
	const char *name;
	size_t offset;
	int cap;
	int in_effect;          /* 0: parsed and kept, warned as ignored */
};

#define TO(name, field, cap, in_effect) \
	{ name, offsetof(struct timeouts, field), cap, in_effect }
static const struct timeout_kw timeout_kws[] = {
	TO("check", check, CAP_BE, 1),
	TO("client", client, CAP_FE, 1),
	TO("client-fin", client_fin, CAP_FE, 0),
	TO("connect", connect, CAP_BE, 1),
	TO("http-keep-alive", http_keep_alive, CAP_FE | CAP_BE, 1),
	TO("http-request", http_request, CAP_FE | CAP_BE, 1),
	TO("queue", queue, CAP_BE, 1),
	TO("server", server, CAP_BE, 1),
	TO("server-fin", server_fin, CAP_BE, 0),
	TO("tarpit", tarpit, CAP_BE, 0),
	TO("tunnel", tunnel, CAP_BE, 1),
};
#undef TO

static int
set_timeout(struct parser *p, struct proxy *px, const char *name,
    const char *value, const char *kw_for_errors)
{
	const struct timeout_kw *kw = NULL;
	int ms;
	unsigned bit;

	for (size_t i = 0; i < sizeof(timeout_kws) / sizeof(timeout_kws[0]);
	    i++)
		if (strcmp(timeout_kws[i].name, name) == 0)
			kw = &timeout_kws[i];
	if (kw == NULL) {
		p_err(p, "'timeout' supports 'client', 'server', 'connect', "
		    "'check', 'queue', 'http-keep-alive', 'http-request', "
		    "'tunnel', 'tarpit', 'client-fin' and 'server-fin' "
		    "(got '%s')", name);
		return -1;
	}
	if (parse_time(p, kw_for_errors, value, &ms) < 0)
		return -1;
	if (!(px->cap & kw->cap)) {
		p_warn(p, "'%s' will be ignored because %s '%s' has no %s "
		    "capability", kw_for_errors, px->kind, px->name,
		    cap_name(kw->cap));
		return 0;
	}
	if (!kw->in_effect)
		p_warn(p, "'%s' is not implemented yet; ignored.",
		    kw_for_errors);
	bit = 1u << (kw - timeout_kws);
	if (px->timeouts_set & bit)
		p_warn(p, "overwriting '%s' which was already specified",
		    kw_for_errors);
	px->timeouts_set |= bit;
	*(int *)((char *)&px->to + kw->offset) = ms;
	return 0;
}

static int
px_timeout(struct parser *p, struct proxy *px, char **w, int n)
{
	char kw[64];

	if (need_args(p, w, n, 2, "a type and a time value") < 0)
		return -1;
	snprintf(kw, sizeof(kw), "timeout %s", w[1]);
	if (n > 3) {
		p_err(p, "'%s' : unexpected extra argument '%s' after value "
		    "'%s'.", kw, w[3], w[2]);
		return -1;
	}
	return set_timeout(p, px, w[1], w[2], kw);
}

/* contimeout / clitimeout / srvtimeout: HAProxy <= 2.0 aliases. */
static int
px_legacy_timeout(struct parser *p, struct proxy *px, char **w, int n)
{
	const char *name = strcmp(w[0], "contimeout") == 0 ? "connect" :
	    strcmp(w[0], "clitimeout") == 0 ? "client" : "server";

	if (need_args(p, w, n, 1, "a time value") < 0)
		return -1;
	if (n > 2) {
		p_err(p, "'%s' : unexpected extra argument '%s' after value "
		    "'%s'.", w[0], w[2], w[1]);
		return -1;
	}
	return set_timeout(p, px, name, w[1], w[0]);
}

/* ---- options ---- */

static int
opt_forwardfor(struct parser *p, struct proxy *px, char **w, int n)
{
	px->options |= OPT_FORWARDFOR;
	px->options &= ~OPT_XFF_IFNONE;
	px->xff_except_len = -1;
	free(px->xff_header);
	px->xff_header = NULL;
	for (int i = 2; i < n; i++) {
		if (strcmp(w[i], "if-none") == 0) {
			px->options |= OPT_XFF_IFNONE;
		} else if (strcmp(w[i], "header") == 0 && i + 1 < n) {
			px->xff_header = xstrdup(w[++i]);
		} else if (strcmp(w[i], "except") == 0 && i + 1 < n) {
			if (net_parse_network(w[++i], &px->xff_except,
			    &px->xff_except_len, 1) < 0) {
				p_err(p, "'option forwardfor' : invalid network "
				    "'%s'.", w[i]);
				return -1;
			}
		} else {
			p_err(p, "'option forwardfor' only supports optional "
			    "values: 'except', 'header' and 'if-none'.");
			return -1;
		}
	}
	return 0;
}

/*
 * option httpchk [URI] | [METHOD URI [VERSION]]: the request line of HTTP
 * health checks; HAProxy's default is "OPTIONS / HTTP/1.0".
 */
static int
opt_httpchk(struct parser *p, struct proxy *px, char **w, int n)
{
	const char *method = "OPTIONS", *uri = "/", *version = "HTTP/1.0";
	size_t len;

	if (n == 3) {
		uri = w[2];
	} else if (n >= 4) {
		method = w[2];
		uri = w[3];
		if (n >= 5)
			version = w[4];
	}
	if (n > 5) {
		p_err(p, "'option httpchk' expects at most a method, a URI and "
		    "a version.");
		return -1;
	}
	len = strlen(method) + strlen(uri) + strlen(version) + 3;
	free(px->httpchk_line);
	px->httpchk_line = xcalloc(1, len);
	snprintf(px->httpchk_line, len, "%s %s %s", method, uri, version);
	px->options |= OPT_HTTPCHK;
	return 0;
}

/* Known HAProxy options without an effect here: warned about. */
static const char *const options_known[] = {
	"abortonclose", "accept-invalid-http-request",
	"accept-invalid-http-response", "checkcache",
	"clitcpka", "contstats", "http-buffer-request", "http-ignore-probes",
	"http-no-delay", "http-pretend-keepalive", "http-tunnel",
	"http-use-proxy-header", "log-health-checks",
	"log-separate-errors", "logasap", "mysql-check", "nolinger",
	"originalto", "persist", "pgsql-check", "prefer-last-server",
	"redis-check", "smtpchk", "socket-stats", "splice-auto",
	"splice-request", "splice-response", "srvtcpka", "ssl-hello-chk",
	"tcp-check", "tcp-smart-accept", "tcp-smart-connect", "tcpka",
	"transparent",
};

static int
px_option(struct parser *p, struct proxy *px, char **w, int n, int negate)
{
	static const struct {
		const char *name;
		enum http_conn_mode mode;
	} conn_opts[] = {
		{ "http-keep-alive", CONN_MODE_KAL },
		{ "http-server-close", CONN_MODE_SCL },
		{ "httpclose", CONN_MODE_CLO },
		{ "forceclose", CONN_MODE_CLO },
	};
	static const struct {
		const char *name;
		unsigned flag;
		int cap;
	} flag_opts[] = {
		{ "redispatch", OPT_REDISPATCH, CAP_BE },
		{ "dontlognull", OPT_DONTLOGNULL, CAP_FE },
		{ "allbackups", OPT_ALLBACKUPS, CAP_BE },
	};
	const char *name;

	if (need_args(p, w, n, 1, "an option name") < 0)
		return -1;
	name = w[1];
	for (size_t i = 0; i < sizeof(conn_opts) / sizeof(conn_opts[0]); i++) {
		if (strcmp(conn_opts[i].name, name) != 0)
			continue;
		/* "no option X" only resets X if X is the current value. */
		if (!negate)
			px->conn_mode = conn_opts[i].mode;
		else if (px->conn_mode == conn_opts[i].mode)
			px->conn_mode = CONN_MODE_KAL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++) {
		if (strcmp(flag_opts[i].name, name) != 0)
			continue;
		if (!check_cap(p, px, name, flag_opts[i].cap))
			return 0;
		if (negate)
			px->options &= ~flag_opts[i].flag;
		else
			px->options |= flag_opts[i].flag;
		return 0;
	}
	if (strcmp(name, "httplog") == 0) {
		if (negate) {
			p_err(p, "negation/default is not supported for option "
			    "'httplog'.");
			return -1;
		}
		if (!(px->cap & CAP_FE)) {
			p_warn(p, "backend '%s' : 'option httplog' directive is "
			    "ignored in backends.", px->name);
			return 0;
		}
		px->options |= OPT_HTTPLOG;
		return 0;
	}
	if (strcmp(name, "tcplog") == 0) {
		/* the format used without httplog: say so by clearing it */
		if (!negate)
			px->options &= ~OPT_HTTPLOG;
		return 0;
	}
	if (strcmp(name, "httpchk") == 0) {
		if (!check_cap(p, px, name, CAP_BE))
			return 0;
		if (negate) {
			px->options &= ~OPT_HTTPCHK;
			return 0;
		}
		return opt_httpchk(p, px, w, n);
	}
	if (strcmp(name, "forwardfor") == 0) {
		if (negate) {
			px->options &= ~(OPT_FORWARDFOR | OPT_XFF_IFNONE);
			return 0;
		}
		return opt_forwardfor(p, px, w, n);
	}
	if (is_known_unsupported(options_known, sizeof(options_known) /
	    sizeof(options_known[0]), name)) {
		p_warn(p, "'option %s' is not supported by wsproxy; ignored.",
		    name);
		return 0;
	}
	p_err(p, "unknown option '%s'.", name);
	return -1;
}

static int
px_option_kw(struct parser *p, struct proxy *px, char **w, int n)
{
	return px_option(p, px, w, n, 0);
}

static int
px_no(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n >= 2 && strcmp(w[1], "log") == 0) {
		free(px->logs);
		px->logs = NULL;
		px->nlogs = 0;
		return 0;
	}
	if (n >= 3 && strcmp(w[1], "option") == 0)
		return px_option(p, px, w + 1, n - 1, 1);
	p_err(p, "'no' expects 'option <name>' or 'log'.");
	return -1;
}

/* http-check expect status N: the only http-check rule implemented. */
static int
px_http_check(struct parser *p, struct proxy *px, char **w, int n)
{
	if (!check_cap(p, px, w[0], CAP_BE))
		return 0;
	if (n == 4 && strcmp(w[1], "expect") == 0 &&
	    strcmp(w[2], "status") == 0)
		return parse_int(p, "http-check expect status", w[3], 100, 599,
		    &px->httpchk_status);
	if (n >= 2 && strcmp(w[1], "disable-on-404") == 0) {
		p_warn(p, "'http-check disable-on-404' is not supported by "
		    "wsproxy; ignored.");
		return 0;
	}
	p_err(p, "'http-check' : wsproxy only supports 'http-check expect "
	    "status <code>'.");
	return -1;
}

/* Descriptive keywords: accepted, nothing to do. */
static int
px_ignore(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p;
	(void)px;
	(void)w;
	(void)n;
	return 0;
}

#define IN_DEFAULTS 0x1         /* allowed in a defaults section */
struct proxy_kw {
	const char *name;
	int (*parse)(struct parser *, struct proxy *, char **, int);
	int flags;
};

/* Sorted for bsearch(). */
static const struct proxy_kw proxy_kws[] = {
	{ "acl",             px_acl,             0 },
	{ "balance",         px_balance,         IN_DEFAULTS },
	{ "bind",            px_bind,            0 },
	{ "clitimeout",      px_legacy_timeout,  IN_DEFAULTS },
	{ "contimeout",      px_legacy_timeout,  IN_DEFAULTS },
	{ "default_backend", px_default_backend, IN_DEFAULTS },
	{ "description",     px_ignore,          IN_DEFAULTS },
	{ "http-check",      px_http_check,      IN_DEFAULTS },
	{ "id",              px_ignore,          0 },
	{ "log",             px_log,             IN_DEFAULTS },
	{ "maxconn",         px_maxconn,         IN_DEFAULTS },
	{ "mode",            px_mode,            IN_DEFAULTS },
	{ "no",              px_no,              IN_DEFAULTS },
	{ "option",          px_option_kw,       IN_DEFAULTS },
	{ "redispatch",      px_redispatch,      IN_DEFAULTS },
	{ "retries",         px_retries,         IN_DEFAULTS },
	{ "server",          px_server,          0 },
	{ "srvtimeout",      px_legacy_timeout,  IN_DEFAULTS },
	{ "timeout",         px_timeout,         IN_DEFAULTS },
	{ "use_backend",     px_use_backend,     0 },
};

/* Known HAProxy proxy keywords without an effect here: warned about. */
static const char *const proxy_known[] = {
	"appsession", "block", "capture", "compression", "cookie",
	"default-server", "dispatch", "errorfile", "errorloc", "errorloc302",
	"errorloc303", "external-check", "fullconn", "grace", "hash-type",
	"http-request", "http-response", "http-reuse",
	"monitor", "monitor-net", "monitor-uri", "persist", "rate-limit",
	"reqadd", "reqallow", "reqdel", "reqdeny", "reqiallow", "reqidel",
	"reqideny", "reqipass", "reqirep", "reqitarpit", "reqpass", "reqrep",
	"reqtarpit", "rspadd", "rspdel", "rspdeny", "rspidel", "rspideny",
	"rspirep", "rsprep", "source", "stats", "stick", "stick-table",
	"tcp-check", "tcp-request", "tcp-response", "unique-id-format",
	"unique-id-header",
};

/* Of those, the ones whose absence lets through what they would deny. */
static const char *const proxy_filters[] = {
	"block", "http-request", "reqdeny", "reqideny", "reqitarpit",
	"reqtarpit", "rspdeny", "rspideny", "tcp-request",
};

static void
parse_proxy_line(struct parser *p, char **w, int n)
{
	struct proxy *px = p->cur;
	const struct proxy_kw *kw;

	if (px == NULL)
		return;         /* the section header was already an error */
	kw = bsearch(w[0], proxy_kws, sizeof(proxy_kws) / sizeof(proxy_kws[0]),
	    sizeof(proxy_kws[0]), kw_cmp);
	if (kw == NULL) {
		if (is_known_unsupported(proxy_filters, NELEM(proxy_filters),
		    w[0]))
			p_warn(p, "'%s' is not supported by wsproxy; ignored: "
			    "nothing is filtered or denied by this line.", w[0]);
		else if (is_known_unsupported(proxy_known, NELEM(proxy_known),
		    w[0]))
			p_warn(p, "'%s' is not supported by wsproxy; ignored.",
			    w[0]);
		else
			p_err(p, "unknown keyword '%s' in '%s' section", w[0],
			    px->kind);
		return;
	}
	if (p->sec == SEC_DEFAULTS && !(kw->flags & IN_DEFAULTS)) {
		p_err(p, "'%s' not allowed in 'defaults' section.", w[0]);
		return;
	}
	kw->parse(p, px, w, n);
}

/* ---- the file ---- */

static int
is_section_keyword(const char *w)
{
	return strcmp(w, "global") == 0 || strcmp(w, "defaults") == 0 ||
	    strcmp(w, "frontend") == 0 || strcmp(w, "backend") == 0 ||
	    strcmp(w, "listen") == 0;
}

static void
parse_line(struct parser *p, char **w, int n)
{
	if (is_section_keyword(w[0])) {
		end_section(p);
		if (strcmp(w[0], "global") == 0) {
			p->sec = SEC_GLOBAL;
			if (n > 1)
				p_err(p, "'global' expects no argument.");
		} else if (strcmp(w[0], "defaults") == 0) {
			start_defaults(p, w, n);
		} else {
			start_section(p, w, n);
		}
		return;
	}
	switch (p->sec) {
	case SEC_NONE:
		p_err(p, "unknown keyword '%s' out of section.", w[0]);
		break;
	case SEC_GLOBAL:
		parse_global_line(p, w, n);
		break;
	case SEC_DEFAULTS:
	case SEC_PROXY:
		parse_proxy_line(p, w, n);
		break;
	}
}

/* ---- checks once the whole file is read ---- */

static struct proxy *
resolve_backend(struct parser *p, struct proxy *fe, const char *name,
    int line, const char *what)
{
	struct proxy *be = find_proxy(p->cfg, name, CAP_BE);

	if (be == NULL) {
		p_err_at(p, line, "Proxy '%s': unable to find required %s: "
		    "'%s'.", fe->name, what, name);
		return NULL;
	}
	if (be->mode != fe->mode)
		p_err_at(p, line, "%s %s '%s' (%s:%d) tries to use incompatible "
		    "%s backend '%s' (%s:%d) (see 'mode').",
		    fe->mode == MODE_HTTP ? "http" : "tcp", fe->kind, fe->name,
		    p->file, fe->line, be->mode == MODE_HTTP ? "http" : "tcp",
		    be->name, p->file, be->line);
	return be;
}

static void
check_frontend(struct parser *p, struct proxy *fe)
{
	for (int i = 0; i < fe->nrules; i++) {
		struct switch_rule *r = &fe->rules[i];
		r->backend = resolve_backend(p, fe, r->backend_name, r->line,
		    "use_backend");
		if (fe->mode == MODE_TCP && r->cond != NULL &&
		    acl_cond_needs_http(r->cond))
			p_warn_at(p, r->line, "tcp %s '%s': this rule uses HTTP "
			    "fetches, which never match in tcp mode.",
			    fe->kind, fe->name);
	}
	if (fe->default_backend_name != NULL)
		fe->default_backend = resolve_backend(p, fe,
		    fe->default_backend_name, fe->default_backend_line,
		    "default_backend");
	if (fe->mode == MODE_TCP && (fe->options & OPT_HTTPLOG))
		p_warn_at(p, fe->line, "tcp %s '%s': 'option httplog' has no "
		    "effect in tcp mode.", fe->kind, fe->name);
	if (fe->mode == MODE_TCP && (fe->options & OPT_FORWARDFOR))
		p_warn_at(p, fe->line, "tcp %s '%s': 'option forwardfor' has "
		    "no effect in tcp mode.", fe->kind, fe->name);
	if (fe->nbinds == 0)
		p_warn_at(p, fe->line, "%s '%s' has no 'bind' directive. Please "
		    "declare it as a backend if this was intended.", fe->kind,
		    fe->name);
}

static void
check_timeouts(struct parser *p, struct proxy *px)
{
	int missing = 0;

	if ((px->cap & CAP_FE) && px->to.client == 0)
		missing = 1;
	if ((px->cap & CAP_BE) && px->nservers > 0 && (px->to.connect == 0 ||
	    (px->to.server == 0 && !(px->mode == MODE_TCP && px->to.tunnel))))
		missing = 1;
	if (missing)
		p_warn_at(p, px->line, "missing timeouts for %s '%s'. While not "
		    "properly invalid, you will certainly encounter various "
		    "problems with such a configuration. To fix this, please "
		    "ensure that all following timeouts are set to a non-zero "
		    "value: 'client', 'connect', 'server'.",
		    strcmp(px->kind, "listen") == 0 ? "proxy" : px->kind,
		    px->name);
}

static void
check_config(struct parser *p)
{
	for (struct proxy *px = p->cfg->proxies; px; px = px->next) {
		if (px->cap & CAP_FE)
			check_frontend(p, px);
		else if (px->mode == MODE_TCP && (px->options & OPT_FORWARDFOR))
			p_warn_at(p, px->line, "tcp backend '%s': 'option "
			    "forwardfor' has no effect in tcp mode.", px->name);
		check_timeouts(p, px);
	}
}

/* Every keyword table is sorted, or nothing starts (kwtable.h). */
static void
tables_check(void)
{
	char err[256];

	if (acl_tables_check(err, sizeof(err)) < 0)
		fatalx("%s", err);
}

static void
config_init(struct config *cfg, const char *file)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->file = file;
	cfg->maxconn = DEFAULT_MAXCONN;
	cfg->bufsize = DEFAULT_BUFSIZE;
	cfg->maxhdr = HTTP_DEFAULT_MAXHDR;
	cfg->log_tag = xstrdup("wsproxy");
}

struct config *
config_load(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_plain("%s:0: cannot open configuration file: %s", file,
		    strerror(errno));
		return NULL;
	}
	return config_load_fd(fd, file);
}

struct config *
config_load_fd(int fd, const char *file)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	struct parser p;
	struct wordbuf *wb = xcalloc(1, sizeof(*wb));
	char *line = NULL, *words[MAX_WORDS];
	size_t cap = 0;
	FILE *fp;

	config_init(cfg, file);
	tables_check();
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = file;
	p.tail = &cfg->proxies;
	proxy_init_defaults(&p.defaults);
	fp = fdopen(fd, "r");
	if (fp == NULL) {
		log_plain("%s:0: cannot read configuration file: %s", file,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	while (getline(&line, &cap, fp) >= 0) {
		int n;
		p.line++;
		line[strcspn(line, "\r\n")] = '\0';
		n = split_words(&p, line, wb, words);
		if (n > 0)
			parse_line(&p, words, n);
	}
	if (ferror(fp))
		p_err(&p, "read error: %s", strerror(errno));
	fclose(fp);
	free(line);
	end_section(&p);
	check_config(&p);
	defaults_release(&p.defaults);
	while (p.named != NULL) {
		struct named_defaults *next = p.named->next;
		defaults_release(&p.named->px);
		free(p.named);
		p.named = next;
	}
	free(wb);
	/* A configuration lives until exit; a rejected one is not freed
	 * (at start-up wsproxy exits; a refused reload costs its memory). */
	return p.errors ? NULL : cfg;
}
