/*
 * redirect.c - redirect rules (redirect.h), as 2.6's
 * http_parse_redirect_rule() reads them and http_apply_redirect_rule()
 * answers (reference 10.5).
 *
 * The answer is a head only: the status line, "content-length: 0",
 * "location", "cache-control: no-cache" for the temporary codes (302,
 * 303, 307), then the cookie. The caller sends it as a struct reply, so
 * the Connection header the client needs comes last, as 2.6's H1 mux
 * puts it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "redirect.h"

/* ---- parsing ---- */

static int
code_ok(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308;
}

/*
 * The target of a plain "redirect": literal text. As a value format
 * with every '%' doubled it means the same, so the one parser serves
 * both (logfmt_new_literal() would do too, where it exists).
 */
static struct logfmt *
target_literal(const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text), npct = 0;
	struct logfmt *f;
	char *fmt, *o;

	for (const char *c = text; *c; c++)
		npct += *c == '%';
	if ((fmt = malloc(len + npct + 1)) == NULL) {
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	for (o = fmt; *text; text++) {
		if (*text == '%')
			*o++ = '%';
		*o++ = *text;
	}
	*o = '\0';
	f = logfmt_parse(fmt, err, errlen);
	free(fmt);
	return f;
}

static int
set_string(char **field, const char *value, char *err, size_t errlen)
{
	free(*field);
	if ((*field = strdup(value)) == NULL) {
		snprintf(err, errlen, "out of memory.");
		return -1;
	}
	return 0;
}

/* "set-cookie" and "clear-cookie" share one cookie in 2.6: the last
 * one written wins. */
static int
set_cookie(struct redirect *r, const char *kw, const char *value,
    char *err, size_t errlen)
{
	int clear = strcmp(kw, "clear-cookie") == 0;

	free(clear ? r->set_cookie : r->clear_cookie);
	if (clear)
		r->set_cookie = NULL;
	else
		r->clear_cookie = NULL;
	return set_string(clear ? &r->clear_cookie : &r->set_cookie, value,
	    err, errlen);
}

/* A word without argument; 0 if kw is one, -1 if unknown. */
static int
set_flag(struct redirect *r, const char *kw)
{
	if (strcmp(kw, "drop-query") == 0)
		r->drop_query = 1;
	else if (strcmp(kw, "append-slash") == 0)
		r->append_slash = 1;
	else if (strcmp(kw, "ignore-empty") == 0)
		r->ignore_empty = 1;
	else
		return -1;
	return 0;
}

static int
type_of(const char *kw, enum redirect_type *type)
{
	if (strcmp(kw, "location") == 0)
		*type = REDIRECT_LOCATION;
	else if (strcmp(kw, "prefix") == 0)
		*type = REDIRECT_PREFIX;
	else if (strcmp(kw, "scheme") == 0)
		*type = REDIRECT_SCHEME;
	else
		return -1;
	return 0;
}

/*
 * One word and its argument (w[1], when it takes one); returns how many
 * words it took, or -1 with err set. *target points at the last TARGET.
 */
static int
parse_word(struct redirect *r, char **w, int n, const char **target,
    char *err, size_t errlen)
{
	enum redirect_type type;
	int takes_arg = type_of(w[0], &type) == 0 ||
	    strcmp(w[0], "code") == 0 || strcmp(w[0], "set-cookie") == 0 ||
	    strcmp(w[0], "clear-cookie") == 0;

	if (!takes_arg) {
		if (set_flag(r, w[0]) == 0)
			return 1;
		snprintf(err, errlen, "expects 'code', 'prefix', 'location', "
		    "'scheme', 'set-cookie', 'clear-cookie', 'drop-query', "
		    "'ignore-empty' or 'append-slash' (was '%s').", w[0]);
		return -1;
	}
	/* 2.6 reads until an empty word: one ends the arguments too */
	if (n < 2 || w[1][0] == '\0') {
		snprintf(err, errlen, "missing argument for '%s'.", w[0]);
		return -1;
	}
	if (type_of(w[0], &type) == 0) {
		r->type = type;
		*target = w[1];
	} else if (strcmp(w[0], "code") == 0) {
		/* 2.6's atol: "302x" is 302, trailing text ignored */
		long code = strtol(w[1], NULL, 10);
		r->code = code > 0 && code < 1000 ? (int)code : 0;
		if (!code_ok(r->code)) {
			snprintf(err, errlen, "'code': unsupported HTTP code "
			    "'%s' (must be one of 301, 302, 303, 307 or 308).",
			    w[1]);
			return -1;
		}
	} else if (set_cookie(r, w[0], w[1], err, errlen) < 0) {
		return -1;
	}
	return 2;
}

int
redirect_parse(struct redirect *r, char **w, int n, int logformat,
    int *used, char *err, size_t errlen)
{
	const char *target = NULL;
	int i = 0;

	r->code = 302;
	while (i < n && w[i][0] != '\0' && strcmp(w[i], "if") != 0 &&
	    strcmp(w[i], "unless") != 0) {
		int took = parse_word(r, w + i, n - i, &target, err, errlen);
		if (took < 0)
			return -1;
		i += took;
	}
	*used = i;
	if (target == NULL) {
		snprintf(err, errlen, "redirection type expected ('prefix', "
		    "'location', or 'scheme').");
		return -1;
	}
	logfmt_free(r->target);
	r->target = logformat ? logfmt_parse(target, err, errlen) :
	    target_literal(target, err, errlen);
	return r->target == NULL ? -1 : 0;
}

/* ---- the response ---- */

static const char *
reason_of(int code)
{
	switch (code) {
	case 301: return "Moved Permanently";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	default: return "Found";
	}
}

/*
 * What 2.6's http_parse_path() gives: an origin-form target whole (path
 * and query), the path and query of an absolute-form one, else "/".
 */
static void
request_path(const struct http_msg *req, const char **path, size_t *len)
{
	const char *p = req->uri, *end = req->uri + req->uri_len;

	if (p < end && *p != '/' && *p != '*') {
		const char *scheme_end = memmem(p, (size_t)(end - p), "://", 3);
		if (scheme_end != NULL)
			p = scheme_end + 3;
		p = memchr(p, '/', (size_t)(end - p));
	} else if (p < end && *p == '*') {
		p = NULL;
	}
	if (p == NULL || p == end) {
		*path = "/";
		*len = 1;
		return;
	}
	*path = p;
	*len = (size_t)(end - p);
}

/* The path to append, cut at its first '?' for drop-query. */
static void
path_for(const struct redirect *r, const struct http_msg *req,
    const char **path, size_t *len)
{
	const char *q;

	request_path(req, path, len);
	if (r->drop_query && (q = memchr(*path, '?', *len)) != NULL)
		*len = (size_t)(q - *path);
}

/* The Host header as received (the first one), or nothing. */
static void
host_of(const struct http_msg *req, const char **host, size_t *len)
{
	int idx = 0;
	const struct http_hdr *h = http_hdr_find(req, "host", 4, &idx);

	*host = h ? h->value : "";
	*len = h ? h->value_len : 0;
}

/* Expands the target at the end of out; -1 when it does not fit. */
static ssize_t
add_target(const struct redirect *r, const struct lf_input *in,
    struct http_out *out)
{
	ssize_t n = logfmt_expand(r->target, in, out->data + out->len,
	    out->cap - out->len);

	if (n < 0)
		out->overflow = 1;
	else
		out->len += (size_t)n;
	return n;
}

/*
 * The Location value at the end of out (which holds the head so far,
 * from start on). Returns 1 for a rule to skip, else 0.
 */
static int
add_location(const struct redirect *r, const struct lf_input *in,
    struct http_out *out, size_t start)
{
	const char *path, *host, *lit = logfmt_literal(r->target);
	size_t path_len, host_len;

	switch (r->type) {
	case REDIRECT_LOCATION:
		if (add_target(r, in, out) == 0 && r->ignore_empty)
			return 1;
		return 0;       /* drop-query and append-slash: no effect */
	case REDIRECT_SCHEME:
		host_of(in->req, &host, &host_len);
		(void)add_target(r, in, out);
		http_out_lit(out, "://");
		http_out_add(out, host, host_len);
		break;
	case REDIRECT_PREFIX:
		/* "/" exactly is no prefix: a self-redirect stays one */
		if (lit == NULL || strcmp(lit, "/") != 0)
			(void)add_target(r, in, out);
		break;
	}
	path_for(r, in->req, &path, &path_len);
	http_out_add(out, path, path_len);
	/* after the query, if any: 2.6 looks at the whole Location */
	if (r->append_slash && !out->overflow && out->len > start &&
	    out->data[out->len - 1] != '/')
		http_out_lit(out, "/");
	return 0;
}

static void
add_cookie(const struct redirect *r, struct http_out *out)
{
	if (r->set_cookie != NULL) {
		http_out_lit(out, "set-cookie: ");
		http_out_str(out, r->set_cookie);
		http_out_lit(out, "; path=/;\r\n");
	} else if (r->clear_cookie != NULL) {
		http_out_lit(out, "set-cookie: ");
		http_out_str(out, r->clear_cookie);
		http_out_lit(out, "; path=/; Max-Age=0;\r\n");
	}
}

int
redirect_build(const struct redirect *r, const struct lf_input *in,
    char *buf, size_t cap, struct reply *out)
{
	struct http_out head = { buf, 0, cap, 0 };
	char status_line[64];
	size_t location_start;

	snprintf(status_line, sizeof(status_line), "HTTP/1.1 %d %s\r\n",
	    r->code, reason_of(r->code));
	http_out_str(&head, status_line);
	http_out_lit(&head, "content-length: 0\r\nlocation: ");
	location_start = head.len;
	if (!head.overflow && add_location(r, in, &head, location_start))
		return 1;
	http_out_lit(&head, "\r\n");
	if (r->code == 302 || r->code == 303 || r->code == 307)
		http_out_lit(&head, "cache-control: no-cache\r\n");
	add_cookie(r, &head);
	if (head.overflow || head.len + 2 > cap)
		return -1;
	memset(out, 0, sizeof(*out));
	out->status = r->code;
	out->data = buf;
	out->head_len = head.len;
	buf[head.len] = '\r';
	buf[head.len + 1] = '\n';
	out->len = head.len + 2;
	out->http11 = 1;
	return 0;
}

void
redirect_free(struct redirect *r)
{
	if (r == NULL)
		return;
	logfmt_free(r->target);
	free(r->set_cookie);
	free(r->clear_cookie);
	free(r);
}
