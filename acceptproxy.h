/*
 * acceptproxy.h - a listener's "accept-proxy": the PROXY header that
 * must come before anything else on its connections.
 */
#ifndef WSPROXY_ACCEPTPROXY_H
#define WSPROXY_ACCEPTPROXY_H

#include <sys/socket.h>
#include <sys/time.h>

#include "config.h"

/*
 * Reads the header on fd, accepted by l at accept_date, within the time
 * a request has (timeout http-request, else client). Returns 0 with
 * *src and *dst replaced by the header's addresses; or -1 with fd
 * closed (a reset) and the failure logged in HAProxy's words.
 */
int acceptproxy_read(const struct config *cfg, const struct listener *l,
    int fd, const struct timeval *accept_date,
    struct sockaddr_storage *src, struct sockaddr_storage *dst);

/*
 * HAProxy's error line for a connection of l that ends before it is a
 * session ("SRC:PORT [date] fe/BIND: msg"), when fe logs: a bad header,
 * or a "tcp-request session" reject after a good one ("Success").
 */
void acceptproxy_log(const struct config *cfg, const struct listener *l,
    const struct timeval *accept_date, const struct sockaddr_storage *src,
    const char *msg);

#endif
