/*
 * redirect.h - "redirect" and "http-request redirect" (reference 10.5):
 * parsing the words of a rule, and building the response, exact bytes.
 */
#ifndef WSPROXY_REDIRECT_H
#define WSPROXY_REDIRECT_H

#include <stddef.h>

#include "http.h"
#include "logfmt.h"

struct reply;

enum redirect_type { REDIRECT_LOCATION, REDIRECT_PREFIX, REDIRECT_SCHEME };

struct redirect {
	enum redirect_type type;
	struct logfmt *target;  /* literal (logfmt_literal) in a plain
	                           "redirect", a value format in
	                           "http-request redirect" */
	int code;               /* 301, 302 (default), 303, 307, 308 */
	int drop_query, append_slash, ignore_empty;
	char *set_cookie;       /* NAME[=VALUE], or NULL */
	char *clear_cookie;     /* NAME, or NULL */
};

/*
 * Parses the words of a rule after "redirect" (or "http-request
 * redirect"), stopping at "if"/"unless", an empty word or the end;
 * *used is set to the words taken once they are read (so also when the
 * rule then lacks a type or its target does not parse: 2.6 reports a
 * bad condition before those). logformat: TARGET is a value format,
 * else literal text. Returns 0, or -1 with err set to 2.6's message.
 */
int redirect_parse(struct redirect *r, char **w, int n, int logformat,
    int *used, char *err, size_t errlen);

/*
 * Builds the response for req in buf (cap bytes) and describes it in
 * *out as a struct reply (config.h): the head without its empty line,
 * then "\r\n" and no body, with a content-length. Returns 0, 1 when the
 * rule is skipped (ignore-empty and an empty location), -1 when it does
 * not fit in cap.
 */
int redirect_build(const struct redirect *r, const struct lf_input *in,
    char *buf, size_t cap, struct reply *out);

void redirect_free(struct redirect *r);

#endif
