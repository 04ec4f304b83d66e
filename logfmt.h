/*
 * logfmt.h - HAProxy's log-format values as rules use them (reference
 * 10.9): literal text, "%%", "%[FETCH,CONV,...]" sample expressions and
 * the %ci %cp %fi %fp %bi %bp %si %sp %H %f %ft %b %s variables, with
 * the +Q and +X flags. Parsed at load by the configuration; expanded in
 * the child for each request.
 */
#ifndef WSPROXY_LOGFMT_H
#define WSPROXY_LOGFMT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http.h"
#include "track.h"

struct proxy;
struct server;

/* What a value is expanded against; any member may be NULL (not known
 * at that point, e.g. no backend yet): its fetches give nothing. */
struct lf_input {
	const struct http_msg *req;
	const struct http_msg *resp;            /* response rules only */
	const struct sockaddr_storage *src;     /* the client */
	const struct sockaddr_storage *dst;     /* the address it reached */
	const struct sockaddr_storage *srv_src; /* our side to the server */
	const struct sockaddr_storage *srv_dst; /* the server's address */
	const struct proxy *fe, *be;
	const struct server *srv;
	const struct track_ctx *trk;            /* sc* fetches (track.h) */
};

/* Where a value is used, for logfmt_parse_in(): 2.6 refuses at load a
 * fetch whose data is not there (a response header in a request rule). */
#define LF_CTX_REQ  0x1         /* request rules, use_backend */
#define LF_CTX_RESP 0x2         /* response rules */
#define LF_HTTP     0x4         /* an HTTP proxy: HTTP fetches allowed */

struct logfmt;

/*
 * Parses a value. Returns NULL with err set to 2.6's message (e.g.
 * "failed to parse sample expression <nosuch]> : unknown fetch method
 * 'nosuch'.") on error.
 */
struct logfmt *logfmt_parse_in(const char *text, int flags, char *err,
    size_t errlen);

/* logfmt_parse_in(text, LF_CTX_REQ | LF_HTTP, ...). */
struct logfmt *logfmt_parse(const char *text, char *err, size_t errlen);

/* A value that is len bytes of literal text (no % interpreted); NULL
 * when out of memory. */
struct logfmt *logfmt_new_literal(const char *text, size_t len);

/*
 * Expands f into out (cap bytes, never more, not NUL-terminated);
 * returns the length, or -1 when it does not fit in cap (out then holds
 * the expansion's first cap bytes). Control bytes
 * from fetched values (CR and LF among them) are written as "%XX", as
 * 2.6 encodes them in header values: an expansion never holds CR or LF
 * unless the format's own text does, and a format's text comes from one
 * configuration line, which cannot. A caller that still wants a check
 * refuses a value with CR or LF.
 */
ssize_t logfmt_expand(const struct logfmt *f, const struct lf_input *in,
    char *out, size_t cap);

/* What the first fetch of f that needs more than the connection reads,
 * in 2.6's words ("HTTP request headers"); NULL when every fetch of f
 * reads only the connection (addresses, stick-table counters). */
const char *logfmt_needs_http(const struct logfmt *f);

/* The text when f has no %-expression (%% already folded), else NULL. */
const char *logfmt_literal(const struct logfmt *f);

void logfmt_free(struct logfmt *f);

/* 0 if logfmt.c's keyword tables are sorted (kwtable.h), else -1. */
int logfmt_tables_check(char *err, size_t errlen);

#endif
