/*
 * ruleexec.h - running a proxy's http-request, redirect and http-response
 * rules (rules.h) on one message, in the child: header and request-line
 * rewrites in place, and the reply a final action sends.
 */
#ifndef WSPROXY_RULEEXEC_H
#define WSPROXY_RULEEXEC_H

#include "acl.h"
#include "config.h"
#include "http.h"
#include "logfmt.h"
#include "rules.h"

enum rule_verdict {
	VERDICT_CONTINUE,       /* no final action: the message goes on */
	VERDICT_REPLY,          /* answer with ctx->reply */
	VERDICT_TARPIT,         /* hold, then answer with ctx->reply */
	VERDICT_REJECT,         /* close, nothing sent */
	VERDICT_FAILED,         /* a rewrite failed: 500 (502 for a response) */
	VERDICT_STATS,          /* final_px's stats page (statspage.h) */
	VERDICT_SERVICE         /* use-service: the Prometheus exporter */
};

struct rule_ctx {
	struct http_msg *msg;           /* what the rules read and edit */
	int maxhdrs;                    /* room in msg->hdrs */
	int request_was_head;           /* responses: for re-parsing */
	struct http_out *arena;         /* room for rewritten values */
	struct http_out *out;           /* room for a built reply */
	struct lf_input lf;             /* lf.fe, lf.be: for errorfiles */
	struct acl_input acl;
	struct track_ctx *trk;          /* track-sc rules (track.h), or NULL */
	int edited;                     /* msg must be re-parsed */
	/* after a final verdict: */
	const struct rule *final;
	const struct proxy *final_px;   /* whose rule it was */
	const struct reply *reply;
	struct reply built;             /* a reply built in out */
};

/*
 * Runs list (px's) on ctx->msg until a final action. Header edits are
 * made in msg->hdrs, their bytes in the arena; a rewritten request line
 * is msg->line (method and uri follow it).
 */
enum rule_verdict ruleexec_run(struct rule_ctx *c, const struct rule_list *list,
    const struct proxy *px);

/*
 * Writes an edited message out in the arena and parses it again (so its
 * framing, Connection and Host facts are the new head's): 0, or -1 when
 * it no longer parses, outgrew the arena, or its body would be framed
 * differently from the bytes that follow it.
 */
int ruleexec_reparse(struct rule_ctx *c, int is_request);

/* The reply for status as the proxies' errorfiles or 2.6 give it. */
const struct reply *ruleexec_status_reply(const struct rule_ctx *c,
    int status);

#endif
