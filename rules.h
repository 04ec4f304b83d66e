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
#include "sticktable.h"

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
	ACT_REPLACE_PATH,       /* the path, without the query */
	ACT_REPLACE_PATHQ,      /* the path and the query */
	ACT_REPLACE_URI,        /* the whole URI */
	ACT_SET_PATH,
	ACT_SET_QUERY,
	ACT_SET_URI,
	ACT_SET_METHOD,
	ACT_SET_STATUS,         /* http-response */
	ACT_TRACK_SC,           /* track-scN KEY [table T] (track.h) */
	ACT_SC_INC_GPC,         /* sc-inc-gpc0(N), sc-inc-gpc1(N) */
	ACT_SC_SET_GPT0,        /* sc-set-gpt0(N) VALUE */
	ACT_USE_SERVICE         /* final: use-service prometheus-exporter */
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
	char *payload;                  /* string S, file F: verbatim */
	size_t payload_len;
	struct logfmt *body;            /* lf-string S, lf-file F */
	struct reply *file;             /* errorfile F: sent verbatim */
	int errorfiles;                 /* default-errorfiles: the proxy's
	                                   errorfile for status, or 2.6's page */
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
	regex_t *re;                    /* replace-header, -value, -path,
	                                   -pathq, -uri */
	int status;                     /* deny/tarpit/set-status */
	char *reason;                   /* set-status reason, or NULL */
	char *realm;                    /* auth; NULL: the proxy's name */
	struct redirect *redirect;
	struct rule_return *ret;        /* return, deny with a payload */
	/* track-sc, sc-inc-gpc*, sc-set-gpt0 (reference 13.2) */
	int sc;                         /* N */
	int gpc;                        /* sc-inc-gpcX: X */
	long long gpt;                  /* sc-set-gpt0's value */
	int key_src;                    /* track-sc src: the client address */
	struct logfmt *key;             /* any other key: "%[KEY]" */
	char *table_name;               /* track-sc "table T"; NULL: the
	                                   rule's own proxy's */
	struct stk_def *table;          /* track-sc: its table, set once the
	                                   whole file is read */
};

struct rule_list {
	struct rule *rules;
	int n;
};

void rule_list_free(struct rule_list *list);

#endif
