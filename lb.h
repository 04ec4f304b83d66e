/*
 * lb.h - choosing a backend's server: balance roundrobin, static-rr,
 * leastconn, first and source over the servers that are usable (not
 * disabled, weight > 0, UP in the scoreboard; backups only when no
 * active server is), skipping servers at their maxconn.
 */
#ifndef WSPROXY_LB_H
#define WSPROXY_LB_H

#include <sys/socket.h>

#include "config.h"

/*
 * Picks a server for a request from src and takes one of its connection
 * slots in the scoreboard (give it back with sb_release_server(srv)).
 * avoid, if not NULL, is skipped when another server is usable (a
 * redispatch). Returns NULL with *full = 1 when usable servers exist but
 * all are at their maxconn (the caller may queue), NULL with *full = 0
 * when no server is usable at all.
 */
const struct server *lb_pick(const struct proxy *be,
    const struct sockaddr_storage *src, const struct server *avoid,
    int *full);

/* Servers usable now (UP, not disabled, weight > 0), backups included. */
int lb_usable(const struct proxy *be);

#endif
