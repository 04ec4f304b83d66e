/*
 * statspage.h - a proxy's stats page (reference 14.1, 14.2), served by
 * the child that reads the request, from the scoreboard only: the HTML
 * page (statshtml.c), ";csv" (statcsv.h), the admin form's POST; and
 * the answer the Prometheus exporter (promex.c) sends the same way.
 */
#ifndef WSPROXY_STATSPAGE_H
#define WSPROXY_STATSPAGE_H

#include "config.h"
#include "http.h"
#include "sessionstate.h"

/* "/haproxy?stats" and "HAProxy Statistics": 2.6's defaults */
const char *stats_uri(const struct proxy *px);
const char *stats_realm(const struct proxy *px);

/*
 * 1 when req is for px's stats page: the page is on, the method is GET,
 * HEAD or POST, and the path and query (the whole target when the URI
 * does not start with '/') begin with its URI.
 */
int stats_uri_match(const struct proxy *px, const struct http_msg *req);

/* Serves req (matched on px), logs it; whether the connection goes on. */
enum client_next statspage_serve(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len);

/*
 * Sends a page of ours: status, the header lines hdrs ("name: value\r\n"
 * each; the Content-Length is added), body (not for a HEAD request);
 * logs the request as answered by px itself (LR--).
 */
enum client_next stats_answer(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len, int status, const char *hdrs, const char *body,
    size_t body_len);

#endif
