/*
 * connect.c - from a routed request to a connected server socket.
 *
 * A server is chosen by the backend's balance algorithm (lb.c), which
 * takes one of its connection slots in the scoreboard; when every usable
 * server is at its maxconn the request waits in the backend's queue. The
 * connect is retried "retries" times, on the same server or, with
 * "option redispatch", on another (HAProxy's rules). The slot is held
 * from the choice until connect_close(), and the scoreboard's record of
 * the child says so all along (scoreboard.c), so that it comes back even
 * if the child is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "buf.h"
#include "connect.h"
#include "count.h"
#include "lb.h"
#include "net.h"
#include "proxyproto.h"
#include "scoreboard.h"

/* Polling step while queued: how soon a freed slot is noticed. */
#define QUEUE_POLL_MS 10
/* The longest pause before retrying a server that refused. */
#define RETRY_PAUSE_MAX_MS 1000

/*
 * How an attempt ended. A refusal that connect() itself returns (always
 * so on a unix socket: a missing file, no listener, a full backlog) is
 * told apart from one that comes back later, as HAProxy tells them apart:
 * only the later kind makes the next attempt pause.
 */
enum attempt { ATTEMPT_CONNECTED, ATTEMPT_REFUSED, ATTEMPT_FAILED_NOW,
    ATTEMPT_TIMEOUT };

static void
trace_end(struct connect_trace *tr, char who, char stage)
{
	tr->term[0] = who;
	tr->term[1] = stage;
}

static void
server_addr(const struct connect_client *c, const struct server *srv,
    struct net_addr *addr)
{
	int client_port = net_port(c->dst);

	*addr = srv->addr;
	if (srv->port_mode == PORT_CLIENT)
		net_set_port(&addr->ss, client_port);
	else if (srv->port_mode == PORT_OFFSET)
		net_set_port(&addr->ss, client_port + srv->port_offset);
}

/* One connect attempt within timeout_ms (0: none); sets *fd_out. */
static enum attempt
connect_once(const struct net_addr *addr, int timeout_ms, int *fd_out)
{
	int in_progress;
	struct pollfd pfd;
	int fd = net_connect_nonblock(addr, &in_progress);

	if (fd < 0)
		return ATTEMPT_FAILED_NOW;
	if (in_progress) {
		pfd = (struct pollfd){ fd, POLLOUT, 0 };
		int rc;
		do
			rc = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			close(fd);
			return ATTEMPT_TIMEOUT;
		}
		/* Writable with no error flag is connected: no need to
		 * ask SO_ERROR (a system call less per request). */
		if (rc < 0 || (pfd.revents & (POLLERR | POLLHUP))) {
			close(fd);
			return ATTEMPT_REFUSED;
		}
	}
	if (addr->ss.ss_family != AF_UNIX)
		net_set_nodelay(fd);
	*fd_out = fd;
	return ATTEMPT_CONNECTED;
}

/*
 * The client's connection is dead (reset, or shut both ways) while its
 * request waited. A mere FIN is not enough: a client may half-close
 * after its request and still want the answer (HAProxy without
 * "option abortonclose" keeps such requests queued too).
 */
static int
client_gone(const struct connect_client *c)
{
	struct pollfd pfd = { c->rfd, 0, 0 };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

/*
 * Takes a server slot for the request: at once if a usable server has
 * one free, else waiting in the backend's queue until one frees up,
 * "timeout queue" (default: timeout connect) passes, or the client goes
 * away. Children cannot hand each other a slot, so the queue is a poll of
 * the scoreboard every QUEUE_POLL_MS, not a FIFO. Returns the server, or
 * NULL with the termination state set.
 */
static const struct server *
take_server(const struct proxy *be, const struct connect_client *c,
    const struct server *avoid, struct connect_trace *tr)
{
	int full, gone = 0;
	int timeout = be->to.queue ? be->to.queue : be->to.connect;
	const struct server *srv = lb_pick(be, c->src, avoid, &full);
	int64_t deadline = now_ms() + timeout;

	if (srv != NULL || !full) {
		if (srv == NULL)
			trace_end(tr, 'S', 'C');    /* no server is usable */
		return srv;
	}
	sb_enter_queue(be);
	count_queued(be);
	while (srv == NULL && full) {
		if ((gone = client_gone(c)) || (timeout > 0 &&
		    now_ms() >= deadline))
			break;
		(void)poll(NULL, 0, QUEUE_POLL_MS);
		srv = lb_pick(be, c->src, avoid, &full);
	}
	sb_leave_queue(be);
	tr->queue_end_ms = now_ms();
	if (srv == NULL && !full)       /* every server went away meanwhile */
		trace_end(tr, 'S', 'C');
	else if (srv == NULL)           /* the client left, or timeout queue */
		trace_end(tr, gone ? 'C' : 's', 'Q');
	return srv;
}

/*
 * HAProxy's redispatch rule: with "option redispatch" the last retry goes
 * to another server, and with a rotating algorithm over several servers
 * every retry does (so a dead server costs no pause at all).
 */
static int
redispatch_now(const struct proxy *be, int attempt)
{
	if (!(be->options & OPT_REDISPATCH) || attempt == 0)
		return 0;
	if ((be->balance == BALANCE_ROUNDROBIN ||
	    be->balance == BALANCE_STATIC_RR) && lb_usable(be) > 1)
		return 1;
	return attempt == be->retries;
}

/* Connected: the PROXY header first, if the server wants one. */
static int
server_greeting(const struct connect_client *c, const struct server *srv,
    int fd, int timeout_ms)
{
	if (srv->send_proxy == 0)
		return 0;
	return proxy_send(fd, srv->send_proxy, c->src, c->dst, timeout_ms);
}

/*
 * Before retrying the same server: after a refusal that came back from
 * the network wait min(timeout connect, 1s); after one connect() gave
 * at once, or a connect timeout, go again at once (HAProxy's
 * back_handle_st_cer() pauses after asynchronous errors only).
 */
static void
retry_pause(const struct proxy *be, enum attempt failed)
{
	int pause_ms = be->to.connect && be->to.connect < RETRY_PAUSE_MAX_MS ?
	    be->to.connect : RETRY_PAUSE_MAX_MS;

	if (failed == ATTEMPT_REFUSED)
		(void)poll(NULL, 0, pause_ms);
}

int
connect_backend(const struct proxy *be, const struct connect_client *c,
    struct connect_trace *tr)
{
	const struct server *srv;
	enum attempt rc = ATTEMPT_REFUSED;
	int fd = -1;

	tr->queue_start_ms = now_ms();
	if ((srv = take_server(be, c, NULL, tr)) == NULL)
		return -1;
	tr->connect_start_ms = now_ms();
	for (int attempt = 0; attempt <= be->retries; attempt++) {
		struct net_addr addr;

		if (redispatch_now(be, attempt)) {
			sb_release_server(srv);
			tr->redispatched = 1;
			if ((srv = take_server(be, c, srv, tr)) == NULL) {
				tr->srv = NULL;
				return -1;
			}
		}
		tr->srv = srv;
		tr->retries = attempt;
		server_addr(c, srv, &addr);
		rc = connect_once(&addr, be->to.connect, &fd);
		if (rc == ATTEMPT_CONNECTED &&
		    server_greeting(c, srv, fd, be->to.connect) < 0) {
			close(fd);
			rc = ATTEMPT_REFUSED;
		}
		if (rc == ATTEMPT_CONNECTED) {
			tr->connected_ms = now_ms();
			sb_hold_backend(be);
			return fd;
		}
		if (attempt < be->retries && !redispatch_now(be, attempt + 1))
			retry_pause(be, rc);
	}
	sb_release_server(srv);
	/* SC--: refused; sC--: the connect timed out */
	trace_end(tr, rc == ATTEMPT_TIMEOUT ? 's' : 'S', 'C');
	return -1;
}

void
connect_close(int fd, const struct proxy *be, const struct server *srv)
{
	close(fd);
	sb_release_backend(be);
	sb_release_server(srv);
}
