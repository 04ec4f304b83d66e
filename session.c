/*
 * session.c - one client connection, served by a child process.
 *
 * Every request on the connection is parsed, routed afresh through the
 * frontend's use_backend rules (as "option http-server-close" does), sent
 * to a new server connection with "Connection: close", and its response
 * relayed back. A 101 answer to an upgrade turns the connection into a
 * byte tunnel with the chosen backend's timeouts.
 *
 * Getting to a server (queue, retries, redispatch) is connect.c's, the
 * exchange with it and the tunnel exchange.c's, the X-Forwarded-For
 * decision forwardfor.c's, and the PROXY header of an accept-proxy
 * listener acceptproxy.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "acceptproxy.h"
#include "accesslog.h"
#include "answer.h"
#include "buf.h"
#include "capture.h"
#include "connect.h"
#include "count.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "logfmt.h"
#include "match.h"
#include "net.h"
#include "promex.h"
#include "relay.h"
#include "reply.h"
#include "scoreboard.h"
#include "session.h"
#include "sessionstate.h"
#include "statspage.h"
#include "tcprules.h"
#include "srvstate.h"

/* Room kept in the buffer for what we add to a head (HAProxy: maxrewrite). */
#define HEAD_REWRITE_RESERVE 1024
/* Longest wait for a client to close after our last byte. */
#define LINGER_MS 1000
/* Write timeout for our own error pages when no client timeout is set. */
#define ERROR_WRITE_MS 5000

/* Writes head bytes of our own (an error page, an interim head). */
int
session_write_client(struct session *s, const char *data, size_t len)
{
	int timeout = s->fe->to.client ? s->fe->to.client : ERROR_WRITE_MS;

	if (s->client.wfd < 0 ||
	    relay_write_all(s->client.wfd, data, len, timeout) < 0)
		return -1;
	s->client.bytes_out += len;
	return 0;
}

/*
 * A configured or monitor reply (reply.h). The connection goes on when
 * keep allows it (the request is over), the reply has a Content-Length
 * and neither side asked for a close; else an HTTP/1.1 reply says
 * "connection: close" as its last header. An empty one sends nothing.
 */
enum client_next
session_send_reply(struct session *s, const struct reply *r,
    const struct request_info *ri, int keep)
{
	int close = !keep || ri == NULL || r->close_delimited ||
	    ri->wants_close || s->fe->conn_mode == CONN_MODE_CLO;
	const char *hdr = close && r->http11 ? "connection: close\r\n" :
	    !close && ri->is_http10 ? "connection: keep-alive\r\n" : "";

	if (r->len == 0 ||
	    session_write_client(s, r->data, r->head_len) < 0 ||
	    session_write_client(s, hdr, strlen(hdr)) < 0 ||
	    session_write_client(s, r->data + r->head_len, r->len - r->head_len) < 0)
		return CLIENT_CLOSE;
	return close ? CLIENT_CLOSE : CLIENT_KEEP;
}

/*
 * The error response for status: an errorfile or errorloc of the
 * backend (once chosen) or the frontend, else the built-in page, which
 * closes. Errors of the request's parsing (400, 408) are the built-in
 * ones, unless the file is empty, as in HAProxy 2.6.
 */
enum client_next
session_send_error(struct session *s, int status, const struct request_info *ri,
    int keep)
{
	const struct reply *r = reply_find(s->txn.be, s->fe, status);
	const char *page;
	size_t len;

	s->txn.status = status;
	if (r != NULL && (r->len == 0 || (status != 400 && status != 408)))
		return session_send_reply(s, r, ri, keep);
	len = http_error_page(status, &page);
	(void)session_write_client(s, page, len);
	return CLIENT_CLOSE;
}

/* ---- the log line ---- */

/* A new transaction starts with its first byte (or at the accept). */
static void
txn_start(struct session *s, int at_accept)
{
	struct txn *t = &s->txn;

	memset(t, 0, sizeof(*t));
	t->status = -1;
	t->term[0] = t->term[1] = '-';
	t->bytes_before = s->client.bytes_out;
	t->bytes_in_before = s->client.bytes_in;
	capture_reset(&s->caps[CAPTURE_REQ]);
	capture_reset(&s->caps[CAPTURE_RESP]);
	if (at_accept) {
		t->date = s->accept_date;
		t->start_ms = s->accept_ms;
	} else {
		gettimeofday(&t->date, NULL);
		t->start_ms = now_ms();
	}
}

void
session_txn_end(struct session *s, char who, char stage)
{
	s->txn.term[0] = who;
	s->txn.term[1] = stage;
}

static int
elapsed(int64_t from, int64_t to)
{
	return from && to ? (int)(to - from) : -1;
}

static void
txn_record(const struct session *s, struct access_record *r, int final)
{
	const struct txn *t = &s->txn;
	const struct connect_trace *c = &t->conn;

	memset(r, 0, sizeof(*r));
	r->src = &s->src;
	r->date = t->date;
	r->frontend = s->fe->name;
	r->backend = t->be ? t->be->name : NULL;
	r->server = c->srv && c->connected_ms ? c->srv->name : NULL;
	if (c->srv && c->connect_start_ms && !c->connected_ms)
		r->server = c->srv->name;       /* named even when refused */
	r->t_request = elapsed(t->start_ms, t->head_ms);
	r->t_queue = c->queue_end_ms ?
	    elapsed(c->queue_start_ms, c->queue_end_ms) :
	    c->connect_start_ms ? 0 : -1;
	r->t_connect = elapsed(c->connect_start_ms, c->connected_ms);
	r->t_response = elapsed(c->connected_ms, t->response_ms);
	r->t_total = (int)(now_ms() - t->start_ms);
	r->status = t->status;
	r->bytes = s->client.bytes_out - t->bytes_before;
	r->term[0] = t->term[0];
	r->term[1] = t->term[1];
	r->retries = c->retries;
	r->redispatched = c->redispatched;
	r->hr = &s->caps[CAPTURE_REQ];
	r->hs = &s->caps[CAPTURE_RESP];
	r->request_line = t->line_len ? t->line : NULL;
	r->request_line_len = t->line_len;
	sb_read(s->fe, t->be, c->srv, &r->counts);
	if (final) {
		/* tcplog: the whole connection */
		r->date = s->accept_date;
		r->t_total = (int)(now_ms() - s->accept_ms);
		r->bytes = s->client.bytes_out;
	}
}

/*
 * Logs the transaction: an httplog line per request with "option
 * httplog", else a tcplog line per connection (when final). "option
 * dontlognull" hides connections on which the client sent nothing.
 */
/*
 * A transaction's outcome on the stick-table trackers (reference 13.2).
 * In http mode every request was counted when it ended: the connection's
 * end only lets go what might still be tracked per request.
 */
static void
txn_track(struct session *s, int final)
{
	const struct txn *t = &s->txn;
	int denied = t->term[0] == 'P' && (t->term[1] == 'R' ||
	    t->term[1] == 'T');

	if (final && s->fe->mode == MODE_HTTP) {
		track_txn_end(&s->trk, -1, 0, 0, 0);
		return;
	}
	track_txn_end(&s->trk, t->status, denied,
	    s->client.bytes_in - t->bytes_in_before,
	    s->client.bytes_out - t->bytes_before);
}

/*
 * The transaction in the stats' counters (count.h): in http mode each
 * request when it ends, the connection's end adding only the bytes that
 * came after the last one; in tcp mode the connection is the one.
 */
static void
txn_count(struct session *s, int final)
{
	const struct txn *t = &s->txn;
	const struct connect_trace *c = &t->conn;
	int http = s->fe->mode == MODE_HTTP;
	struct count_txn ct = {
		.fe = s->fe, .be = t->be,
		.srv = c->connect_start_ms ? c->srv : NULL,
		.http = http, .status = t->status,
		.from_server = c->connected_ms && t->term[0] != 'P' &&
		    t->term[0] != 'I' && !t->intercepted,
		.connect_failed = c->connect_start_ms && !c->connected_ms &&
		    t->term[1] == 'C',
		.resp_denied = t->resp_denied, .intercepted = t->intercepted,
		.term = { t->term[0], t->term[1] },
		.retries = c->retries, .redispatched = c->redispatched,
		.bytes_in = s->client.bytes_in - s->counted_in,
		.bytes_out = s->client.bytes_out - s->counted_out,
	};

	s->counted_in = s->client.bytes_in;
	s->counted_out = s->client.bytes_out;
	if (final && http)
		count_bytes(ct.fe, ct.be, ct.srv, ct.bytes_in, ct.bytes_out);
	else
		count_txn_end(&ct);
}

static void
txn_log(struct session *s, int final)
{
	struct access_record r;
	char line[2048];
	int httplog = (s->fe->options & OPT_HTTPLOG) && s->fe->mode == MODE_HTTP;

	txn_track(s, final);
	txn_count(s, final);
	if (s->fe->nlogs == 0 || httplog == final)
		return;
	if ((s->fe->options & OPT_DONTLOGNULL) && s->client.bytes_in == 0)
		return;
	txn_record(s, &r, final);
	if (httplog)
		accesslog_http(&r, line, sizeof(line));
	else
		accesslog_tcp(&r, line, sizeof(line));
	log_access(s->fe->logs, s->fe->nlogs, line);
}

void
session_txn_log(struct session *s)
{
	txn_log(s, 0);
}

/*
 * Closes our side first and reads what the client still sends, so that
 * the kernel does not answer unread data with a reset that could destroy
 * the response before the client has read it.
 */
static void
close_client(struct session *s)
{
	int64_t deadline = now_ms() + LINGER_MS;

	side_shutdown(&s->client);
	while (!s->client.eof) {
		struct pollfd pfd = { s->client.rfd, POLLIN, 0 };
		int left = (int)(deadline - now_ms());
		ssize_t n;
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		/* Into the client buffer: what is left there is dropped
		 * anyway, and a stack array would cost an idle tunnel a
		 * page (this is inlined above the relay's frames). */
		n = read(s->client.rfd, s->cbuf.data, s->cbuf.cap);
		/* EOF ends it; errno means nothing then (it may still say
		 * EAGAIN from an earlier read, and poll would return at
		 * once until the deadline). */
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
}

/* ---- reading a request head ---- */

enum read_result { READ_OK, READ_CLOSE };

static int
max_head_len(const struct session *s)
{
	return s->cfg->bufsize - HEAD_REWRITE_RESERVE;
}

/*
 * The deadline for the head. timeout http-request counts from the
 * connection's start for the first request and from the first byte of
 * a later one; an idle keep-alive connection waits http-keep-alive (or
 * http-request, or client); without http-request, timeout client is an
 * inactivity timer.
 */
static int64_t
head_deadline(const struct session *s, int64_t first_byte_ms,
    int64_t last_read_ms)
{
	const struct timeouts *to = &s->fe->to;

	if (s->nreq > 0 && first_byte_ms == 0) {
		int ka = to->http_keep_alive ? to->http_keep_alive :
		    to->http_request ? to->http_request : to->client;
		return ka ? last_read_ms + ka : 0;
	}
	if (to->http_request)
		return (s->nreq == 0 ? s->accept_ms : first_byte_ms) +
		    to->http_request;
	return to->client ? last_read_ms + to->client : 0;
}

/* A head that cannot be read: the error page, the log line. */
static enum read_result
head_failed(struct session *s, int status, char who)
{
	(void)session_send_error(s, status, NULL, 0);
	session_txn_end(s, who, 'R');
	txn_log(s, 0);
	return READ_CLOSE;
}

static enum read_result
read_request_head(struct session *s, size_t *head_len)
{
	int64_t started = now_ms();
	int64_t first_byte = s->cbuf.len > 0 ? started : 0;
	int64_t last_read = s->nreq == 0 ? s->accept_ms : started;

	/* The first request is dated from the accept until a byte comes. */
	if (s->nreq == 0 || first_byte)
		txn_start(s, s->nreq == 0 && !first_byte);
	for (;;) {
		struct pollfd pfd = { s->client.rfd, POLLIN, 0 };
		int64_t deadline = head_deadline(s, first_byte, last_read);
		int timeout = -1;
		ssize_t n;

		*head_len = http_head_end(s->cbuf.data + s->cbuf.start,
		    s->cbuf.len);
		if (*head_len > 0 && *head_len <= (size_t)max_head_len(s)) {
			s->txn.head_ms = now_ms();
			return READ_OK;
		}
		if (*head_len > 0 || s->cbuf.len >= (size_t)max_head_len(s))
			return head_failed(s, 400, 'P');
		if (deadline > 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				/* An idle keep-alive connection just closes. */
				if (s->nreq == 0 || s->cbuf.len > 0)
					return head_failed(s, 408, 'c');
				return READ_CLOSE;
			}
			timeout = (int)left;
		}
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return READ_CLOSE;
		if (pfd.revents == 0)
			continue;
		if (s->cbuf.start + s->cbuf.len == s->cbuf.cap) {
			memmove(s->cbuf.data, s->cbuf.data + s->cbuf.start,
			    s->cbuf.len);
			s->cbuf.start = 0;
		}
		n = read(s->client.rfd, s->cbuf.data + s->cbuf.start +
		    s->cbuf.len, s->cbuf.cap - s->cbuf.start - s->cbuf.len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			s->client.eof = 1;
			/* HAProxy answers 400 to a client that gave up
			 * mid-request, or sent nothing at all. */
			if (s->nreq == 0 || s->cbuf.len > 0)
				return head_failed(s, 400, 'C');
			return READ_CLOSE;
		}
		s->cbuf.len += (size_t)n;
		s->client.bytes_in += (unsigned long long)n;
		last_read = now_ms();
		if (first_byte == 0) {
			first_byte = last_read;
			txn_start(s, 0);
		}
	}
}

/* ---- routing and connecting ---- */

/*
 * use_backend %[...]: the backend named by the expanded value. NULL when
 * there is none by that name (a frontend-only section is none), when the
 * name does not fit, or when it is of the other mode (wsproxy refuses
 * mixed modes; 2.6 would carry on).
 */
static const struct proxy *
dynamic_backend(const struct session *s, const struct switch_rule *r,
    const struct http_msg *req)
{
	struct lf_input in = { .req = req, .src = &s->src, .dst = &s->dst,
	    .fe = s->fe, .trk = &s->trk };
	char name[1024];
	ssize_t len = logfmt_expand(r->dynamic, &in, name, sizeof(name));
	const struct proxy *be;

	if (len < 0)
		return NULL;
	be = config_find_backend(s->cfg, name, (size_t)len);
	return be != NULL && be->mode == s->fe->mode ? be : NULL;
}

static const struct proxy *
route(const struct session *s, const struct http_msg *req)
{
	struct acl_input in = { req, &s->src, net_port(&s->dst), NULL,
	    &s->trk };
	const struct proxy *fe = s->fe;

	for (int i = 0; i < fe->nrules; i++) {
		const struct switch_rule *r = &fe->rules[i];
		const struct proxy *be;
		if (r->cond != NULL && !acl_cond_eval(r->cond, &in))
			continue;
		if (r->dynamic == NULL)
			return r->backend;
		/* 2.6 (process_switching_rules): a name that finds no
		 * backend ends the rules; the default backend follows */
		if ((be = dynamic_backend(s, r, req)) != NULL)
			return be;
		break;
	}
	if (fe->default_backend != NULL)
		return fe->default_backend;
	if (fe->cap & CAP_BE)
		return fe;      /* a listen section uses its own servers */
	return NULL;
}

/*
 * Connects the request to a server of be (connect.c); the log line
 * learns how that went.
 */
static int
connect_server(struct session *s, const struct proxy *be)
{
	struct connect_client c = { s->client.rfd, &s->src, &s->dst };
	struct txn *t = &s->txn;
	int fd;

	t->be = be;
	fd = connect_backend(be, &c, &t->conn);
	count_backend(be, t->conn.srv);
	if (fd < 0)
		session_txn_end(s, t->conn.term[0], t->conn.term[1]);
	s->server.rfd = s->server.wfd = fd;
	return fd;
}

static void
close_server(struct session *s)
{
	connect_close(s->server.rfd, s->txn.be, s->txn.conn.srv);
	s->server.rfd = s->server.wfd = -1;
}

/* ---- the request ---- */

/* The header name as http_hdr_find() takes it: lower case; its length
 * is counted by the compiler (sizeof - 1). */
static const char ws_key_name[] = "sec-websocket-key";

/* Sec-WebSocket-Key: a 16-byte nonce in base64 (RFC 6455 4.1). */
#define WS_NONCE_BYTES ((size_t)16)
#define WS_KEY_LEN (4 * ((WS_NONCE_BYTES + 2) / 3))

static int
websocket_key_ok(const struct http_msg *req)
{
	int idx = 0;
	const struct http_hdr *h = http_hdr_find(req, ws_key_name,
	    sizeof(ws_key_name) - 1, &idx);

	return h != NULL && h->value_len == WS_KEY_LEN;
}

static void
request_info_init(struct request_info *ri, const struct http_msg *req)
{
	ri->is_head = http_method_is(req, "HEAD");
	ri->is_http10 = req->vminor == 0;
	ri->wants_close = (req->conn_tokens & CONN_CLOSE) ||
	    (ri->is_http10 && !(req->conn_tokens & CONN_KEEPALIVE));
	ri->upgrade = (req->conn_tokens & CONN_UPGRADE) != 0;
	ri->websocket = ri->upgrade && req->upgrade_websocket;
}

/* Keeps the request line for the log, as received. */
static void
txn_set_line(struct session *s, const struct http_msg *req)
{
	const char *lf = memchr(req->head, '\n', req->head_len);
	size_t n = lf ? (size_t)(lf - req->head) : 0;

	if (n > 0 && req->head[n - 1] == '\r')
		n--;
	if (n > sizeof(s->txn.line))
		n = sizeof(s->txn.line);
	memcpy(s->txn.line, req->head, n);
	s->txn.line_len = n;
}

/* Our own answer instead of the server's; ri NULL: the connection ends. */
static enum client_next
refuse(struct session *s, int status, char who, char stage,
    const struct request_info *ri, int keep)
{
	enum client_next next;

	if (who != 0)
		session_txn_end(s, who, stage);
	next = session_send_error(s, status, ri, keep);
	txn_log(s, 0);
	return next;
}

/*
 * tcp-request content rules of px (reference 10.2): a reject closes the
 * connection with nothing sent, logged "PR--" with status -1; 1 then.
 * The frontend's run before the request is known to the log (-1 for
 * TR, "<BADREQ>"), a backend's after, as in 2.6. req is NULL in tcp
 * mode.
 */
static int
content_rejected(struct session *s, const struct proxy *px,
    const struct http_msg *req)
{
	struct acl_input in = { req, &s->src, net_port(&s->dst), NULL,
	    &s->trk };

	if (tcprules_content_ok(px, &in, &s->dst, &s->trk))
		return 0;
	s->txn.be = px;
	if (px == s->fe)
		s->txn.head_ms = 0;
	session_txn_end(s, 'P', 'R');
	if (req != NULL)
		txn_log(s, 0);
	return 1;
}

/*
 * monitor-uri: the request's path and query (or its whole target, when
 * the URI does not start with '/') equal to it.
 */
static int
monitor_match(const struct proxy *fe, const struct http_msg *req)
{
	const char *uri = fe->monitor_uri, *target = req->uri;
	size_t target_len = req->uri_len, path_len;

	if (uri == NULL)
		return 0;
	if (uri[0] == '/') {
		http_req_path(req, &target, &path_len);
		target_len = (size_t)(req->uri + req->uri_len - target);
	}
	return target_len == strlen(uri) && memcmp(target, uri,
	    target_len) == 0;
}

/*
 * Answers a monitor-uri request: 200, or 503 when a "monitor fail"
 * condition holds (an errorfile of the frontend replaces either). Not
 * logged; the connection goes on unless a body would have to be read.
 */
static enum client_next
monitor_answer(struct session *s, const struct http_msg *req,
    const struct request_info *ri, size_t head_len)
{
	struct acl_input in = { req, &s->src, net_port(&s->dst), NULL,
	    &s->trk };
	const struct reply *r;
	int status = 200, keep = req->body == BODY_NONE;

	for (int i = 0; i < s->fe->nmonitor_fail && status == 200; i++)
		if (acl_cond_eval(s->fe->monitor_fail[i].cond, &in))
			status = 503;
	if ((r = reply_find(NULL, s->fe, status)) == NULL)
		r = reply_builtin(status);
	buf_consume(&s->cbuf, head_len);
	s->txn.status = status;
	s->txn.intercepted = 1;
	txn_count(s, 0);        /* counted, not logged */
	return session_send_reply(s, r, ri, keep);
}

/*
 * Chunked framing that already arrived with the head is checked before
 * anything is forwarded: a bad chunk then costs the server nothing.
 */
static int
early_body_ok(const struct session *s, const struct http_msg *req,
    size_t head_len)
{
	struct http_framing fr;

	if (req->body != BODY_CHUNKED)
		return 1;
	http_framing_init(&fr, BODY_CHUNKED, 0);
	http_framing_strict(&fr);
	(void)http_framing_feed(&fr, s->cbuf.data + s->cbuf.start + head_len,
	    s->cbuf.len - head_len);
	return !fr.error;
}

/*
 * The rules of reference 10.1 once the head is known: the frontend's
 * http-request and redirect rules, routing, the backend's; an edited
 * head is parsed again before it goes on. *be is the backend chosen.
 */
static enum rule_verdict
request_rules(struct session *s, struct rule_ctx *c, struct http_msg *req,
    const struct proxy **be)
{
	enum rule_verdict v;

	answer_ctx_init(s, c, req, 0);
	*be = NULL;
	if ((v = answer_run_request(c, s->fe)) != VERDICT_CONTINUE)
		return v;
	*be = route(s, req);
	if (*be != NULL && *be != s->fe) {
		c->lf.be = *be;
		if (!tcprules_content_ok(*be, &c->acl, &s->dst, &s->trk)) {
			c->final_px = *be;      /* tcp-request content reject */
			return VERDICT_REJECT;
		}
		if ((v = answer_run_request(c, *be)) != VERDICT_CONTINUE)
			return v;
	}
	if (ruleexec_reparse(c, 1) < 0) {
		c->final_px = *be != NULL ? *be : s->fe;
		return VERDICT_FAILED;
	}
	return VERDICT_CONTINUE;
}

/* Serves one request whose head is complete. */
static enum client_next
serve_request(struct session *s, size_t head_len)
{
	struct http_msg req;
	struct request_info ri;
	struct rule_ctx rc;
	const struct proxy *be;
	enum rule_verdict v;
	enum client_next next;
	int keep;

	/* every request counts on the connection's trackers, invalid
	 * ones too; a tracker started for this one counts it then */
	track_count(&s->trk, STK_EV_HTTP_REQ, 1);
	if (http_parse_request(s->cbuf.data + s->cbuf.start, head_len, &req,
	    s->req_hdrs, s->cfg->maxhdr) < 0) {
		s->txn.head_ms = 0;     /* no request: TR is -1 */
		return refuse(s, 400, 'P', 'R', NULL, 0);
	}
	if (!early_body_ok(s, &req, head_len)) {
		/* 2.6's parser refuses it with the head: a <BADREQ> line */
		s->txn.head_ms = 0;
		return refuse(s, 400, 'P', 'R', NULL, 0);
	}
	if (content_rejected(s, s->fe, &req))
		return CLIENT_CLOSE;
	txn_set_line(s, &req);
	capture_headers(&s->caps[CAPTURE_REQ], s->fe->caps[CAPTURE_REQ],
	    req.hdrs, req.nhdrs);
	request_info_init(&ri, &req);
	if (ri.websocket && !websocket_key_ok(&req))
		return refuse(s, 400, 'P', 'R', NULL, 0);
	if (monitor_match(s->fe, &req))
		return monitor_answer(s, &req, &ri, head_len);
	v = request_rules(s, &rc, &req, &be);
	if (v == VERDICT_STATS)
		return statspage_serve(s, rc.final_px, &req, &ri, head_len);
	if (v == VERDICT_SERVICE)
		return promex_serve(s, rc.final_px, &req, &ri, head_len);
	if (v != VERDICT_CONTINUE)
		return answer_request(s, &rc, v, &req, &ri, head_len);
	request_info_init(&ri, &req);   /* what the rules left */
	/* A 503 of a file with a Content-Length may keep the connection
	 * for the next request, when this one has no body to read. */
	keep = req.body == BODY_NONE;
	if (be == NULL || connect_server(s, be) < 0) {
		if (keep)
			buf_consume(&s->cbuf, head_len);
		return be == NULL ? refuse(s, 503, 'S', 'C', &ri, keep) :
		    refuse(s, 503, 0, 0, &ri, keep);
	}
	next = exchange_forward(s, be, &req, &ri, head_len);
	close_server(s);
	txn_log(s, 0);
	return next;
}

/* mode tcp: route on what is known without reading, then a tunnel. */
static void
serve_tcp(struct session *s)
{
	const struct proxy *be = route(s, NULL);
	struct flow up, down;

	txn_start(s, 1);
	if (content_rejected(s, s->fe, NULL) || (be != NULL && be != s->fe &&
	    content_rejected(s, be, NULL)))
		return;
	if (be == NULL) {
		session_txn_end(s, 'S', 'C');
		return;
	}
	if (connect_server(s, be) < 0)
		return;
	up = (struct flow){ .from = &s->client, .to = &s->server,
	    .buf = &s->cbuf };
	down = (struct flow){ .from = &s->server, .to = &s->client,
	    .buf = &s->sbuf };
	exchange_tunnel(s, be, &up, &down);
	close_server(s);
}

/*
 * The header tables and the rewritten heads share one mapping, made
 * after the fork like the buffers: only the pages a request touches
 * cost memory, and a tunnel, which needs none of it, gives it all back
 * (exchange_tunnel). A rewritten request head must fit in a buffer, as in
 * HAProxy (what forwardfor adds comes out of HEAD_REWRITE_RESERVE); a
 * response head may fill its buffer, and gains at most a Connection
 * header. The rules' arena (what they rewrite, and the edited head
 * written out again) is a buffer's size too.
 */
static void
scratch_init(struct session *s)
{
	size_t nhdrs = (size_t)s->cfg->maxhdr;
	size_t tables = 2 * nhdrs * sizeof(struct http_hdr);
	size_t req_cap = (size_t)s->cfg->bufsize;
	size_t resp_cap = req_cap + HEAD_REWRITE_RESERVE;
	size_t arena_cap = req_cap;

	s->scratch_len = tables + req_cap + resp_cap + arena_cap;
	if ((s->scratch = pages_map(s->scratch_len)) == NULL)
		fatal("header table allocation");
	s->req_hdrs = (struct http_hdr *)(void *)s->scratch;
	s->resp_hdrs = s->req_hdrs + nhdrs;
	s->req_head = (struct http_out){ s->scratch + tables, 0, req_cap, 0 };
	s->resp_head = (struct http_out){ s->scratch + tables + req_cap, 0,
	    resp_cap, 0 };
	s->arena = (struct http_out){ s->scratch + tables + req_cap + resp_cap,
	    0, arena_cap, 0 };
}

/* accepted: the client's socket comes from the accept loop, already
 * non-blocking and with TCP_NODELAY (net_listen); else (inetd) make it so. */
static void
session_init(struct session *s, const struct config *cfg,
    const struct proxy *fe, int rfd, int wfd, int accepted)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->fe = fe;
	s->accept_ms = now_ms();
	gettimeofday(&s->accept_date, NULL);
	s->client.rfd = rfd;
	s->client.wfd = wfd;
	s->server.rfd = s->server.wfd = -1;
	if (buf_alloc(&s->cbuf, (size_t)cfg->bufsize) < 0 ||
	    buf_alloc(&s->sbuf, (size_t)cfg->bufsize) < 0)
		fatal("buffer allocation");
	scratch_init(s);
	capture_init(&s->caps[CAPTURE_REQ], fe->caps[CAPTURE_REQ],
	    fe->ncaps[CAPTURE_REQ], (size_t)cfg->bufsize);
	capture_init(&s->caps[CAPTURE_RESP], fe->caps[CAPTURE_RESP],
	    fe->ncaps[CAPTURE_RESP], (size_t)cfg->bufsize);
	if (accepted)
		return;
	(void)net_set_nonblock(rfd);
	if (wfd != rfd)
		(void)net_set_nonblock(wfd);
	net_set_nodelay(wfd);
}

/*
 * The buffers and the scratch mapping are left to exit, which comes
 * next (session.h): unmapping them here cost three munmap()s, each with
 * a TLB flush that can interrupt the other CPU, for pages exit frees
 * anyway.
 */
static void
session_free(struct session *s)
{
	capture_free(&s->caps[CAPTURE_REQ]);
	capture_free(&s->caps[CAPTURE_RESP]);
}

/*
 * What follows a tunnel's end in serve_request (or serve_tcp) and
 * session_serve, for a keeper that relayed it: the server closed, the
 * request's line (httplog) and the connection's. The client is closed
 * without close_client()'s linger, which would block the keeper: after
 * a tunnel there is no response of ours for a reset to destroy.
 */
void
session_after_tunnel(struct session *s)
{
	close_server(s);
	if (s->fe->mode == MODE_HTTP)
		txn_log(s, 0);
	side_shutdown(&s->client);
	close(s->client.rfd);
	s->client.rfd = s->client.wfd = -1;
	txn_log(s, 1);
	session_free(s);
}

static void
on_shutdown(int sig)
{
	(void)sig;
	relay_shutdown = 1;
}

void
session_catch_shutdown(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_shutdown;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SRV_SHUTDOWN_SIGNAL, &sa, NULL) < 0)
		log_warn("sigaction");
}

void
session_serve(const struct config *cfg, const struct proxy *fe, int rfd,
    int wfd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, const struct listener *l,
    const struct track_ctx *trk)
{
	struct session s;
	size_t head_len;

	session_init(&s, cfg, fe, rfd, wfd, l != NULL);
	s.src = *src;
	s.dst = *dst;
	if (trk != NULL)
		s.trk = *trk;
	if (l != NULL && l->accept_proxy && acceptproxy_read(cfg, l, rfd,
	    &s.accept_date, &s.src, &s.dst) < 0) {
		session_free(&s);       /* rfd is closed */
		return;
	}
	if (!tcprules_session_ok(fe, &s.src, &s.dst, &s.trk)) {
		count_sess_denied(fe);
		tcprules_session_end(cfg, l, &s.accept_date, &s.src, rfd, wfd);
		session_free(&s);
		return;
	}
	/* a session now: its connection and session trackers count it */
	track_count(&s.trk, STK_EV_SESS, 1);
	count_sess(fe);
	if (fe->mode == MODE_TCP) {
		serve_tcp(&s);
	} else {
		while (read_request_head(&s, &head_len) == READ_OK &&
		    serve_request(&s, head_len) == CLIENT_KEEP)
			s.nreq++;
	}
	close_client(&s);
	txn_log(&s, 1);
	session_free(&s);
}
