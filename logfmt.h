/*
 * logfmt.h - HAProxy's log-format values as rules use them (reference
 * 10.9): literal text, "%%", "%[FETCH,CONV,...]" sample expressions and
 * the %ci %cp %fi %fp %bi %bp %si %sp %H variables. Parsed at load by
 * the configuration; expanded in the child for each request.
 */
#ifndef WSPROXY_LOGFMT_H
#define WSPROXY_LOGFMT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http.h"

struct proxy;
struct server;

/* What a value is expanded against; any member may be NULL (not known
 * at that point, e.g. no backend yet): its fetches give nothing. */
struct lf_input {
	const struct http_msg *req;
	const struct http_msg *resp;            /* response rules only */
	const struct sockaddr_storage *src;     /* the client */
	const struct sockaddr_storage *dst;     /* the address it reached */
	const struct proxy *fe, *be;
	const struct server *srv;
};

struct logfmt;

/*
 * Parses a value. Returns NULL with err set to 2.6's message (e.g.
 * "failed to parse sample expression <nosuch]> : unknown fetch method
 * 'nosuch'.") on error.
 */
struct logfmt *logfmt_parse(const char *text, char *err, size_t errlen);

/* Expands f into out (cap bytes, not NUL-terminated); returns the
 * length, or -1 when it does not fit in cap. */
ssize_t logfmt_expand(const struct logfmt *f, const struct lf_input *in,
    char *out, size_t cap);

/* The text when f has no %-expression (%% already folded), else NULL. */
const char *logfmt_literal(const struct logfmt *f);

void logfmt_free(struct logfmt *f);

#endif
