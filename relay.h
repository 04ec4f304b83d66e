/*
 * relay.h - moving bytes between the client and the server with one
 * poll() loop: HTTP bodies framed so that a message never eats the next
 * one, response heads collected for parsing, and the tunnel after an
 * upgrade, with half-close passed on and per-side idle timeouts.
 */
#ifndef WSPROXY_RELAY_H
#define WSPROXY_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "framing.h"

/* One end of the connection: the client (fds 0/1 in inetd mode) or the
 * server. Activity on either fd restarts its idle timer. */
struct side {
	int rfd, wfd;
	int timeout_ms;          /* idle timeout; 0 = none */
	int fin_timeout_ms;      /* instead, once half-closed either way
	                          * (timeout client-fin/server-fin); 0: none */
	int64_t last_ms;         /* last successful read or write */
	int eof;                 /* read side finished (EOF or error) */
	int wr_shut;             /* we sent our FIN */
	int fin_seen;            /* its FIN is known (POLLRDHUP), not read */
	unsigned long long bytes_in, bytes_out;
};

enum flow_mode {
	FLOW_IDLE,               /* nothing to move: counts as done */
	FLOW_HEAD,               /* collect a head for the caller to parse */
	FLOW_BODY,               /* forward one framed body */
	FLOW_TUNNEL              /* forward everything, then pass the FIN */
};

/* One direction: bytes read from 'from' into buf, written to 'to'. */
struct flow {
	struct side *from, *to;
	struct buf *buf;
	enum flow_mode mode;
	struct http_framing fr;  /* FLOW_BODY */
	size_t ready;            /* bytes at the front of buf to write */
	const char *pre;         /* written before buf's bytes (a new head) */
	size_t pre_len;
	int done;
	int wr_blocked;          /* the last write was short: wait for POLLOUT */
	/* In FLOW_TUNNEL, bulk transfers bypass buf: splice() moves them
	 * through a pipe, and only while buf is empty, so order is kept.
	 * relay_run() closes the pipe before it returns. */
	int bulk;                /* a read filled buf: splice from now on */
	int has_pipe;            /* pipe_fd is open */
	int pipe_fd[2];
	size_t piped;            /* bytes in the pipe, not yet written */
	int64_t handover_at;     /* FLOW_TUNNEL: return RELAY_HANDOVER once
	                          * every flow is empty, from this time on
	                          * (ms; 0: never; tunnel-keeper) */
};

enum relay_status {
	RELAY_DONE,              /* the flow(s) waited for are done */
	RELAY_HEAD,              /* a complete head is in the HEAD flow's buf */
	RELAY_HEAD_TOO_BIG,
	RELAY_TIMEOUT,           /* culprit: the side that was idle too long */
	RELAY_EOF,               /* culprit closed before its message ended */
	RELAY_BAD_BODY,          /* culprit sent invalid chunked framing */
	RELAY_WRITE_ERROR,       /* culprit cannot be written to */
	RELAY_KILLED,            /* relay_shutdown: "shutdown sessions" */
	RELAY_HANDOVER           /* tunnel flows marked handover are all
	                          * empty, neither side half-closed: the
	                          * tunnel may move to a keeper (keeper.h) */
};

/*
 * Set by the signal "shutdown sessions server" sends (session.c): the
 * running relay_run() returns RELAY_KILLED (culprit: the client side),
 * and so does any later one.
 */
extern volatile sig_atomic_t relay_shutdown;

void flow_start(struct flow *f, enum flow_mode mode, enum http_body body,
    unsigned long long length);

/*
 * Runs the flows (nflows >= 1) until flows[wait_for] is done (wait_for
 * < 0: all of them), a head is complete, or something fails.
 *
 * The relay reads the clock once per poll round, as HAProxy's now_ms:
 * bytes read from one side and written to the other in a round stamp
 * both sides alike, so two sides idle since the same message time out
 * together, and the client's is reported first (cD, as 2.6 logs an
 * expired timeout tunnel) whatever millisecond the write fell in.
 * start_ms is the round the caller is in (its now_ms(), which it may
 * have stamped the sides with): what is written before the first poll,
 * a 101's head for one, is stamped with it.
 */
enum relay_status relay_run(struct flow **flows, int nflows, int wait_for,
    int64_t start_ms, struct side **culprit);

/* Writes all of data to fd (non-blocking) within timeout_ms (0: none). */
int relay_write_all(int fd, const char *data, size_t len, int timeout_ms);

/* Half-closes the side's write direction (closes it if it is a pipe). */
void side_shutdown(struct side *s);

#endif
