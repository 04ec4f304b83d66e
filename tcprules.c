/*
 * tcprules.c - evaluating "tcp-request" rules: the first rule whose
 * condition holds decides (accept lets the connection or request go on,
 * reject stops it); when none holds, it goes on. What a reject costs
 * differs by level, as in 2.6: a reset and no log line for a connection,
 * a close and (accept-proxy only) an error line for a session, a logged
 * close for a request (session.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acceptproxy.h"
#include "log.h"
#include "logfmt.h"
#include "match.h"
#include "net.h"
#include "tcprules.h"
#include "track.h"

/* Where rules run: what they see, and where their trackers go. */
struct tcp_eval {
	struct acl_input acl;
	struct lf_input lf;             /* a track-sc key's fetches */
	struct track_ctx *trk;
	int per_request;                /* content rules */
};

static int
is_tracking(enum rule_action action)
{
	return action == ACT_TRACK_SC || action == ACT_SC_INC_GPC ||
	    action == ACT_SC_SET_GPT0;
}

/* The first accept or reject whose condition holds decides; tracking
 * rules on the way run and go on (2.6). 1: let it in. */
static int
rules_pass(const struct rule_list *list, struct tcp_eval *ev)
{
	ev->acl.trk = ev->trk;
	ev->lf.trk = ev->trk;
	for (int i = 0; i < list->n; i++) {
		const struct rule *r = &list->rules[i];
		if (r->cond != NULL && !acl_cond_eval(r->cond, &ev->acl))
			continue;
		if (!is_tracking(r->action))
			return r->action == ACT_ACCEPT;
		if (ev->trk != NULL)
			track_rule(r, ev->trk, &ev->lf, ev->per_request);
	}
	return 1;
}

static int
layer4_pass(const struct rule_list *list, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, struct track_ctx *trk)
{
	struct tcp_eval ev;

	memset(&ev, 0, sizeof(ev));
	ev.acl.src = src;
	ev.acl.dst_port = net_port(dst);
	ev.lf.src = src;
	ev.lf.dst = dst;
	ev.trk = trk;
	return rules_pass(list, &ev);
}

int
tcprules_connection_ok(const struct proxy *fe,
    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
    struct track_ctx *trk)
{
	return layer4_pass(&fe->tcp_conn, src, dst, trk);
}

int
tcprules_session_ok(const struct proxy *fe,
    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
    struct track_ctx *trk)
{
	return layer4_pass(&fe->tcp_session, src, dst, trk);
}

int
tcprules_content_ok(const struct proxy *px, const struct acl_input *in,
    const struct sockaddr_storage *dst, struct track_ctx *trk)
{
	struct tcp_eval ev;

	memset(&ev, 0, sizeof(ev));
	ev.acl = *in;
	ev.lf.req = in->req;
	ev.lf.src = in->src;
	ev.lf.dst = dst;
	ev.trk = trk;
	ev.per_request = 1;
	return rules_pass(&px->tcp_content, &ev);
}

/* A unix socket, or an address the kernel no longer has: unknown. */
static void
socket_address(int fd, struct sockaddr_storage *ss, int peer)
{
	socklen_t len = sizeof(*ss);
	int rc;

	memset(ss, 0, sizeof(*ss));
	rc = peer ? getpeername(fd, (struct sockaddr *)ss, &len) :
	    getsockname(fd, (struct sockaddr *)ss, &len);
	if (rc < 0 || (ss->ss_family != AF_INET &&
	    ss->ss_family != AF_INET6))
		ss->ss_family = AF_UNSPEC;
}

int
tcprules_accept(const struct proxy *fe, int fd, struct track_ctx *trk)
{
	struct sockaddr_storage src, dst;

	memset(trk, 0, sizeof(*trk));
	if (fe->tcp_conn.n == 0)
		return 1;
	socket_address(fd, &src, 1);
	socket_address(fd, &dst, 0);
	if (tcprules_connection_ok(fe, &src, &dst, trk))
		return 1;
	/* rejected connections still count (conn_cnt, conn_rate), but
	 * are no longer there (conn_cur) */
	track_release_all(trk);
	tcprules_reset(fd, fd);
	return 0;
}

void
tcprules_reset(int rfd, int wfd)
{
	struct linger reset = { 1, 0 };

	/* ENOTSOCK under an inetd wrapper's pipes: a plain close then */
	if (setsockopt(rfd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) < 0 &&
	    errno != ENOTSOCK)
		log_debug("SO_LINGER: %s", strerror(errno));
	if (close(rfd) < 0)
		log_debug("close: %s", strerror(errno));
	if (wfd != rfd && close(wfd) < 0)
		log_debug("close: %s", strerror(errno));
}

void
tcprules_session_end(const struct config *cfg, const struct listener *l,
    const struct timeval *accept_date, const struct sockaddr_storage *src,
    int rfd, int wfd)
{
	/* err_code is none: "option dontlognull" hides it in 2.6 */
	if (l != NULL && l->accept_proxy &&
	    !(l->fe->options & OPT_DONTLOGNULL))
		acceptproxy_log(cfg, l, accept_date, src, "Success");
	if (close(rfd) < 0)
		log_debug("close: %s", strerror(errno));
	if (wfd != rfd && close(wfd) < 0)
		log_debug("close: %s", strerror(errno));
}
