/*
 * cfgwords.c - the configuration's vocabulary below the keywords: lines
 * split into words as HAProxy splits them (quotes, escapes, "$VAR"),
 * time and integer values, log target specifications, the diagnostics
 * every parser file reports through ("FILE:LINE: message"), and the
 * allocation helpers (running out of memory while parsing is fatal).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"
#include "log.h"

/* ---- diagnostics ---- */

static void
p_vreport(struct parser *p, int line, const char *kind, const char *fmt,
    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_plain("%s:%d: %s%s", p->file, line, kind, msg);
}

void
p_err(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vreport(p, p->line, "", fmt, ap);
	va_end(ap);
	p->errors++;
}

void
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
void
p_err_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vreport(p, line, "", fmt, ap);
	va_end(ap);
	p->errors++;
}

void
p_warn_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->cfg->quiet)
		return;
	va_start(ap, fmt);
	p_vreport(p, line, "warning: ", fmt, ap);
	va_end(ap);
}


void
p_unsupported(struct parser *p, enum kw_support support, const char *what)
{
	switch (support) {
	case KW_DONE:
		break;
	case KW_WARN:
		p_warn(p, "%s is not supported by wsproxy; ignored.", what);
		break;
	case KW_REFUSE:
		p_err(p, "%s is not implemented by wsproxy, and ignoring it "
		    "would let through or change what this line denies, "
		    "limits, authenticates, redirects or rewrites: remove it, "
		    "or use HAProxy.", what);
		break;
	case KW_TLS:
		p_err(p, "%s cannot be honoured: wsproxy speaks no TLS "
		    "(terminate TLS in front of it, e.g. with stunnel).", what);
		break;
	}
}

/* ---- allocation ---- */

void *
xcalloc(size_t n, size_t size)
{
	void *ptr = calloc(n, size);

	if (ptr == NULL)
		fatal("calloc");
	return ptr;
}

char *
xstrdup(const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		fatal("strdup");
	return copy;
}

char *
strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/*
 * Grows *array by one element and returns it, zeroed. The capacity is
 * the count rounded up to a power of two (at least 4), so a port range
 * of thousands of listeners costs no quadratic copying.
 */
size_t
grow_capacity(size_t n)
{
	size_t cap = 4;

	while (cap < n)
		cap *= 2;
	return cap;
}

void *
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
int
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
int
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
		for (size_t i = 0; i < NELEM(units); i++) {
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

int
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

int
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
lookup_name(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

/* "log ADDR [len N] [format F] FACILITY [MAXLEVEL [MINLEVEL]]" */
int
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
	t->facility = lookup_name(facilities, NELEM(facilities), w[i]);
	if (t->facility < 0) {
		p_err(p, "unknown log facility '%s'", w[i]);
		return -1;
	}
	if (++i < n &&
	    (t->max_level = lookup_name(levels, NELEM(levels), w[i])) < 0) {
		p_err(p, "unknown optional log level '%s'", w[i]);
		return -1;
	}
	if (++i < n &&
	    (t->min_level = lookup_name(levels, NELEM(levels), w[i])) < 0) {
		p_err(p, "unknown optional minimum log level '%s'", w[i]);
		return -1;
	}
	if (++i < n) {
		p_err(p, "'log' : unexpected extra argument '%s'.", w[i]);
		return -1;
	}
	return 0;
}


int
log_target_equal(const struct log_target *a, const struct log_target *b)
{
	return a->fd == b->fd && a->facility == b->facility &&
	    a->max_level == b->max_level && a->min_level == b->min_level &&
	    a->len == b->len && a->raw == b->raw && a->addr.len == b->addr.len &&
	    memcmp(&a->addr.ss, &b->addr.ss, a->addr.len) == 0;
}
