/*
 * exchange.c - one request's exchange with its server, in the child:
 * the rewritten head goes up, the request body follows while the
 * response head is awaited, interim 1xx heads are passed on, and the
 * response body comes down; a 101 to an upgrade (and mode tcp from the
 * start) turns both directions into an opaque tunnel with the backend's
 * timeouts. What the client gets when the exchange fails (502, 504...)
 * and the %tsc it is logged with are decided here too.
 *
 * The connection it runs on, and its log record, are session.c's
 * (sessionstate.h).
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "capture.h"
#include "exchange.h"
#include "forwardfor.h"
#include "http.h"
#include "keeper.h"
#include "relay.h"
#include "reply.h"
#include "answer.h"

/* The header name as http_hdr_find() takes it: lower case; its length
 * is counted by the compiler (sizeof - 1). */
static const char ws_accept_name[] = "sec-websocket-accept";

/* 101 is valid only for an upgrade request, with upgrade in Connection,
 * and a websocket 101 must carry Sec-WebSocket-Accept (HAProxy 2.x). */
static int
upgrade_response_ok(const struct request_info *ri,
    const struct http_msg *resp)
{
	int idx = 0;

	if (!ri->upgrade || !(resp->conn_tokens & CONN_UPGRADE))
		return 0;
	if (resp->upgrade_websocket &&
	    http_hdr_find(resp, ws_accept_name, sizeof(ws_accept_name) - 1,
	    &idx) == NULL)
		return 0;
	return 1;
}

/* %tsc for a relay that ended with st because of culprit. */
static void
txn_end_relay(struct session *s, enum relay_status st,
    const struct side *culprit, char stage)
{
	int client = culprit == &s->client;

	switch (st) {
	case RELAY_DONE:
	case RELAY_HEAD:
	case RELAY_HANDOVER:
		break;
	case RELAY_TIMEOUT:
		session_txn_end(s, client ? 'c' : 's', stage);
		break;
	case RELAY_BAD_BODY:
	case RELAY_HEAD_TOO_BIG:
		session_txn_end(s, 'P', stage);
		break;
	case RELAY_EOF:
	case RELAY_WRITE_ERROR:
		session_txn_end(s, client ? 'C' : 'S', stage);
		break;
	case RELAY_KILLED:
		/* 2.6's 'K': killed by an admin (shutdown sessions) */
		session_txn_end(s, 'K', stage);
		break;
	}
}

/*
 * tunnel-keeper: a keeper that cannot take a tunnel yet (its queue full
 * in a reconnect storm, or near its descriptor limit) is asked again
 * after 50 ms, then twice as long each time up to 2 s; the child's pid
 * spreads the attempts of a thousand children refused at once. Until
 * then, and for good when the keeper is gone, the child relays.
 */
#define HANDOVER_RETRY_FIRST_MS 50
#define HANDOVER_RETRY_MAX_MS 2000

static int64_t
handover_retry_at(enum keeper_refusal refusal, int *retry_ms)
{
	int64_t at;

	if (refusal == KEEPER_NEVER)
		return 0;
	at = now_ms() + *retry_ms + getpid() % (*retry_ms / 2);
	if (*retry_ms < HANDOVER_RETRY_MAX_MS / 2)
		*retry_ms *= 2;
	else
		*retry_ms = HANDOVER_RETRY_MAX_MS;
	return at;
}

/* After a 101 (or in tcp mode): both directions are an opaque tunnel. */
void
exchange_tunnel(struct session *s, const struct proxy *be,
    struct flow *up, struct flow *down)
{
	struct flow *flows[2] = { up, down };
	struct side *culprit = NULL;
	int64_t now = now_ms();
	int retry_ms = HANDOVER_RETRY_FIRST_MS;
	enum relay_status st;

	s->client.timeout_ms = be->to.tunnel ? be->to.tunnel :
	    s->fe->to.client;
	s->server.timeout_ms = be->to.tunnel ? be->to.tunnel : be->to.server;
	s->client.fin_timeout_ms = s->fe->to.client_fin;
	s->server.fin_timeout_ms = be->to.server_fin;
	s->client.last_ms = s->server.last_ms = now;
	flow_start(up, FLOW_TUNNEL, BODY_NONE, 0);
	flow_start(down, FLOW_TUNNEL, BODY_NONE, 0);
	/* The header tables and rewritten heads are done with once the
	 * request head is out (a server may answer before it has it all). */
	if (up->pre_len == 0 && down->pre_len == 0)
		pages_release(s->scratch, s->scratch_len);
	/* tunnel-keeper: once the 101 and any early bytes are through */
	up->handover_at = down->handover_at = keeper_available() ? now : 0;
	st = relay_run(flows, 2, -1, now, &culprit);
	while (st == RELAY_HANDOVER) {
		/* keeper_hand_over() returns only if it could not */
		int64_t retry_at = handover_retry_at(keeper_hand_over(s),
		    &retry_ms);
		up->handover_at = down->handover_at = retry_at;
		st = relay_run(flows, 2, -1, now_ms(), &culprit);
	}
	txn_end_relay(s, st, culprit, 'D');
}

void
exchange_tunnel_over(struct session *s, enum relay_status st,
    const struct side *culprit)
{
	txn_end_relay(s, st, culprit, 'D');
}

/* What a response head means for the exchange. */
enum response_step {
	RESPONSE_INTERIM,       /* a 1xx passed on: wait for another head */
	RESPONSE_INVALID,       /* unusable: the client gets a 502 */
	RESPONSE_REFUSED,       /* by a rule: the client gets s->refusal */
	RESPONSE_OVER,          /* a tunnel that ended, or a client gone */
	RESPONSE_BODY_KEEP,     /* the body flow is set up; keep the client */
	RESPONSE_BODY_CLOSE     /* ... and close the client after it */
};

/*
 * The http-response rules of the backend, then of the frontend
 * (reference 10.1, 10.8), on a final response or a 101; a refusal's
 * reply is left in s->refusal.
 */
static enum response_step
response_rules(struct session *s, const struct proxy *be,
    const struct request_info *ri, struct http_msg *resp)
{
	struct rule_ctx c;
	enum rule_verdict v;

	if (be->http_resp.n == 0 && s->fe->http_resp.n == 0)
		return RESPONSE_BODY_KEEP;
	answer_ctx_init(s, &c, resp, 1);
	c.request_was_head = ri->is_head;
	c.lf.srv = s->txn.conn.srv;
	v = ruleexec_run(&c, &be->http_resp, be);
	if (v == VERDICT_CONTINUE && be != s->fe)
		v = ruleexec_run(&c, &s->fe->http_resp, s->fe);
	if (v == VERDICT_CONTINUE && resp->status != 101 &&
	    ruleexec_reparse(&c, 0) < 0)
		v = VERDICT_FAILED;
	if (v == VERDICT_CONTINUE)
		return RESPONSE_BODY_KEEP;
	if (v == VERDICT_FAILED) {
		/* a rewrite that cannot be made: 2.6's internal error */
		session_txn_end(s, 'I', 'H');
		s->refusal = reply_builtin(500);
		return RESPONSE_REFUSED;
	}
	session_txn_end(s, 'P', 'H');
	s->txn.resp_denied = 1;
	s->refusal = c.reply;
	return RESPONSE_REFUSED;
}

/* A 101 whose head the rules edited goes out rebuilt, ahead of any
 * frames that followed it in sbuf. */
static int
upgrade_head_rebuilt(struct session *s, const struct http_msg *resp,
    size_t head_len, struct flow *down)
{
	s->resp_head.len = 0;
	s->resp_head.overflow = 0;
	http_build_upgrade_response(resp, &s->resp_head);
	if (s->resp_head.overflow)
		return -1;
	buf_consume(&s->sbuf, head_len);
	down->pre = s->resp_head.data;
	down->pre_len = s->resp_head.len;
	return 0;
}

/* What to do once the response head is known. */
static enum response_step
handle_response(struct session *s, const struct proxy *be,
    const struct request_info *ri, struct flow *up, struct flow *down)
{
	struct http_msg resp;
	size_t head_len = http_head_end(s->sbuf.data + s->sbuf.start,
	    s->sbuf.len);
	const char *head = s->sbuf.data + s->sbuf.start;
	int client_close;

	s->txn.response_ms = now_ms();
	if (http_parse_response(head, head_len, &resp, s->resp_hdrs,
	    s->cfg->maxhdr, ri->is_head) < 0 ||
	    (resp.status == 101 && !upgrade_response_ok(ri, &resp))) {
		session_txn_end(s, 'P', 'H');
		return RESPONSE_INVALID;
	}
	s->txn.status = resp.status;
	if (resp.status >= 200 || resp.status == 101) {
		enum response_step step;
		capture_headers(&s->caps[CAPTURE_RESP], s->fe->caps[CAPTURE_RESP],
		    resp.hdrs, resp.nhdrs);
		/* 1xx interim heads pass without the rules, as in 2.6 */
		if ((step = response_rules(s, be, ri, &resp)) != RESPONSE_BODY_KEEP)
			return step;
		s->txn.status = resp.status;    /* set-status */
	}
	if (resp.status == 101) {
		/* The head goes out as it came, from sbuf, ahead of any
		 * frames that followed it there, unless a rule edited it. */
		if (be->http_resp.n > 0 || s->fe->http_resp.n > 0) {
			if (upgrade_head_rebuilt(s, &resp, head_len, down) < 0) {
				session_txn_end(s, 'P', 'H');
				return RESPONSE_INVALID;
			}
		}
		exchange_tunnel(s, be, up, down);
		return RESPONSE_OVER;
	}
	if (resp.status < 200) {
		/* Interim (100 Continue...): pass it on now, wait for more. */
		buf_consume(&s->sbuf, head_len);
		if (session_write_client(s, head, head_len) < 0) {
			session_txn_end(s, 'C', 'H');
			return RESPONSE_OVER;
		}
		return RESPONSE_INTERIM;
	}
	client_close = s->fe->conn_mode == CONN_MODE_CLO || ri->wants_close ||
	    resp.body == BODY_UNTIL_CLOSE;
	http_build_response(&resp, client_close, ri->is_http10, &s->resp_head);
	if (s->resp_head.overflow) {
		session_txn_end(s, 'P', 'H');
		return RESPONSE_INVALID;
	}
	buf_consume(&s->sbuf, head_len);
	down->pre = s->resp_head.data;
	down->pre_len = s->resp_head.len;
	flow_start(down, FLOW_BODY, resp.body, resp.content_length);
	return client_close ? RESPONSE_BODY_CLOSE : RESPONSE_BODY_KEEP;
}

/* The error page for a failed exchange, or 0 when none can be sent. */
static int
exchange_error(const struct session *s, enum relay_status st,
    const struct side *culprit)
{
	if (st == RELAY_KILLED)
		return 0;       /* closed, as 2.6 closes a killed stream */
	if (culprit == &s->client) {
		if (st == RELAY_BAD_BODY)
			return 400;
		if (st == RELAY_TIMEOUT)
			return 408;
		return 0;       /* the client is gone */
	}
	return st == RELAY_TIMEOUT ? 504 : 502;
}

/*
 * Runs the exchange with the server: the request body goes up while the
 * response head is awaited, then the response body comes down.
 */
static enum client_next
run_exchange(struct session *s, const struct proxy *be,
    const struct request_info *ri, struct flow *up, struct flow *down)
{
	struct flow *flows[2] = { up, down };
	struct side *culprit = NULL;
	enum client_next next = CLIENT_CLOSE;
	int final = 0;          /* the final response's body is under way */
	enum relay_status st;

	for (;;) {
		st = RELAY_HEAD;
		if (down->mode != FLOW_HEAD || http_head_end(s->sbuf.data +
		    s->sbuf.start, s->sbuf.len) == 0)
			st = relay_run(flows, 2, 1, now_ms(), &culprit);
		if (st == RELAY_DONE)
			return up->done ? next : CLIENT_CLOSE;
		if (st != RELAY_HEAD)
			break;
		if (final)
			return CLIENT_CLOSE;    /* a second head: impossible */
		switch (handle_response(s, be, ri, up, down)) {
		case RESPONSE_INTERIM:
			continue;
		case RESPONSE_INVALID:
			return session_send_error(s, 502, ri, up->done);
		case RESPONSE_REFUSED:
			/* the server's response stays unread: it is closed */
			s->txn.status = s->refusal->status;
			return session_send_reply(s, s->refusal, ri, 0);
		case RESPONSE_OVER:
			return CLIENT_CLOSE;
		case RESPONSE_BODY_KEEP:
			next = CLIENT_KEEP;
			break;
		case RESPONSE_BODY_CLOSE:
			next = CLIENT_CLOSE;
			break;
		}
		final = 1;
	}
	/* Once the response has started, closing is all that is left. */
	txn_end_relay(s, st, culprit, final || culprit == &s->client ?
	    'D' : 'H');
	if (!final) {
		int status = exchange_error(s, st, culprit);
		if (status != 0)
			return session_send_error(s, status, ri,
			    up->done && culprit != &s->client);
	}
	return CLIENT_CLOSE;
}

/* Sends the request on and relays what comes back. */
enum client_next
exchange_forward(struct session *s, const struct proxy *be,
    struct http_msg *req, const struct request_info *ri, size_t head_len)
{
	struct http_fwd_opts opts = { ri->upgrade, NULL, NULL };
	struct flow up, down;
	char ip[64];

	forwardfor_header(s->fe, be, req, &s->src, &opts, ip, sizeof(ip));
	http_build_request(req, &opts, &s->req_head);
	if (s->req_head.overflow) {
		/* our rewritten head did not fit: an internal error */
		session_txn_end(s, 'I', 'R');
		return session_send_error(s, 500, ri, 0);
	}
	/* From here on the parsed head is not used: its bytes may move. */
	buf_consume(&s->cbuf, head_len);
	s->sbuf.start = s->sbuf.len = 0;
	up = (struct flow){ .from = &s->client, .to = &s->server,
	    .buf = &s->cbuf, .pre = s->req_head.data,
	    .pre_len = s->req_head.len };
	down = (struct flow){ .from = &s->server, .to = &s->client,
	    .buf = &s->sbuf };
	flow_start(&up, FLOW_BODY, req->body, req->content_length);
	http_framing_strict(&up.fr);
	flow_start(&down, FLOW_HEAD, BODY_NONE, 0);
	s->server.eof = s->server.wr_shut = s->server.fin_seen = 0;
	s->client.timeout_ms = s->fe->to.client;
	s->server.timeout_ms = be->to.server;
	s->client.fin_timeout_ms = s->fe->to.client_fin;
	s->server.fin_timeout_ms = be->to.server_fin;
	s->client.last_ms = s->server.last_ms = now_ms();
	return run_exchange(s, be, ri, &up, &down);
}
