/*
 * rules.h - a proxy's tcp-request, http-request, http-response and
 * redirect rules (reference 10): what cfgrules.c parses and ruleexec.c
 * runs, in the order of reference 10.1.
 */
#ifndef WSPROXY_RULES_H
#define WSPROXY_RULES_H

#include <regex.h>
#include <stddef.h>

#include "acl.h"
#include "logfmt.h"
#include "redirect.h"

enum rule_action {
	ACT_ACCEPT,             /* tcp-request accept */
	ACT_REJECT,             /* close, nothing sent */
	ACT_ALLOW,              /* ends this proxy's http-request list */
	ACT_DENY,               /* final: status (403; 502 in responses) */
	ACT_TARPIT,             /* final: hold, then status (500) */
	ACT_AUTH,               /* final: 401 */
	ACT_REDIRECT,           /* final */
	ACT_RETURN,             /* final */
	ACT_SET_HEADER,
	ACT_ADD_HEADER,
	ACT_DEL_HEADER,
	ACT_REPLACE_HEADER,
	ACT_REPLACE_VALUE,
	ACT_SET_PATH,
	ACT_SET_QUERY,
	ACT_SET_URI,
	ACT_SET_METHOD,
	ACT_SET_STATUS          /* http-response */
};

/* A reply built like "http-request return" (reference 10.4), also used
 * by "deny status N ..." with a payload. */
struct rule_hdr {
	char *name;
	struct logfmt *value;
};

struct rule_return {
	int status;
	char *content_type;             /* NULL: none */
	struct logfmt *body;            /* string/lf-string/file; NULL: none */
	const struct reply *file;       /* errorfile F: sent verbatim */
	struct reply *owned;            /* ... read here (freed with it) */
	struct rule_hdr *hdrs;
	int nhdrs;
};

struct rule {
	enum rule_action action;
	struct acl_cond *cond;          /* NULL: always */
	int line;
	char *name;                     /* header name */
	size_t name_len;
	enum acl_match name_match;      /* del-header -m (MATCH_STR default) */
	regex_t *name_re;               /* del-header -m reg */
	struct logfmt *value;           /* header value, path, query, uri,
	                                   method; replace-*: the replacement */
	regex_t *re;                    /* replace-header, replace-value */
	int status;                     /* deny/tarpit/set-status */
	char *reason;                   /* set-status reason, or NULL */
	char *realm;                    /* auth; NULL: the proxy's name */
	struct redirect *redirect;
	struct rule_return *ret;        /* return, deny with a payload */
	const struct userlist *userlist; /* unused; auth reads the ACL */
};

struct rule_list {
	struct rule *rules;
	int n;
};

void rule_list_free(struct rule_list *list);

#endif
