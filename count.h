/*
 * count.h - where the stats' counters (counters.h) are filled, with
 * HAProxy's meaning (management.txt 9.1, reference 14.3): the parent
 * counts accepted and refused connections, a child its session and each
 * of its transactions once it is over (what the log line says of it:
 * status, bytes, termination state), the balancer its picks. A few
 * relaxed atomic additions each: nothing waits.
 */
#ifndef WSPROXY_COUNT_H
#define WSPROXY_COUNT_H

#include "config.h"

/* The parent: a connection accepted on fe's listener; or refused by a
 * tcp-request connection rule. */
void count_conn(const struct proxy *fe);
void count_conn_denied(const struct proxy *fe);

/* A child: its session starts on fe (after tcp-request session), or a
 * tcp-request session rule refused it. */
void count_sess(const struct proxy *fe);
void count_sess_denied(const struct proxy *fe);

/* A request goes to be, and to srv once a server was picked (NULL:
 * none): their sessions. */
void count_backend(const struct proxy *be, const struct server *srv);

/* A request entered be's queue: its maximum. */
void count_queued(const struct proxy *be);

/* The balancer picked srv of be. */
void count_lb(const struct proxy *be, const struct server *srv);

/* One transaction over: what it was and how it ended. */
struct count_txn {
	const struct proxy *fe, *be;    /* be NULL: none reached */
	const struct server *srv;       /* the server tried, or NULL */
	int http;                       /* an HTTP request (not a tcp one) */
	int status;                     /* -1: nothing sent */
	int from_server;                /* the status is the server's */
	int connect_failed;             /* no server could be connected */
	int resp_denied;                /* an http-response rule refused */
	int intercepted;                /* answered by the proxy itself */
	char term[2];                   /* %tsc's first two characters */
	int retries, redispatched;
	unsigned long long bytes_in, bytes_out;  /* since the last count */
};
void count_txn_end(const struct count_txn *t);

/* Bytes moved with no transaction to count (a connection's end). */
void count_bytes(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, unsigned long long in,
    unsigned long long out);

#endif
