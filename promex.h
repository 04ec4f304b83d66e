/*
 * promex.h - "http-request use-service prometheus-exporter" (reference
 * 14.4): the metrics of the process, the frontends, the backends, the
 * servers and the stick tables in Prometheus' text format 0.0.4, with
 * HAProxy 2.6's metric names, types, help texts and labels. Built from
 * the scoreboard only, in the child serving the request.
 */
#ifndef WSPROXY_PROMEX_H
#define WSPROXY_PROMEX_H

#include "config.h"
#include "http.h"
#include "sessionstate.h"
#include "strbuf.h"

/* The exposition of cfg's metrics, appended to out. */
void promex_write(const struct config *cfg, struct strbuf *out);

/* Answers req with it (px: the proxy whose rule asked), logs it. */
enum client_next promex_serve(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len);

#endif
