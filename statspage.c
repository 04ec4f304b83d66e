/*
 * statspage.c - serving a proxy's stats page (statspage.h): who may see
 * it (stats auth, the 401 with the stats realm), what is asked (the page,
 * ";csv", the admin form's POST and its ";st=" result), and our answer
 * with its log line. The page itself is statshtml.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "match.h"
#include "net.h"
#include "reply.h"
#include "scoreboard.h"
#include "statcsv.h"
#include "statshtml.h"
#include "statspage.h"
#include "strbuf.h"
#include "userlist.h"

#define DEFAULT_URI "/haproxy?stats"
#define DEFAULT_REALM "HAProxy Statistics"
/* The admin form's body: a few names; more is not ours. */
#define FORM_MAX 16384
/* Reading it without a client timeout. */
#define FORM_TIMEOUT_MS 5000

const char *
stats_uri(const struct proxy *px)
{
	return px->stats.uri ? px->stats.uri : DEFAULT_URI;
}

const char *
stats_realm(const struct proxy *px)
{
	return px->stats.realm ? px->stats.realm : DEFAULT_REALM;
}

/* What follows the URI prefix in the target, or NULL if it does not
 * start with it. */
static const char *
after_prefix(const struct proxy *px, const struct http_msg *req,
    size_t *rest_len)
{
	const char *uri = stats_uri(px), *target = req->uri;
	size_t len = req->uri_len, path_len, ulen = strlen(uri);

	if (uri[0] == '/') {
		http_req_path(req, &target, &path_len);
		len = (size_t)(req->uri + req->uri_len - target);
	}
	if (len < ulen || memcmp(target, uri, ulen) != 0)
		return NULL;
	*rest_len = len - ulen;
	return target + ulen;
}

int
stats_uri_match(const struct proxy *px, const struct http_msg *req)
{
	size_t rest;

	if (!px->stats.enabled || px->mode != MODE_HTTP)
		return 0;
	if (!http_method_is(req, "GET") && !http_method_is(req, "HEAD") &&
	    !http_method_is(req, "POST"))
		return 0;
	return after_prefix(px, req, &rest) != NULL;
}

/* 1 if ";word" (or ";word=...") is among the options after the prefix. */
static int
has_option(const char *rest, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = rest; p < rest + len; p++) {
		if (*p != ';' || (size_t)(rest + len - p - 1) < wl ||
		    memcmp(p + 1, word, wl) != 0)
			continue;
		if (p + 1 + wl == rest + len || p[1 + wl] == ';' ||
		    p[1 + wl] == '=' || p[1 + wl] == '&')
			return 1;
	}
	return 0;
}

/* The value of ";st=" (the admin action's result), or "". */
static void
option_value(const char *rest, size_t len, const char *key, char *out,
    size_t cap)
{
	const char *p = memmem(rest, len, key, strlen(key));
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	while (p + n < rest + len && p[n] != ';' && p[n] != '&' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Sends r, an answer of the proxy's own to the request (head_len
 * bytes of head in the buffer), and logs it as 2.6 does: LR, by px. */
static enum client_next
send_own(struct session *s, const struct proxy *px, const struct reply *r,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len)
{
	enum client_next next;

	buf_consume(&s->cbuf, head_len);
	s->txn.be = px;
	s->txn.status = r->status;
	s->txn.intercepted = 1;
	session_txn_end(s, 'L', 'R');
	next = session_send_reply(s, r, ri, req->body == BODY_NONE);
	session_txn_log(s);
	return next;
}

enum client_next
stats_answer(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len, int status, const char *hdrs, const char *body,
    size_t body_len)
{
	struct strbuf out = { 0 };
	struct reply r = { .status = status, .http11 = 1 };
	enum client_next next;

	strbuf_printf(&out, "HTTP/1.1 %d %s\r\ncache-control: no-cache\r\n"
	    "%scontent-length: %zu\r\n", status, http_reason(status), hdrs,
	    body_len);
	r.head_len = out.len;
	strbuf_str(&out, "\r\n");
	if (!ri->is_head)
		strbuf_add(&out, body, body_len);
	r.data = out.data;
	r.len = out.len;
	next = send_own(s, px, &r, req, ri, head_len);
	strbuf_free(&out);
	return next;
}

/* stats auth: no account, open; else Basic credentials of one. */
static int
authorized(const struct proxy *px, const struct http_msg *req)
{
	struct userlist ul = { .users = px->stats.auth,
	    .nusers = px->stats.nauth };

	return px->stats.nauth == 0 || userlist_check(&ul, req);
}

/* The 401 of reference 10.3 with the stats realm's challenge. */
static enum client_next
send_401(struct session *s, const struct proxy *px, const struct http_msg *req,
    const struct request_info *ri, size_t head_len)
{
	const struct reply *page = reply_builtin(401);
	struct strbuf out = { 0 };
	struct reply r = { .status = 401, .http11 = 1 };
	enum client_next next;

	strbuf_add(&out, page->data, page->head_len);
	strbuf_printf(&out, "www-authenticate: Basic realm=\"%s\"\r\n",
	    stats_realm(px));
	r.head_len = out.len;
	strbuf_add(&out, page->data + page->head_len,
	    page->len - page->head_len);
	r.data = out.data;
	r.len = out.len;
	next = send_own(s, px, &r, req, ri, head_len);
	strbuf_free(&out);
	return next;
}

static int
csv_emit(void *arg, const char *data, size_t len)
{
	strbuf_add(arg, data, len);
	return 0;
}

static enum client_next
send_csv(struct session *s, const struct proxy *px, const struct http_msg *req,
    const struct request_info *ri, size_t head_len)
{
	struct strbuf body = { 0 };
	enum client_next next;

	(void)stats_csv(s->cfg, 0, csv_emit, &body);
	next = stats_answer(s, px, req, ri, head_len, 200,
	    "content-type: text/plain\r\n", body.data ? body.data : "",
	    body.len);
	strbuf_free(&body);
	return next;
}

static int
admin_allowed(const struct session *s, const struct proxy *px,
    const struct http_msg *req)
{
	struct acl_input in = { req, &s->src, net_port(&s->dst), NULL,
	    &s->trk };

	return px->stats.admin != NULL && acl_cond_eval(px->stats.admin, &in);
}

static enum client_next
send_page(struct session *s, const struct proxy *px, const struct http_msg *req,
    const struct request_info *ri, size_t head_len, const char *rest,
    size_t rest_len)
{
	struct stats_view v = { .px = px, .cfg = s->cfg };
	struct strbuf body = { 0 };
	char hdrs[128] = "content-type: text/html\r\n";
	enum client_next next;

	v.norefresh = has_option(rest, rest_len, "norefresh");
	v.up_only = has_option(rest, rest_len, "up");
	v.admin = admin_allowed(s, px, req);
	option_value(rest, rest_len, ";st=", v.st, sizeof(v.st));
	stats_html(&v, &body);
	if (px->stats.refresh > 0 && !v.norefresh)
		snprintf(hdrs, sizeof(hdrs), "content-type: text/html\r\n"
		    "refresh: %d\r\n", px->stats.refresh);
	next = stats_answer(s, px, req, ri, head_len, 200, hdrs, body.data,
	    body.len);
	strbuf_free(&body);
	return next;
}

/*
 * The admin form's body (application/x-www-form-urlencoded, with a
 * Content-Length): read after the head, within the client timeout.
 * Its length, or -1.
 */
static ssize_t
read_form(struct session *s, const struct http_msg *req, size_t head_len,
    char *out, size_t cap)
{
	size_t want = (size_t)req->content_length;
	int timeout = s->fe->to.client ? s->fe->to.client : FORM_TIMEOUT_MS;

	if (req->body != BODY_LENGTH || want >= cap)
		return -1;
	while (s->cbuf.len - head_len < want) {
		struct pollfd pfd = { s->client.rfd, POLLIN, 0 };
		ssize_t n;
		if (s->cbuf.start + s->cbuf.len == s->cbuf.cap) {
			memmove(s->cbuf.data, s->cbuf.data + s->cbuf.start,
			    s->cbuf.len);
			s->cbuf.start = 0;
		}
		if (poll(&pfd, 1, timeout) <= 0)
			return -1;
		n = read(s->client.rfd, s->cbuf.data + s->cbuf.start +
		    s->cbuf.len, s->cbuf.cap - s->cbuf.start - s->cbuf.len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		s->cbuf.len += (size_t)n;
		s->client.bytes_in += (unsigned long long)n;
	}
	memcpy(out, s->cbuf.data + s->cbuf.start + head_len, want);
	out[want] = '\0';
	return (ssize_t)want;   /* the answer closes: the bytes stay */
}

static int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX and '+' of a form value, in place. */
static void
form_decode(char *v)
{
	char *o = v;

	for (; *v; v++) {
		if (*v == '+') {
			*o++ = ' ';
		} else if (*v == '%' && hex_digit(v[1]) >= 0 &&
		    hex_digit(v[2]) >= 0) {
			*o++ = (char)(hex_digit(v[1]) * 16 + hex_digit(v[2]));
			v += 2;
		} else {
			*o++ = *v;
		}
	}
	*o = '\0';
}

static const struct server *
find_server(const struct proxy *be, const char *name)
{
	for (int i = 0; i < be->nservers; i++)
		if (strcmp(be->servers[i].name, name) == 0)
			return &be->servers[i];
	return NULL;
}

static const struct proxy *
find_proxy_named(const struct config *cfg, const char *name)
{
	if (name[0] == '#') {
		char *end;
		long id = strtol(name + 1, &end, 10);
		if (*end != '\0')
			return NULL;
		for (const struct proxy *px = cfg->proxies; px; px = px->next)
			if (px->index + 1 == id)
				return px;
		return NULL;
	}
	return config_find_backend(cfg, name, strlen(name));
}

static int
action_cmd(const char *action, enum srv_cmd *cmd)
{
	static const struct { const char *name; enum srv_cmd cmd; } acts[] = {
		{ "ready", SRV_CMD_READY }, { "drain", SRV_CMD_DRAIN },
		{ "maint", SRV_CMD_MAINT }, { "dhlth", SRV_CMD_DISABLE_HEALTH },
		{ "ehlth", SRV_CMD_ENABLE_HEALTH },
		{ "shutdown", SRV_CMD_SHUTDOWN_SESSIONS },
	};

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (strcmp(action, acts[i].name) == 0) {
			*cmd = acts[i].cmd;
			return 0;
		}
	return -1;
}

/*
 * Applies the form "b=BACKEND&s=SRV&s=SRV...&action=ACT" as 2.6 does:
 * the result word of its ";st=" (DONE, PART, NONE, ERRP).
 */
static const char *
apply_form(const struct config *cfg, char *form)
{
	const struct proxy *be = NULL;
	const char *action = NULL;
	char *names[64];
	int nnames = 0, done = 0, failed = 0;
	enum srv_cmd cmd;

	for (char *save = NULL, *kv = strtok_r(form, "&", &save); kv;
	    kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		form_decode(eq + 1);
		if (strcmp(kv, "b") == 0)
			be = find_proxy_named(cfg, eq + 1);
		else if (strcmp(kv, "action") == 0)
			action = eq + 1;
		else if (strcmp(kv, "s") == 0 && nnames < 64)
			names[nnames++] = eq + 1;
	}
	if (be == NULL || action == NULL || action_cmd(action, &cmd) < 0)
		return "ERRP";
	if (nnames == 0)
		return "NONE";
	for (int i = 0; i < nnames; i++) {
		const struct server *srv = find_server(be, names[i]);
		if (srv != NULL && srv_command(be, srv, cmd) == 0)
			done++;
		else
			failed++;
	}
	return failed == 0 ? "DONE" : done > 0 ? "PART" : "ERRP";
}

/*
 * POST: the admin action, then 2.6's 303 back to the page with ;st=.
 * The answer closes the connection (the body is not consumed).
 */
static enum client_next
serve_post(struct session *s, const struct proxy *px, const struct http_msg *req,
    const struct request_info *ri, size_t head_len)
{
	char form[FORM_MAX], hdrs[1024];
	const char *st;

	if (!admin_allowed(s, px, req))
		st = "DENY";
	else if (read_form(s, req, head_len, form, sizeof(form)) < 0)
		st = "EXCD";
	else
		st = apply_form(s->cfg, form);
	snprintf(hdrs, sizeof(hdrs), "content-type: text/plain\r\n"
	    "location: %s;st=%s\r\n", stats_uri(px), st);
	return stats_answer(s, px, req, ri, head_len, 303, hdrs, "", 0);
}

enum client_next
statspage_serve(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len)
{
	size_t rest_len = 0;
	const char *rest = after_prefix(px, req, &rest_len);

	if (!authorized(px, req))
		return send_401(s, px, req, ri, head_len);
	if (http_method_is(req, "POST"))
		return serve_post(s, px, req, ri, head_len);
	if (has_option(rest, rest_len, "csv"))
		return send_csv(s, px, req, ri, head_len);
	return send_page(s, px, req, ri, head_len, rest, rest_len);
}
