/*
 * forwardfor.h - "option forwardfor" (HAProxy §2.6): whether a request
 * gains a header naming the client's address, and which header.
 */
#ifndef WSPROXY_FORWARDFOR_H
#define WSPROXY_FORWARDFOR_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "http.h"

/*
 * For req from src, routed from fe to be: sets opts->xff_name and
 * opts->xff_value (the address, written into ip, iplen bytes) when
 * either proxy's option forwardfor applies; leaves opts as it is
 * otherwise.
 */
void forwardfor_header(const struct proxy *fe, const struct proxy *be,
    const struct http_msg *req, const struct sockaddr_storage *src,
    struct http_fwd_opts *opts, char *ip, size_t iplen);

#endif
