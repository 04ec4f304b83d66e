/*
 * tcprules.h - running a proxy's "tcp-request" rules (reference 10.1,
 * 10.2): connection rules in the parent before any fork, session rules
 * in the child once the PROXY header is read, content rules per request
 * (http) or at the start of the tunnel (tcp). cfgtcprules.c parses them.
 */
#ifndef WSPROXY_TCPRULES_H
#define WSPROXY_TCPRULES_H

#include <sys/socket.h>

#include "acl.h"
#include "config.h"
#include "track.h"

/*
 * Every function here runs the track-sc, sc-inc-gpc and sc-set-gpt0
 * rules it meets into trk (NULL: none run; track.h).
 *
 * 1 if fe's "tcp-request connection" rules let the connection from src
 * to dst in (no rule matched, or the first that matched is "accept"),
 * 0 if they reject it.
 */
int tcprules_connection_ok(const struct proxy *fe,
    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
    struct track_ctx *trk);

/*
 * The parent's check of a connection fe's listener just accepted on fd:
 * 1 to serve it; 0 when a rule rejected it, fd then closed with a reset
 * and nothing logged, as 2.6 does. Costs no system call when fe has no
 * connection rule. What the rules tracked is in trk (emptied first); a
 * rejected connection's trackers have already ended.
 */
int tcprules_accept(const struct proxy *fe, int fd, struct track_ctx *trk);

/* The same for "tcp-request session" rules, with the addresses a PROXY
 * header gave. */
int tcprules_session_ok(const struct proxy *fe,
    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
    struct track_ctx *trk);

/*
 * Ends a connection a session rule rejected, as 2.6 does: a plain close
 * (FIN), and no log line, except on an accept-proxy listener l (NULL in
 * inetd mode), where the connection was still "embryonic" in 2.6 and is
 * logged as its error line "fe/BIND: Success" (not with dontlognull).
 */
void tcprules_session_end(const struct config *cfg, const struct listener *l,
    const struct timeval *accept_date, const struct sockaddr_storage *src,
    int rfd, int wfd);

/* The same for px's "tcp-request content" rules; in->req is NULL in tcp
 * mode, where the configuration allows only layer-4 fetches. dst: the
 * address the client reached (a track-sc key may fetch it). */
int tcprules_content_ok(const struct proxy *px, const struct acl_input *in,
    const struct sockaddr_storage *dst, struct track_ctx *trk);

/* Closes a rejected client connection with a reset (2.6 sends an RST);
 * wfd is closed too when it is another descriptor (inetd's pipes). */
void tcprules_reset(int rfd, int wfd);

#endif
