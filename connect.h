/*
 * connect.h - getting a request to a server: the balance algorithm's
 * choice, the backend's queue while every server is full, retries and
 * redispatch, the PROXY header a server may want; and giving the server
 * back once the exchange is over.
 */
#ifndef WSPROXY_CONNECT_H
#define WSPROXY_CONNECT_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* The connection is for this client. */
struct connect_client {
	int rfd;        /* its socket: a queued request whose client is gone
	                 * gives up its place */
	const struct sockaddr_storage *src, *dst;  /* balance source,
	                 * port modes, send-proxy */
};

/* What connecting went through, for the log line (0 ms: not reached). */
struct connect_trace {
	int64_t queue_start_ms, queue_end_ms;   /* waiting for a slot */
	int64_t connect_start_ms, connected_ms;
	const struct server *srv;   /* the last server tried; NULL: none */
	int retries;
	int redispatched;
	char term[2];               /* failed: %tsc's who and stage */
};

/*
 * Connects to a server of be: retries + 1 attempts, on a server chosen
 * by the backend's balance algorithm, after waiting in its queue if all
 * are full. Returns the connected socket, holding the server's slot and
 * the backend's connection count until connect_close(); or -1 with
 * tr->term set. tr is filled either way.
 */
int connect_backend(const struct proxy *be, const struct connect_client *c,
    struct connect_trace *tr);

/* Closes fd and gives back what connect_backend() took. */
void connect_close(int fd, const struct proxy *be, const struct server *srv);

#endif
