/*
 * exchange.h - one request's exchange with its server (exchange.c).
 */
#ifndef WSPROXY_EXCHANGE_H
#define WSPROXY_EXCHANGE_H

#include "sessionstate.h"

/*
 * Forwards the parsed request (its head is head_len bytes of the
 * client buffer) to the connected server and relays what comes back,
 * a tunnel included; whether the client connection goes on.
 */
enum client_next exchange_forward(struct session *s, const struct proxy *be,
    struct http_msg *req, const struct request_info *ri, size_t head_len);

/* Both directions as an opaque tunnel with be's timeouts, until done. */
void exchange_tunnel(struct session *s, const struct proxy *be,
    struct flow *up, struct flow *down);

/* A keeper (keeper.c): the tunnel it relayed for s ended with st,
 * because of culprit; the termination state, as exchange_tunnel's. */
void exchange_tunnel_over(struct session *s, enum relay_status st,
    const struct side *culprit);

#endif
