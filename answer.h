/*
 * answer.h - carrying out what a request's rules decide (answer.c): the
 * context they run in, and our reply when a final action ends them.
 */
#ifndef WSPROXY_ANSWER_H
#define WSPROXY_ANSWER_H

#include "ruleexec.h"
#include "sessionstate.h"

/* The context rules run in for msg (the request, or a response). */
void answer_ctx_init(struct session *s, struct rule_ctx *c,
    struct http_msg *msg, int is_response);

/* px's http-request rules, then its redirect rules (reference 10.1). */
enum rule_verdict answer_run_request(struct rule_ctx *c,
    const struct proxy *px);

/* Sends what verdict v (not VERDICT_CONTINUE) says, logs it, and says
 * whether the connection serves another request. */
enum client_next answer_request(struct session *s, struct rule_ctx *c,
    enum rule_verdict v, const struct http_msg *req,
    const struct request_info *ri, size_t head_len);

#endif
