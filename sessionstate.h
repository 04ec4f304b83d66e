/*
 * sessionstate.h - one client connection's state, shared by the two
 * files that serve it: session.c (the connection's life, its requests,
 * its log record) and exchange.c (each request's exchange with a
 * server), and keeper.c, which takes a tunnel's session over. Nothing
 * else includes it; session.h is the interface.
 */
#ifndef WSPROXY_SESSIONSTATE_H
#define WSPROXY_SESSIONSTATE_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "buf.h"
#include "capture.h"
#include "config.h"
#include "connect.h"
#include "http.h"
#include "relay.h"
#include "track.h"

/* What the log line of one request (or of a tcp connection) needs. */
struct txn {
	struct timeval date;            /* first byte, or the accept */
	int64_t start_ms;
	int64_t head_ms;                /* 0: stage not reached */
	struct connect_trace conn;      /* queue, connect, server, retries */
	int64_t response_ms;
	int status;                     /* -1: nothing sent */
	unsigned long long bytes_before;
	unsigned long long bytes_in_before;     /* the client's, for tracking */
	char term[2];                   /* %tsc's first two characters */
	int resp_denied;                /* an http-response rule refused */
	int intercepted;                /* answered by the proxy itself */
	const struct proxy *be;
	char line[1024];                /* the request line, for the log */
	size_t line_len;                /* 0: <BADREQ> */
};

struct session {
	const struct config *cfg;
	const struct proxy *fe;
	struct sockaddr_storage src, dst;
	struct side client, server;
	struct buf cbuf, sbuf;
	/* What only HTTP needs, in one mapping (see session_init): */
	char *scratch;
	size_t scratch_len;
	struct http_hdr *req_hdrs, *resp_hdrs;
	struct http_out req_head, resp_head;
	struct http_out arena;          /* what rules rewrite (ruleexec.h) */
	const struct reply *refusal;    /* an http-response rule's reply */
	int64_t accept_ms;
	struct timeval accept_date;
	int nreq;
	struct txn txn;
	struct captured caps[2];        /* the frontend's, by capture_dir */
	struct track_ctx trk;           /* stick-table trackers (track.h) */
	/* the client's bytes already in the stats' counters (count.h) */
	unsigned long long counted_in, counted_out;
};

/* Facts about the current request that outlive its parsed head. */
struct request_info {
	int is_head;
	int is_http10;
	int wants_close;
	int upgrade;            /* Connection lists "upgrade" */
	int websocket;          /* ... and Upgrade lists "websocket" */
};

/* After a request: is the client's connection kept for another one? */
enum client_next { CLIENT_CLOSE, CLIENT_KEEP };

/* session.c: bytes of our own to the client (an error page, an interim
 * head); 0, or -1 when the client cannot take them. */
int session_write_client(struct session *s, const char *data, size_t len);

/* session.c: the error response for status (an errorfile or errorloc,
 * else the built-in page); whether the connection may go on. */
enum client_next session_send_error(struct session *s, int status,
    const struct request_info *ri, int keep);

/* session.c: the first two characters of the log line's %tsc. */
void session_txn_end(struct session *s, char who, char stage);

/* session.c: a reply of our own (an errorfile, a rule's); whether the
 * connection may go on (keep: the request is over). */
enum client_next session_send_reply(struct session *s, const struct reply *r,
    const struct request_info *ri, int keep);

/* session.c: the request's httplog line. */
void session_txn_log(struct session *s);

/* session.c, for a keeper (keeper.c): everything after the tunnel ended
 * (exchange_tunnel_over), as the child would have done it: the server's
 * and the client's sockets closed, the log lines, the session freed. */
void session_after_tunnel(struct session *s);

#endif
