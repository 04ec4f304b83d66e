/*
 * answer.c - what a request's rules decide, carried out in the child
 * (reference 10.1, 10.3): the context the rules run in, the reply a
 * final action sends and its log line, the tarpit's hold, and the
 * request body a reply leaves unread, drained so that the connection
 * can serve the next request as in 2.6.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "answer.h"
#include "buf.h"
#include "framing.h"
#include "net.h"
#include "relay.h"
#include "statspage.h"

/* How long a body left by a reply may take to drain without a client
 * timeout. */
#define DRAIN_DEFAULT_MS 5000

void
answer_ctx_init(struct session *s, struct rule_ctx *c, struct http_msg *msg,
    int is_response)
{
	s->arena.len = 0;
	s->arena.overflow = 0;
	memset(c, 0, sizeof(*c));
	c->msg = msg;
	c->maxhdrs = s->cfg->maxhdr;
	c->arena = &s->arena;
	c->out = &s->resp_head;
	c->lf.src = &s->src;
	c->lf.dst = &s->dst;
	c->lf.fe = s->fe;
	c->lf.be = s->txn.be != NULL ? s->txn.be : s->fe;
	c->acl.src = &s->src;
	c->acl.dst_port = net_port(&s->dst);
	c->lf.trk = &s->trk;
	c->acl.trk = &s->trk;
	c->trk = &s->trk;
	if (is_response) {
		c->lf.resp = msg;
		c->acl.resp = msg;
	} else {
		c->lf.req = msg;
		c->acl.req = msg;
	}
}

enum rule_verdict
answer_run_request(struct rule_ctx *c, const struct proxy *px)
{
	enum rule_verdict v = ruleexec_run(c, &px->http_req, px);

	if (v == VERDICT_CONTINUE && stats_uri_match(px, c->msg)) {
		c->final = NULL;
		c->final_px = px;
		return VERDICT_STATS;   /* after the rules, before redirect */
	}
	if (v == VERDICT_CONTINUE)
		v = ruleexec_run(c, &px->redirects, px);
	return v;
}

/*
 * tarpit: holds the request for timeout tarpit, or the timeout connect
 * of a proxy that has one (a frontend has none: no wait, as 2.6), and
 * logs the hold as Tw. 0, or -1 when the client left meanwhile.
 */
static int
tarpit_hold(struct session *s, const struct proxy *px)
{
	int hold = px->to.tarpit ? px->to.tarpit :
	    (px->cap & CAP_BE) ? px->to.connect : 0;
	int64_t start = now_ms(), deadline = start + hold;
	int gone = 0;

	for (;;) {
		/* only a hang-up ends the wait: bytes a client pipelines
		 * are not read, and do not wake us */
		struct pollfd pfd = { s->client.rfd, POLLRDHUP, 0 };
		int64_t left = deadline - now_ms();
		int rc;
		if (left <= 0)
			break;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0) {
			gone = 1;
			break;
		}
	}
	s->txn.head_ms = 0;     /* 2.6 logs TR -1, the hold as Tw */
	s->txn.conn.queue_start_ms = start;
	s->txn.conn.queue_end_ms = now_ms();
	return gone ? -1 : 0;
}

/*
 * Takes the request out of the buffer: its head, and as much of its
 * body as is there. 1 when the whole body was there.
 */
static int
consume_request(struct session *s, const struct http_msg *req,
    size_t head_len, struct http_framing *fr)
{
	size_t n;

	buf_consume(&s->cbuf, head_len);
	http_framing_init(fr, req->body, req->content_length);
	http_framing_strict(fr);
	n = http_framing_feed(fr, s->cbuf.data + s->cbuf.start, s->cbuf.len);
	buf_consume(&s->cbuf, n);
	return fr->done && !fr->error;
}

/*
 * Reads and discards the rest of a body our reply made useless, within
 * the client timeout, so that the next request can follow. 0 when the
 * body ended cleanly.
 */
static int
drain_body(struct session *s, struct http_framing *fr)
{
	int timeout = s->fe->to.client ? s->fe->to.client : DRAIN_DEFAULT_MS;

	while (!fr->done && !fr->error) {
		struct pollfd pfd = { s->client.rfd, POLLIN, 0 };
		ssize_t n;
		size_t used;
		int rc = poll(&pfd, 1, timeout);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -1;
		s->cbuf.start = 0;
		n = read(s->client.rfd, s->cbuf.data + s->cbuf.len,
		    s->cbuf.cap - s->cbuf.len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		s->client.bytes_in += (unsigned long long)n;
		s->cbuf.len += (size_t)n;
		used = http_framing_feed(fr, s->cbuf.data, s->cbuf.len);
		buf_consume(&s->cbuf, used);
	}
	return fr->error ? -1 : 0;
}

/* %tsc's first letter for a final action: 2.6 counts a deny or a
 * tarpit as the proxy's doing (P), a reply it was told to give as
 * local processing (L). */
static char
term_who(const struct rule *r)
{
	return r->action == ACT_DENY || r->action == ACT_TARPIT ||
	    r->action == ACT_REJECT ? 'P' : 'L';
}

enum client_next
answer_request(struct session *s, struct rule_ctx *c, enum rule_verdict v,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len)
{
	struct http_framing fr;
	enum client_next next;
	int whole;

	s->txn.be = c->final_px;
	if (v == VERDICT_REJECT) {
		session_txn_end(s, 'P', 'R');
		session_txn_log(s);
		return CLIENT_CLOSE;    /* nothing sent */
	}
	if (v == VERDICT_FAILED) {
		/* a rewrite that cannot be made: 2.6's internal error */
		session_txn_end(s, 'I', 'R');
		next = session_send_error(s, 500, ri, 0);
		session_txn_log(s);
		return next;
	}
	if (v == VERDICT_TARPIT && tarpit_hold(s, c->final_px) < 0) {
		session_txn_end(s, 'C', 'T');
		session_txn_log(s);
		return CLIENT_CLOSE;
	}
	session_txn_end(s, term_who(c->final), v == VERDICT_TARPIT ?
	    'T' : 'R');
	s->txn.status = c->reply->status;
	whole = consume_request(s, req, head_len, &fr);
	/* a redirect does not wait for a body: the client is sent away */
	next = session_send_reply(s, c->reply, ri, whole ||
	    c->final->action != ACT_REDIRECT);
	if (next == CLIENT_KEEP && !whole && drain_body(s, &fr) < 0)
		next = CLIENT_CLOSE;
	session_txn_log(s);
	return next;
}
