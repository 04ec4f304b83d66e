/*
 * proxyproto.h - the PROXY protocol (HAProxy's proxy-protocol.txt),
 * versions 1 (a text line) and 2 (binary, 12-byte signature): read from
 * a client on an "accept-proxy" bind, sent to a server with "send-proxy"
 * or "send-proxy-v2" and by health checks.
 */
#ifndef WSPROXY_PROXYPROTO_H
#define WSPROXY_PROXYPROTO_H

#include <sys/socket.h>

/*
 * Sends a PROXY header (version 1 or 2) saying the connection came from
 * src to dst, on fd, waiting at most timeout_ms (0: no limit) for it to
 * be written. With src == NULL: a health check's header (v1: the fd's own
 * addresses, v2: a LOCAL command). Families other than IPv4/IPv6 are sent
 * as UNKNOWN (v1) or UNSPEC (v2). Returns 0, or -1 (errno set).
 */
int proxy_send(int fd, int version, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, int timeout_ms);

#endif
