/*
 * http.c - HTTP/1.x heads: a strict parser for requests and responses,
 * header value walking as HAProxy does it, head rewriting for
 * forwarding, and the error responses. Bodies are framing.c's.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* RFC 9110 tchar: the characters of a token (method, header name). */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

size_t
http_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		/* An empty line: "\n\n" or "\n\r\n". */
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Length of the line at p (excluding CRLF or LF); *next: the next line. */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (lf == NULL) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = lf + 1;
	n = (size_t)(lf - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* "HTTP/1.0" or "HTTP/1.1" at p; returns 0 and the version or -1. */
static int
parse_version(const char *p, size_t n, int *major, int *minor)
{
	if (n != LITERAL_LEN("HTTP/1.1") ||
	    memcmp(p, "HTTP/", LITERAL_LEN("HTTP/")) != 0 || p[6] != '.')
		return -1;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -1;
	*major = 1;
	*minor = p[7] - '0';
	return 0;
}

/* One "name: value" line. Rejects obs-fold, space before the colon and
 * control characters. */
static int
parse_header_line(const char *p, size_t n, struct http_hdr *hdr)
{
	size_t i = 0, vstart, vend;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return -1;
	hdr->name = p;
	hdr->name_len = i;
	i++;
	for (size_t j = i; j < n; j++) {
		unsigned char c = (unsigned char)p[j];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	vstart = i;
	vend = n;
	while (vend > vstart && (p[vend - 1] == ' ' || p[vend - 1] == '\t'))
		vend--;
	hdr->value = p + vstart;
	hdr->value_len = vend - vstart;
	return 0;
}

static int
parse_headers(const char *p, const char *end, struct http_msg *msg,
    struct http_hdr *hdrs, int maxhdrs)
{
	const char *next;

	msg->hdrs = hdrs;
	msg->nhdrs = 0;
	for (;;) {
		size_t n = line_len(p, end, &next);
		if (n == 0)
			return 0;  /* the empty line ends the head */
		if (p[0] == ' ' || p[0] == '\t')
			return -1; /* obs-fold: never forwarded ambiguously */
		if (msg->nhdrs >= maxhdrs)
			return -1;
		if (parse_header_line(p, n, &hdrs[msg->nhdrs]) < 0)
			return -1;
		msg->nhdrs++;
		p = next;
		if (p >= end)
			return -1;
	}
}

static int
name_is(const struct http_hdr *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

static int
token_is(const char *elem, size_t len, const char *token)
{
	size_t n = strlen(token);

	return len == n && strncasecmp(elem, token, n) == 0;
}

int
http_value_next(const char *value, size_t len, size_t *pos,
    const char **elem, size_t *elem_len)
{
	size_t i = *pos, start, end;
	int quoted = 0;

	if (i > len)
		return 0;
	start = i;
	for (; i < len; i++) {
		if (value[i] == '"')
			quoted = !quoted;
		else if (value[i] == '\\' && quoted && i + 1 < len)
			i++;
		else if (value[i] == ',' && !quoted)
			break;
	}
	end = i;
	*pos = i + 1;
	while (start < end && (value[start] == ' ' || value[start] == '\t'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	*elem = value + start;
	*elem_len = end - start;
	return 1;
}

const struct http_hdr *
http_hdr_find(const struct http_msg *msg, const char *name, size_t name_len,
    int *idx)
{
	for (int i = *idx; i < msg->nhdrs; i++) {
		const struct http_hdr *h = &msg->hdrs[i];
		if (h->name_len == name_len &&
		    strncasecmp(h->name, name, name_len) == 0) {
			*idx = i + 1;
			return h;
		}
	}
	*idx = msg->nhdrs;
	return NULL;
}

/* Every Content-Length element must be the same decimal number. */
static int
parse_content_length(const struct http_hdr *h, unsigned long long *length,
    int *seen)
{
	size_t pos = 0, n;
	const char *e;

	while (http_value_next(h->value, h->value_len, &pos, &e, &n)) {
		unsigned long long v = 0;
		if (n == 0 || n > 18)
			return -1;  /* empty, or too large for us */
		for (size_t i = 0; i < n; i++) {
			if (e[i] < '0' || e[i] > '9')
				return -1;
			v = v * 10 + (unsigned)(e[i] - '0');
		}
		if (*seen && v != *length)
			return -1;
		*length = v;
		*seen = 1;
	}
	return 0;
}

/* Transfer-Encoding: is "chunked" the final coding, and only once? */
static int
parse_transfer_encoding(const struct http_msg *msg, int *chunked_last)
{
	int idx = 0, chunked_count = 0;
	const struct http_hdr *h;

	*chunked_last = 0;
	while ((h = http_hdr_find(msg, "transfer-encoding", 17, &idx))) {
		size_t pos = 0, n;
		const char *e;
		while (http_value_next(h->value, h->value_len, &pos, &e, &n)) {
			if (n == 0)
				continue;
			*chunked_last = token_is(e, n, "chunked");
			chunked_count += *chunked_last;
		}
	}
	return chunked_count > 1 ? -1 : 0;
}

/* Connection tokens, Upgrade, Content-Length and Transfer-Encoding. */
static int
scan_framing_headers(struct http_msg *msg, int *has_cl, int *has_te)
{
	*has_cl = *has_te = 0;
	msg->conn_tokens = 0;
	msg->upgrade_websocket = 0;
	for (int i = 0; i < msg->nhdrs; i++) {
		const struct http_hdr *h = &msg->hdrs[i];
		size_t pos = 0, n;
		const char *e;

		if (name_is(h, "content-length")) {
			if (parse_content_length(h, &msg->content_length,
			    has_cl) < 0)
				return -1;
		} else if (name_is(h, "transfer-encoding")) {
			*has_te = 1;
		} else if (name_is(h, "connection")) {
			while (http_value_next(h->value, h->value_len, &pos,
			    &e, &n)) {
				if (token_is(e, n, "close"))
					msg->conn_tokens |= CONN_CLOSE;
				else if (token_is(e, n, "keep-alive"))
					msg->conn_tokens |= CONN_KEEPALIVE;
				else if (token_is(e, n, "upgrade"))
					msg->conn_tokens |= CONN_UPGRADE;
			}
		} else if (name_is(h, "upgrade")) {
			while (http_value_next(h->value, h->value_len, &pos,
			    &e, &n))
				if (token_is(e, n, "websocket"))
					msg->upgrade_websocket = 1;
		}
	}
	return 0;
}

/*
 * The request-target forms of RFC 9112 3.2: origin-form ("/path"),
 * absolute-form ("scheme://authority/path"), asterisk-form ("*", for
 * OPTIONS only) and authority-form ("host:port", for CONNECT only).
 */
static int
target_form_ok(const struct http_msg *msg)
{
	const char *u = msg->uri;
	size_t n = msg->uri_len, i = 0;
	int connect = http_method_is(msg, "CONNECT");

	if (connect)
		return u[0] != '/' && memchr(u, ':', n) != NULL &&
		    memchr(u, '/', n) == NULL;
	if (u[0] == '/')
		return 1;
	if (n == 1 && u[0] == '*')
		return http_method_is(msg, "OPTIONS");
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://" */
	if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
		return 0;
	while (i < n && (isalnum((unsigned char)u[i]) || u[i] == '+' ||
	    u[i] == '-' || u[i] == '.'))
		i++;
	/* "://" and a non-empty authority */
	if (i + 4 > n)
		return 0;
	return u[i] == ':' && u[i + 1] == '/' && u[i + 2] == '/';
}

/* The authority of an absolute-form target ("host[:port]"), if any. */
static int
target_authority(const struct http_msg *msg, const char **auth,
    size_t *len)
{
	const char *u = msg->uri, *end = msg->uri + msg->uri_len, *s, *e;

	if (u[0] == '/' || msg->uri_len < 4)
		return 0;
	s = memchr(u, ':', msg->uri_len);
	if (s == NULL || end - s < 3 || s[1] != '/' || s[2] != '/')
		return 0;
	s += 3;
	for (e = s; e < end && *e != '/' && *e != '?'; e++)
		;
	*auth = s;
	*len = (size_t)(e - s);
	return 1;
}

/*
 * Host: required in HTTP/1.1; repeated only with the same value; equal
 * to the authority of an absolute-form target. A request that names two
 * different hosts is ambiguous, and ambiguity is never forwarded.
 */
static int
host_ok(const struct http_msg *msg)
{
	int idx = 0, count = 0;
	const struct http_hdr *h, *first = NULL;
	const char *auth;
	size_t auth_len;

	while ((h = http_hdr_find(msg, "host", 4, &idx)) != NULL) {
		if (first != NULL && (h->value_len != first->value_len ||
		    strncasecmp(h->value, first->value, h->value_len) != 0))
			return 0;
		first = first ? first : h;
		count++;
	}
	if (count == 0)
		return msg->vminor == 0;
	if (target_authority(msg, &auth, &auth_len) &&
	    (auth_len != first->value_len ||
	    strncasecmp(auth, first->value, auth_len) != 0))
		return 0;
	return 1;
}

int
http_parse_request(const char *buf, size_t len, struct http_msg *msg,
    struct http_hdr *hdrs, int maxhdrs)
{
	const char *end = buf + len, *next, *p = buf, *sp;
	size_t n;
	int has_cl, has_te, chunked_last;

	memset(msg, 0, sizeof(*msg));
	msg->head = buf;
	msg->head_len = len;
	n = line_len(p, end, &next);
	/* method */
	for (sp = p; sp < p + n && is_tchar((unsigned char)*sp); sp++)
		;
	if (sp == p || sp >= p + n || *sp != ' ')
		return HTTP_INVALID;
	msg->method = p;
	msg->method_len = (size_t)(sp - p);
	/* request-target: visible ASCII, no fragment */
	msg->uri = ++sp;
	while (sp < p + n && (unsigned char)*sp > 0x20 &&
	    (unsigned char)*sp < 0x7f && *sp != '#')
		sp++;
	msg->uri_len = (size_t)(sp - msg->uri);
	if (msg->uri_len == 0 || sp >= p + n || *sp != ' ')
		return HTTP_INVALID;
	sp++;
	if (parse_version(sp, (size_t)(p + n - sp), &msg->vmajor,
	    &msg->vminor) < 0)
		return HTTP_INVALID;
	if (!target_form_ok(msg))
		return HTTP_INVALID;
	if (parse_headers(next, end, msg, hdrs, maxhdrs) < 0)
		return HTTP_INVALID;
	if (scan_framing_headers(msg, &has_cl, &has_te) < 0 ||
	    !host_ok(msg))
		return HTTP_INVALID;
	if (has_te) {
		/* Ambiguous framing is refused, never forwarded. */
		if (has_cl || parse_transfer_encoding(msg, &chunked_last) < 0 ||
		    !chunked_last)
			return HTTP_INVALID;
		msg->body = BODY_CHUNKED;
	} else if (has_cl) {
		msg->body = msg->content_length ? BODY_LENGTH : BODY_NONE;
	} else {
		msg->body = BODY_NONE;
	}
	return 0;
}

int
http_parse_response(const char *buf, size_t len, struct http_msg *msg,
    struct http_hdr *hdrs, int maxhdrs, int request_was_head)
{
	const char *end = buf + len, *next;
	size_t n;
	int has_cl, has_te, chunked_last;

	memset(msg, 0, sizeof(*msg));
	msg->head = buf;
	msg->head_len = len;
	n = line_len(buf, end, &next);
	if (n < 12 || parse_version(buf, 8, &msg->vmajor, &msg->vminor) < 0 ||
	    buf[8] != ' ')
		return HTTP_INVALID;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return HTTP_INVALID;
	if (n > 12 && buf[12] != ' ')
		return HTTP_INVALID;
	for (size_t i = 12; i < n; i++)
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') ||
		    buf[i] == 0x7f)
			return HTTP_INVALID;
	msg->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 +
	    (buf[11] - '0');
	if (msg->status < 100)
		return HTTP_INVALID;
	if (parse_headers(next, end, msg, hdrs, maxhdrs) < 0)
		return HTTP_INVALID;
	if (scan_framing_headers(msg, &has_cl, &has_te) < 0)
		return HTTP_INVALID;
	if (has_te && (has_cl || parse_transfer_encoding(msg,
	    &chunked_last) < 0))
		return HTTP_INVALID;
	if (request_was_head || msg->status < 200 || msg->status == 204 ||
	    msg->status == 304)
		msg->body = BODY_NONE;
	else if (has_te)
		msg->body = chunked_last ? BODY_CHUNKED : BODY_UNTIL_CLOSE;
	else if (has_cl)
		msg->body = msg->content_length ? BODY_LENGTH : BODY_NONE;
	else
		msg->body = BODY_UNTIL_CLOSE;
	return 0;
}

void
http_req_path(const struct http_msg *msg, const char **path,
    size_t *path_len)
{
	const char *p = msg->uri, *end = msg->uri + msg->uri_len, *q;

	if (p < end && *p != '/') {
		/* absolute-form "scheme://authority/path": skip to the path */
		const char *s = memchr(p, ':', (size_t)(end - p));
		if (s != NULL && end - s > 2 && s[1] == '/' && s[2] == '/') {
			const char *slash = memchr(s + 3, '/',
			    (size_t)(end - s - 3));
			p = slash ? slash : end;
		}
	}
	q = memchr(p, '?', (size_t)(end - p));
	*path = p;
	*path_len = (size_t)((q ? q : end) - p);
}

int
http_method_is(const struct http_msg *msg, const char *method)
{
	size_t n = strlen(method);

	return msg->method_len == n && memcmp(msg->method, method, n) == 0;
}

/* ---- rewriting heads ---- */

void
http_out_add(struct http_out *out, const char *data, size_t len)
{
	if (out->overflow || len > out->cap - out->len) {
		out->overflow = 1;
		return;
	}
	memcpy(out->data + out->len, data, len);
	out->len += len;
}

void
http_out_str(struct http_out *out, const char *s)
{
	http_out_add(out, s, strlen(s));
}

/* Is h named by a token of the message's Connection header(s)? */
static int
named_in_connection(const struct http_msg *msg, const struct http_hdr *h)
{
	for (int i = 0; i < msg->nhdrs; i++) {
		const struct http_hdr *c = &msg->hdrs[i];
		size_t pos = 0, n;
		const char *e;
		if (!name_is(c, "connection"))
			continue;
		while (http_value_next(c->value, c->value_len, &pos, &e, &n))
			if (n == h->name_len &&
			    strncasecmp(e, h->name, n) == 0)
				return 1;
	}
	return 0;
}

/*
 * Hop-by-hop headers end here (RFC 9110 7.6.1): Connection itself (we
 * write our own), Keep-Alive, Proxy-Connection, and every header the
 * Connection header names -- but the Upgrade of an upgrade request,
 * which must reach the server.
 */
enum upgrade_rule {
	UPGRADE_KEEP,           /* an upgrade request's Upgrade */
	UPGRADE_DROP,           /* any other request's */
	UPGRADE_AS_LISTED       /* responses: hop-by-hop if Connection says */
};

static int
is_hop_by_hop(const struct http_msg *msg, const struct http_hdr *h,
    enum upgrade_rule upgrade)
{
	if (name_is(h, "connection") || name_is(h, "keep-alive") ||
	    name_is(h, "proxy-connection"))
		return 1;
	/* What frames or routes the message is never dropped because a
	 * Connection header names it: the forwarded head must be framed as
	 * the one we parsed (a known trick to strip headers at proxies). */
	if (name_is(h, "content-length") || name_is(h, "transfer-encoding") ||
	    name_is(h, "host"))
		return 0;
	/* An upgrade goes end to end: what its Connection names (Upgrade,
	 * HTTP2-Settings...) is for the server, as the tokens say. */
	if (upgrade == UPGRADE_KEEP)
		return 0;
	if (name_is(h, "upgrade") && upgrade == UPGRADE_DROP)
		return 1;
	return named_in_connection(msg, h);
}

static void
out_header(struct http_out *out, const struct http_hdr *h)
{
	http_out_add(out, h->name, h->name_len);
	http_out_lit(out, ": ");
	http_out_add(out, h->value, h->value_len);
	http_out_lit(out, "\r\n");
}

static void
out_content_length(struct http_out *out, unsigned long long length)
{
	char line[64];

	snprintf(line, sizeof(line), "Content-Length: %llu\r\n", length);
	http_out_str(out, line);
}

/* The first line of the head, without its line ending. */
static void
out_first_line(struct http_out *out, const struct http_msg *msg)
{
	const char *next;
	size_t n;

	if (msg->line != NULL) {        /* rewritten by a rule */
		http_out_add(out, msg->line, msg->line_len);
		http_out_lit(out, "\r\n");
		return;
	}
	n = line_len(msg->head, msg->head + msg->head_len, &next);

	http_out_add(out, msg->head, n);
	http_out_lit(out, "\r\n");
}

/* "Connection: <tokens other than keep-alive and close>" for upgrades. */
static void
out_upgrade_connection(struct http_out *out, const struct http_msg *req)
{
	int first = 1;

	http_out_str(out, "Connection: ");
	for (int i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &req->hdrs[i];
		size_t pos = 0, n;
		const char *e;
		if (!name_is(h, "connection"))
			continue;
		while (http_value_next(h->value, h->value_len, &pos, &e, &n)) {
			if (n == 0 || token_is(e, n, "close") ||
			    token_is(e, n, "keep-alive"))
				continue;
			if (!first)
				http_out_lit(out, ", ");
			http_out_add(out, e, n);
			first = 0;
		}
	}
	http_out_lit(out, "\r\n");
}

void
http_build_request(const struct http_msg *req,
    const struct http_fwd_opts *opts, struct http_out *out)
{
	int cl_written = 0;

	out->len = 0;
	out->overflow = 0;
	out_first_line(out, req);
	for (int i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &req->hdrs[i];
		if (is_hop_by_hop(req, h, opts->websocket_upgrade ?
		    UPGRADE_KEEP : UPGRADE_DROP))
			continue;
		if (name_is(h, "content-length")) {
			/* identical repeats were checked: write one */
			if (cl_written++ == 0)
				out_content_length(out, req->content_length);
			continue;
		}
		out_header(out, h);
	}
	if (opts->xff_name != NULL) {
		http_out_str(out, opts->xff_name);
		http_out_str(out, ": ");
		http_out_str(out, opts->xff_value);
		http_out_str(out, "\r\n");
	}
	if (opts->websocket_upgrade)
		out_upgrade_connection(out, req);
	else
		http_out_str(out, "Connection: close\r\n");
	http_out_lit(out, "\r\n");
}

void
http_build_response(const struct http_msg *resp, int client_close,
    int client_is_http10, struct http_out *out)
{
	out->len = 0;
	out->overflow = 0;
	out_first_line(out, resp);
	for (int i = 0; i < resp->nhdrs; i++)
		if (!is_hop_by_hop(resp, &resp->hdrs[i], UPGRADE_AS_LISTED))
			out_header(out, &resp->hdrs[i]);
	if (client_close)
		http_out_str(out, "Connection: close\r\n");
	else if (client_is_http10)
		http_out_str(out, "Connection: keep-alive\r\n");
	http_out_lit(out, "\r\n");
}

void
http_build_upgrade_response(const struct http_msg *resp, struct http_out *out)
{
	out->len = 0;
	out->overflow = 0;
	out_first_line(out, resp);
	for (int i = 0; i < resp->nhdrs; i++)
		out_header(out, &resp->hdrs[i]);
	http_out_lit(out, "\r\n");
}

/* ---- generated responses ---- */

/* HAProxy 2.6's error pages: the status line and the body it sends. */
struct error_page {
	int status;
	const char *status_line;
	const char *body;
};

static const struct error_page error_pages[] = {
	{ 200, "200 OK",
	    "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n" },
	{ 400, "400 Bad request",
	    "<html><body><h1>400 Bad request</h1>\n"
	    "Your browser sent an invalid request.\n</body></html>\n" },
	{ 401, "401 Unauthorized",
	    "<html><body><h1>401 Unauthorized</h1>\n"
	    "You need a valid user and password to access this content.\n"
	    "</body></html>\n" },
	{ 403, "403 Forbidden",
	    "<html><body><h1>403 Forbidden</h1>\n"
	    "Request forbidden by administrative rules.\n</body></html>\n" },
	{ 404, "404 Not Found",
	    "<html><body><h1>404 Not Found</h1>\n"
	    "The resource could not be found.\n</body></html>\n" },
	{ 405, "405 Method Not Allowed",
	    "<html><body><h1>405 Method Not Allowed</h1>\n"
	    "A request was made of a resource using a request method not "
	    "supported by that resource\n</body></html>\n" },
	{ 407, "407 Unauthorized",
	    "<html><body><h1>407 Unauthorized</h1>\n"
	    "You need a valid user and password to access this content.\n"
	    "</body></html>\n" },
	{ 408, "408 Request Time-out",
	    "<html><body><h1>408 Request Time-out</h1>\n"
	    "Your browser didn't send a complete request in time.\n"
	    "</body></html>\n" },
	{ 410, "410 Gone",
	    "<html><body><h1>410 Gone</h1>\n"
	    "The resource is no longer available and will not be available "
	    "again.\n</body></html>\n" },
	{ 413, "413 Payload Too Large",
	    "<html><body><h1>413 Payload Too Large</h1>\n"
	    "The request entity exceeds the maximum allowed.\n"
	    "</body></html>\n" },
	{ 421, "421 Misdirected Request",
	    "<html><body><h1>421 Misdirected Request</h1>\n"
	    "Request sent to a non-authoritative server.\n</body></html>\n" },
	{ 422, "422 Unprocessable Content",
	    "<html><body><h1>422 Unprocessable Content</h1>\n"
	    "The server cannot process the contained instructions.\n"
	    "</body></html>\n" },
	{ 425, "425 Too Early",
	    "<html><body><h1>425 Too Early</h1>\n"
	    "Your browser sent early data.\n</body></html>\n" },
	{ 429, "429 Too Many Requests",
	    "<html><body><h1>429 Too Many Requests</h1>\n"
	    "You have sent too many requests in a given amount of time.\n"
	    "</body></html>\n" },
	{ 500, "500 Internal Server Error",
	    "<html><body><h1>500 Internal Server Error</h1>\n"
	    "An internal server error occurred.\n</body></html>\n" },
	{ 501, "501 Not Implemented",
	    /* the dot is 2.6's */
	    "<html><body><h1>501 Not Implemented</h1>\n"
	    ".The server does not support the functionality required to "
	    "fulfill the request.\n</body></html>\n" },
	{ 502, "502 Bad Gateway",
	    "<html><body><h1>502 Bad Gateway</h1>\n"
	    "The server returned an invalid or incomplete response.\n"
	    "</body></html>\n" },
	{ 503, "503 Service Unavailable",
	    "<html><body><h1>503 Service Unavailable</h1>\n"
	    "No server is available to handle this request.\n"
	    "</body></html>\n" },
	{ 504, "504 Gateway Time-out",
	    "<html><body><h1>504 Gateway Time-out</h1>\n"
	    "The server didn't respond in time.\n</body></html>\n" },
};

#define ERROR_PAGES (sizeof(error_pages) / sizeof(error_pages[0]))
#define ERROR_PAGE_MAX 512      /* the longest page above, with room */

/*
 * Each response is put together the first time it is needed, with its
 * Content-length counted from the body, in the process that sends it (a
 * child: the page it writes is its own, and only a connection that gets
 * an error page pays for it).
 */
int
http_error_known(int status)
{
	for (size_t i = 0; i < ERROR_PAGES; i++)
		if (error_pages[i].status == status)
			return 1;
	return 0;
}

/* HAProxy 2.6's reason phrases (http.c http_get_reason): what its own
 * replies say for a status ("return", "set-status"). */
const char *
http_reason(int status)
{
	static const struct { int status; const char *reason; } reasons[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" },
		{ 102, "Processing" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" },
		{ 203, "Non-Authoritative Information" },
		{ 204, "No Content" }, { 205, "Reset Content" },
		{ 206, "Partial Content" }, { 207, "Multi-Status" },
		{ 210, "Content Different" }, { 226, "IM Used" },
		{ 300, "Multiple Choices" }, { 301, "Moved Permanently" },
		{ 302, "Moved Temporarily" }, { 303, "See Other" },
		{ 304, "Not Modified" }, { 305, "Use Proxy" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 310, "Too many Redirects" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 402, "Payment Required" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Time-out" }, { 409, "Conflict" },
		{ 410, "Gone" }, { 411, "Length Required" },
		{ 412, "Precondition Failed" },
		{ 413, "Request Entity Too Large" },
		{ 414, "Request-URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 416, "Requested range unsatisfiable" },
		{ 417, "Expectation failed" }, { 418, "I'm a teapot" },
		{ 421, "Misdirected Request" },
		{ 422, "Unprocessable entity" }, { 423, "Locked" },
		{ 424, "Method failure" }, { 425, "Too Early" },
		{ 426, "Upgrade Required" }, { 428, "Precondition Required" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 449, "Retry With" },
		{ 450, "Blocked by Windows Parental Controls" },
		{ 451, "Unavailable For Legal Reasons" },
		{ 456, "Unrecoverable Error" },
		{ 499, "client has closed connection" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway or Proxy Error" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Time-out" },
		{ 505, "HTTP Version not supported" },
		{ 506, "Variant also negociate" },
		{ 507, "Insufficient storage" }, { 508, "Loop detected" },
		{ 509, "Bandwidth Limit Exceeded" }, { 510, "Not extended" },
		{ 511, "Network authentication required" },
		{ 520, "Web server is returning an unknown error" },
	};
	static const char *const classes[] = { "Informational", "Success",
	    "Redirection", "Client Error", "Server Error" };

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	if (status >= 100 && status <= 599)
		return classes[status / 100 - 1];
	return "Other";
}

const char *
http_error_body(int status, const char **status_line)
{
	for (size_t i = 0; i < ERROR_PAGES; i++) {
		if (error_pages[i].status == status) {
			*status_line = error_pages[i].status_line;
			return error_pages[i].body;
		}
	}
	return http_error_body(500, status_line);
}

size_t
http_error_page(int status, const char **page)
{
	static char built[ERROR_PAGES][ERROR_PAGE_MAX];
	static int built_len[ERROR_PAGES];
	size_t i;

	for (i = 0; i < ERROR_PAGES; i++)
		if (error_pages[i].status == status)
			break;
	if (i == ERROR_PAGES)
		return http_error_page(500, page);
	if (built_len[i] == 0) {
		const struct error_page *e = &error_pages[i];
		built_len[i] = snprintf(built[i], sizeof(built[i]),
		    "HTTP/1.1 %s\r\nContent-length: %zu\r\n"
		    "Cache-Control: no-cache\r\nConnection: close\r\n"
		    "Content-Type: text/html\r\n\r\n%s", e->status_line,
		    strlen(e->body), e->body);
	}
	*page = built[i];
	return (size_t)built_len[i];
}
