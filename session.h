/*
 * session.h - the life of one client connection, in the child: read each
 * request, route it, forward it, relay the response or the tunnel.
 */
#ifndef WSPROXY_SESSION_H
#define WSPROXY_SESSION_H

#include <sys/socket.h>

#include "config.h"
#include "track.h"

/*
 * A connection's child, first thing: "shutdown sessions server" (its
 * SRV_SHUTDOWN_SIGNAL) ends its relay, logged with the termination state
 * 'K', and the child exits as after any closed connection.
 */
void session_catch_shutdown(void);

/*
 * Serves the connection (read on rfd, write on wfd: the same socket, or
 * two pipes in inetd mode) until it ends. src/dst are the client's and
 * the local address (AF_UNSPEC when unknown). l is the listener that
 * accepted it (NULL in inetd mode); with its accept-proxy, a PROXY header
 * must come first and its addresses replace src/dst. trk: what the
 * parent's "tcp-request connection" rules tracked (NULL: nothing).
 * With l, rfd comes from the accept loop: already non-blocking, with
 * TCP_NODELAY. The process exits when it returns: the session's page
 * mappings are left for exit to take down.
 */
void session_serve(const struct config *cfg, const struct proxy *fe,
    int rfd, int wfd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, const struct listener *l,
    const struct track_ctx *trk);

#endif
