/*
 * ruleexec.c - runs http-request, redirect and http-response rules
 * (ruleexec.h) as 2.6 does (reference 10.1, 10.3, 10.4, 10.8): the first
 * final action ends a proxy's list; header rewrites keep the other
 * lines in place and append new ones after them; a rewritten request
 * line is built again from its method, URI and version.
 *
 * The parsed message points into the connection's buffer, which holds
 * the bytes as they came; every new byte (a value, a line) goes into the
 * arena, so nothing moves under the pointers of the header table. When
 * the rules are done, an edited message is written out and parsed again
 * (ruleexec_reparse): what is forwarded, and what the rest of the
 * exchange knows of it, is exactly the new head.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aclregex.h"
#include "match.h"
#include "redirect.h"
#include "reply.h"
#include "ruleexec.h"

/* Groups \0..\9 of the replace-* actions. */
#define NGROUPS 10

/* ---- the arena ---- */

/* Room for len more bytes: where they go, or NULL (the arena is full). */
static char *
arena_take(struct rule_ctx *c, size_t len)
{
	struct http_out *a = c->arena;
	char *at;

	if (len > a->cap - a->len) {
		a->overflow = 1;
		return NULL;
	}
	at = a->data + a->len;
	a->len += len;
	return at;
}

static const char *
arena_copy(struct rule_ctx *c, const char *data, size_t len)
{
	char *at = arena_take(c, len);

	if (at != NULL && len > 0)
		memcpy(at, data, len);
	return at;
}

/* A value may not end a header line early or smuggle another one. */
static int
value_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
			return 0;
	return 1;
}

/* Expands f at the arena's end; NULL when it does not fit or holds a
 * line break. */
static const char *
expand(struct rule_ctx *c, const struct logfmt *f, size_t *len)
{
	struct http_out *a = c->arena;
	char *at = a->data + a->len;
	ssize_t n = logfmt_expand(f, &c->lf, at, a->cap - a->len);

	if (n < 0 || !value_ok(at, (size_t)n))
		return NULL;
	a->len += (size_t)n;
	*len = (size_t)n;
	return at;
}

/* ---- headers ---- */

static int
name_eq(const struct http_hdr *h, const char *name, size_t len)
{
	return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

static int
name_selected(const struct rule *r, const struct http_hdr *h)
{
	const char *n = h->name;
	size_t len = h->name_len, want = r->name_len;

	switch (r->name_match) {
	case MATCH_BEG:
		return len >= want && strncasecmp(n, r->name, want) == 0;
	case MATCH_END:
		return len >= want && strncasecmp(n + len - want, r->name,
		    want) == 0;
	case MATCH_SUB:
		for (size_t i = 0; i + want <= len; i++)
			if (strncasecmp(n + i, r->name, want) == 0)
				return 1;
		return 0;
	case MATCH_REG:
		return aclregex_match(r->name_re, n, len);
	default:
		return name_eq(h, r->name, want);
	}
}

static void
del_headers(struct rule_ctx *c, const struct rule *r)
{
	struct http_msg *m = c->msg;
	int kept = 0;

	for (int i = 0; i < m->nhdrs; i++)
		if (!name_selected(r, &m->hdrs[i]))
			m->hdrs[kept++] = m->hdrs[i];
	if (kept != m->nhdrs)
		c->edited = 1;
	m->nhdrs = kept;
}

static int
add_header(struct rule_ctx *c, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	struct http_msg *m = c->msg;

	if (m->nhdrs >= c->maxhdrs)
		return -1;      /* 2.6 too fails a rewrite past its limits */
	m->hdrs[m->nhdrs++] = (struct http_hdr){ name, name_len, value,
	    value_len };
	c->edited = 1;
	return 0;
}

/* set-header and add-header: the value is expanded before any line is
 * removed, so it may read the header it replaces. */
static int
set_header(struct rule_ctx *c, const struct rule *r)
{
	size_t len;
	const char *v = expand(c, r->value, &len);

	if (v == NULL)
		return -1;
	if (r->action == ACT_SET_HEADER)
		del_headers(c, r);
	return add_header(c, r->name, r->name_len, v, len);
}

/*
 * The replacement of a match: the expanded format with \0..\9 replaced
 * by the groups of the subject (a group that took no part: nothing).
 */
static const char *
substitute(struct rule_ctx *c, const struct rule *r, const char *subject,
    const regmatch_t *m, size_t *len)
{
	size_t flen, start = c->arena->len;
	const char *fmt = expand(c, r->value, &flen);
	char *out;

	if (fmt == NULL)
		return NULL;
	out = c->arena->data + c->arena->len;
	for (size_t i = 0; i < flen; i++) {
		if (fmt[i] == '\\' && i + 1 < flen &&
		    isdigit((unsigned char)fmt[i + 1])) {
			const regmatch_t *g = &m[fmt[++i] - '0'];
			if (g->rm_so >= 0 && arena_copy(c, subject + g->rm_so,
			    (size_t)(g->rm_eo - g->rm_so)) == NULL)
				return NULL;
		} else if (arena_copy(c, &fmt[i], 1) == NULL) {
			return NULL;
		}
	}
	*len = (size_t)(c->arena->data + c->arena->len - out);
	/* the expanded format is not needed any more: move the result down */
	memmove(c->arena->data + start, out, *len);
	c->arena->len = start + *len;
	if (!value_ok(c->arena->data + start, *len))
		return NULL;
	return c->arena->data + start;
}

/* replace-header: a match anywhere replaces the whole value. */
static int
replace_header(struct rule_ctx *c, const struct rule *r, struct http_hdr *h)
{
	regmatch_t m[NGROUPS];
	const char *v;
	size_t len;

	if (!aclregex_exec(r->re, h->value, h->value_len, m, NGROUPS))
		return 0;
	if ((v = substitute(c, r, h->value, m, &len)) == NULL)
		return -1;
	h->value = v;
	h->value_len = len;
	c->edited = 1;
	return 0;
}

/* replace-value: each comma-separated element on its own, joined again
 * by a bare comma as 2.6 joins them. Each piece is appended at the
 * arena's end (substitute() leaves its result there), so the new value
 * grows in one place. */
static int
replace_value(struct rule_ctx *c, const struct rule *r, struct http_hdr *h)
{
	regmatch_t m[NGROUPS];
	size_t pos = 0, elen, start = c->arena->len, n;
	const char *elem;
	int first = 1;

	while (http_value_next(h->value, h->value_len, &pos, &elem, &elen)) {
		if (!first && arena_copy(c, ",", 1) == NULL)
			return -1;
		first = 0;
		if (!aclregex_exec(r->re, elem, elen, m, NGROUPS)) {
			if (arena_copy(c, elem, elen) == NULL)
				return -1;
		} else if (substitute(c, r, elem, m, &n) == NULL) {
			return -1;
		}
	}
	h->value = c->arena->data + start;
	h->value_len = c->arena->len - start;
	c->edited = 1;
	return 0;
}

static int
replace_headers(struct rule_ctx *c, const struct rule *r)
{
	struct http_msg *m = c->msg;

	for (int i = 0; i < m->nhdrs; i++) {
		struct http_hdr *h = &m->hdrs[i];
		if (!name_eq(h, r->name, r->name_len))
			continue;
		if ((r->action == ACT_REPLACE_HEADER ? replace_header(c, r, h) :
		    replace_value(c, r, h)) < 0)
			return -1;
	}
	return 0;
}

/* ---- the request line ---- */

static int
token_ok(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
			return 0;
	return 1;
}

static int
uri_ok(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

/* msg->line from the current method, URI and version. */
static int
rebuild_request_line(struct rule_ctx *c)
{
	struct http_msg *m = c->msg;
	char version[16];
	int vlen = snprintf(version, sizeof(version), " HTTP/%d.%d",
	    m->vmajor, m->vminor);
	size_t len = m->method_len + 1 + m->uri_len + (size_t)vlen;
	char *line = arena_take(c, len);

	if (line == NULL)
		return -1;
	memcpy(line, m->method, m->method_len);
	line[m->method_len] = ' ';
	memcpy(line + m->method_len + 1, m->uri, m->uri_len);
	memcpy(line + m->method_len + 1 + m->uri_len, version, (size_t)vlen);
	m->line = line;
	m->line_len = len;
	c->edited = 1;
	return 0;
}

/* The URI's parts: what precedes the path (scheme://authority), the
 * path, and the query with its '?'. */
struct uri_parts {
	const char *prefix, *path, *query;
	size_t prefix_len, path_len, query_len;
};

static void
uri_split(const struct http_msg *m, struct uri_parts *u)
{
	const char *end = m->uri + m->uri_len;
	const char *q;

	http_req_path(m, &u->path, &u->path_len);
	if (u->path == NULL || u->path < m->uri || u->path > end) {
		u->path = end;
		u->path_len = 0;
	}
	u->prefix = m->uri;
	u->prefix_len = (size_t)(u->path - m->uri);
	q = memchr(u->path, '?', (size_t)(end - u->path));
	if (q != NULL && (size_t)(q - u->path) < u->path_len)
		u->path_len = (size_t)(q - u->path);
	u->query = q != NULL ? q : end;
	u->query_len = (size_t)(end - u->query);
}

/* Host follows an absolute URI written by set-uri, as in 2.6. */
static int
host_follows(struct rule_ctx *c, const char *uri, size_t len)
{
	const char *sep = memmem(uri, len, "://", 3), *auth, *end;
	struct http_msg *m = c->msg;
	int found = 0;

	if (sep == NULL || memchr(uri, '/', (size_t)(sep - uri)) != NULL)
		return 0;
	auth = sep + 3;
	end = memchr(auth, '/', (size_t)(uri + len - auth));
	if (end == NULL)
		end = uri + len;
	for (int i = 0; i < m->nhdrs; i++)
		if (name_eq(&m->hdrs[i], "host", 4)) {
			m->hdrs[i].value = auth;
			m->hdrs[i].value_len = (size_t)(end - auth);
			found = 1;
		}
	c->edited = 1;
	return found ? 0 : add_header(c, "host", 4, auth,
	    (size_t)(end - auth));
}

/* set-uri, replace-uri: the URI is v; Host follows an absolute one. */
static int
set_whole_uri(struct rule_ctx *c, const char *v, size_t len)
{
	if (!uri_ok(v, len) || host_follows(c, v, len) < 0)
		return -1;
	c->msg->uri = v;
	c->msg->uri_len = len;
	return rebuild_request_line(c);
}

/* A new URI: prefix, then middle, then suffix (parts of the old one). */
static int
set_uri_parts(struct rule_ctx *c, const char *prefix, size_t prefix_len,
    const char *middle, size_t middle_len, const char *suffix,
    size_t suffix_len)
{
	size_t total = prefix_len + middle_len + suffix_len;
	char *uri = arena_take(c, total);

	if (uri == NULL)
		return -1;
	memcpy(uri, prefix, prefix_len);
	memcpy(uri + prefix_len, middle, middle_len);
	memcpy(uri + prefix_len + middle_len, suffix, suffix_len);
	if (!uri_ok(uri, total))
		return -1;
	c->msg->uri = uri;
	c->msg->uri_len = total;
	return rebuild_request_line(c);
}

static int
set_line_part(struct rule_ctx *c, const struct rule *r)
{
	struct http_msg *m = c->msg;
	struct uri_parts u;
	size_t len;
	const char *v = expand(c, r->value, &len);

	if (v == NULL)
		return -1;
	if (r->action == ACT_SET_METHOD) {
		if (!token_ok(v, len))
			return -1;
		m->method = v;
		m->method_len = len;
		return rebuild_request_line(c);
	}
	if (r->action == ACT_SET_URI)
		return set_whole_uri(c, v, len);
	uri_split(m, &u);
	if (r->action == ACT_SET_PATH)
		return set_uri_parts(c, u.prefix, u.prefix_len, v, len,
		    u.query, u.query_len);
	/* set-query: the '?' goes with an empty query, as in 2.6 (the
	 * prefix and the path are one run of the old URI) */
	return set_uri_parts(c, u.prefix, u.prefix_len + u.path_len,
	    len > 0 ? "?" : "", len > 0 ? 1 : 0, v, len);
}

/*
 * replace-path, replace-pathq, replace-uri: as replace-header, a match
 * replaces the whole part (the path; the path and the query; the URI)
 * with the format, \1..\9 taken from the match; no match, no change.
 * The rest of the URI stays, and Host follows a new absolute URI as
 * after set-uri.
 */
static int
replace_line_part(struct rule_ctx *c, const struct rule *r)
{
	struct http_msg *m = c->msg;
	regmatch_t g[NGROUPS];
	struct uri_parts u;
	const char *subject, *v;
	size_t subject_len, len;

	uri_split(m, &u);
	if (r->action == ACT_REPLACE_URI) {
		subject = m->uri;
		subject_len = m->uri_len;
	} else {
		subject = u.path;
		subject_len = u.path_len + (r->action == ACT_REPLACE_PATHQ ?
		    u.query_len : 0);
	}
	if (!aclregex_exec(r->re, subject, subject_len, g, NGROUPS))
		return 0;
	if ((v = substitute(c, r, subject, g, &len)) == NULL)
		return -1;
	if (r->action == ACT_REPLACE_URI)
		return set_whole_uri(c, v, len);
	if (r->action == ACT_REPLACE_PATHQ)
		return set_uri_parts(c, u.prefix, u.prefix_len, v, len, "", 0);
	return set_uri_parts(c, u.prefix, u.prefix_len, v, len, u.query,
	    u.query_len);
}

/* set-status CODE [reason R]: the response's first line again. */
static int
set_status(struct rule_ctx *c, const struct rule *r)
{
	struct http_msg *m = c->msg;
	char line[512];
	int n = snprintf(line, sizeof(line), "HTTP/%d.%d %d %s", m->vmajor,
	    m->vminor, r->status, r->reason ? r->reason : http_reason(r->status));
	const char *at;

	if (n < 0 || (size_t)n >= sizeof(line) ||
	    (at = arena_copy(c, line, (size_t)n)) == NULL)
		return -1;
	m->status = r->status;
	m->line = at;
	m->line_len = (size_t)n;
	c->edited = 1;
	return 0;
}

/* ---- replies ---- */

const struct reply *
ruleexec_status_reply(const struct rule_ctx *c, int status)
{
	const struct reply *r = reply_find(c->lf.be, c->lf.fe, status);

	return r != NULL ? r : reply_builtin(status);
}

static void
out_line(struct http_out *out, const char *name, const char *value,
    size_t value_len)
{
	http_out_str(out, name);
	http_out_lit(out, ": ");
	http_out_add(out, value, value_len);
	http_out_lit(out, "\r\n");
}

/* Ends a reply built in out: head_len is where "connection: close" may
 * still go. */
static int
built_reply(struct rule_ctx *c, int status, size_t head_len)
{
	if (c->out->overflow)
		return -1;
	c->built = (struct reply){ status, c->out->data, c->out->len,
	    head_len, 0, 1 };
	c->reply = &c->built;
	return 0;
}

/* return, and deny with a payload (reference 10.4): hdr lines first,
 * then content-length and content-type. */
static int
build_return(struct rule_ctx *c, const struct rule_return *ret)
{
	struct http_out *out = c->out;
	const char *body;
	size_t body_len = ret->payload_len, head_len;
	char num[32];

	if (ret->file != NULL) {
		c->reply = ret->file;
		return 0;
	}
	if (ret->errorfiles) {
		c->reply = ruleexec_status_reply(c, ret->status);
		return 0;
	}
	if (ret->body == NULL)
		body = ret->payload;
	else if ((body = expand(c, ret->body, &body_len)) == NULL)
		return -1;
	out->len = 0;
	out->overflow = 0;
	snprintf(num, sizeof(num), "HTTP/1.1 %d ", ret->status);
	http_out_str(out, num);
	http_out_str(out, http_reason(ret->status));
	http_out_lit(out, "\r\n");
	for (int i = 0; i < ret->nhdrs; i++) {
		size_t len;
		const char *v = expand(c, ret->hdrs[i].value, &len);
		if (v == NULL)
			return -1;
		out_line(out, ret->hdrs[i].name, v, len);
	}
	snprintf(num, sizeof(num), "%zu", body_len);
	out_line(out, "content-length", num, strlen(num));
	if (body_len > 0 && ret->content_type != NULL)
		out_line(out, "content-type", ret->content_type,
		    strlen(ret->content_type));
	head_len = out->len;
	http_out_lit(out, "\r\n");
	if (body_len > 0)
		http_out_add(out, body, body_len);
	return built_reply(c, ret->status, head_len);
}

/* auth: 2.6's 401 page with the realm's challenge as its last header. */
static int
build_auth(struct rule_ctx *c, const struct rule *r)
{
	const struct reply *page = reply_builtin(401);
	struct http_out *out = c->out;
	size_t head_len;

	out->len = 0;
	out->overflow = 0;
	http_out_add(out, page->data, page->head_len);
	http_out_lit(out, "www-authenticate: Basic realm=\"");
	http_out_str(out, r->realm);
	http_out_lit(out, "\"\r\n");
	head_len = out->len;
	http_out_add(out, page->data + page->head_len,
	    page->len - page->head_len);
	return built_reply(c, 401, head_len);
}

/* redirect: 1 when the rule is skipped (ignore-empty). */
static int
build_redirect(struct rule_ctx *c, const struct rule *r)
{
	int rc = redirect_build(r->redirect, &c->lf, c->out->data,
	    c->out->cap, &c->built);

	if (rc == 0)
		c->reply = &c->built;
	return rc;
}

/* A final action: its reply, or how the connection ends. */
static enum rule_verdict
final_action(struct rule_ctx *c, const struct rule *r, const struct proxy *px)
{
	int rc = 0;

	c->final = r;
	c->final_px = px;
	switch (r->action) {
	case ACT_REJECT:
		return VERDICT_REJECT;
	case ACT_USE_SERVICE:
		return VERDICT_SERVICE;
	case ACT_DENY:
	case ACT_TARPIT:
		if (r->ret != NULL)
			rc = build_return(c, r->ret);
		else
			c->reply = ruleexec_status_reply(c, r->status);
		break;
	case ACT_RETURN:
		rc = build_return(c, r->ret);
		break;
	case ACT_AUTH:
		rc = build_auth(c, r);
		break;
	default:        /* ACT_REDIRECT */
		rc = build_redirect(c, r);
		if (rc == 1) {
			c->final = NULL;
			c->final_px = NULL;
			return VERDICT_CONTINUE;
		}
		break;
	}
	if (rc < 0)
		return VERDICT_FAILED;
	return r->action == ACT_TARPIT ? VERDICT_TARPIT : VERDICT_REPLY;
}

/* A rewrite: 0, or -1 when it cannot be made. */
static int
rewrite(struct rule_ctx *c, const struct rule *r)
{
	switch (r->action) {
	case ACT_SET_HEADER:
	case ACT_ADD_HEADER:
		return set_header(c, r);
	case ACT_DEL_HEADER:
		del_headers(c, r);
		return 0;
	case ACT_REPLACE_HEADER:
	case ACT_REPLACE_VALUE:
		return replace_headers(c, r);
	case ACT_SET_STATUS:
		return set_status(c, r);
	case ACT_REPLACE_PATH:
	case ACT_REPLACE_PATHQ:
	case ACT_REPLACE_URI:
		return replace_line_part(c, r);
	default:
		return set_line_part(c, r);
	}
}

enum rule_verdict
ruleexec_run(struct rule_ctx *c, const struct rule_list *list,
    const struct proxy *px)
{
	for (int i = 0; i < list->n; i++) {
		const struct rule *r = &list->rules[i];
		enum rule_verdict v;

		if (r->cond != NULL && !acl_cond_eval(r->cond, &c->acl))
			continue;
		switch (r->action) {
		case ACT_ALLOW:
			return VERDICT_CONTINUE;
		case ACT_REJECT:
		case ACT_DENY:
		case ACT_TARPIT:
		case ACT_AUTH:
		case ACT_REDIRECT:
		case ACT_RETURN:
		case ACT_USE_SERVICE:
			v = final_action(c, r, px);
			if (v != VERDICT_CONTINUE)
				return v;
			break;
		case ACT_ACCEPT:
			break;  /* tcp-request only */
		case ACT_TRACK_SC:
		case ACT_SC_INC_GPC:
		case ACT_SC_SET_GPT0:
			/* http-request only: a tracker for this request */
			if (c->trk != NULL)
				track_rule(r, c->trk, &c->lf, 1);
			break;
		default:
			if (rewrite(c, r) < 0) {
				c->final = r;
				c->final_px = px;
				return VERDICT_FAILED;
			}
			break;
		}
	}
	return VERDICT_CONTINUE;
}

/* ---- the edited head, parsed again ---- */

static void
write_head(const struct http_msg *m, struct http_out *out)
{
	const char *line = m->line, *lf;
	size_t len = m->line_len;

	if (line == NULL) {
		lf = memchr(m->head, '\n', m->head_len);
		line = m->head;
		len = lf != NULL ? (size_t)(lf - m->head) : 0;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}
	http_out_add(out, line, len);
	http_out_lit(out, "\r\n");
	for (int i = 0; i < m->nhdrs; i++) {
		http_out_add(out, m->hdrs[i].name, m->hdrs[i].name_len);
		http_out_lit(out, ": ");
		http_out_add(out, m->hdrs[i].value, m->hdrs[i].value_len);
		http_out_lit(out, "\r\n");
	}
	http_out_lit(out, "\r\n");
}

int
ruleexec_reparse(struct rule_ctx *c, int is_request)
{
	struct http_msg *m = c->msg, fresh;
	struct http_out *a = c->arena;
	struct http_out head = { a->data + a->len, 0, a->cap - a->len, 0 };
	int rc;

	if (!c->edited)
		return 0;
	write_head(m, &head);
	if (head.overflow)
		return -1;
	a->len += head.len;
	/* the table is rewritten as the copy is parsed: the copy is whole */
	rc = is_request ?
	    http_parse_request(head.data, head.len, &fresh, m->hdrs,
	    c->maxhdrs) :
	    http_parse_response(head.data, head.len, &fresh, m->hdrs,
	    c->maxhdrs, c->request_was_head);
	if (rc < 0 || fresh.body != m->body ||
	    (m->body == BODY_LENGTH &&
	    fresh.content_length != m->content_length))
		return -1;
	*m = fresh;
	c->edited = 0;
	return 0;
}
