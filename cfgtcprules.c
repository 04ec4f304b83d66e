/*
 * cfgtcprules.c - "tcp-request connection|session|content ACTION [if|unless
 * COND]" and "tcp-request inspect-delay T" (reference 10.1, 10.2), with
 * 2.6's messages. "accept", "reject" and the stick-table actions
 * (track-sc0..2, sc-inc-gpc0/1, sc-set-gpt0: cfgstick.c) are
 * implemented: every other action (capture, set-var, silent-drop,
 * expect-proxy ...) changes what gets through or what is counted, so it
 * is an error, never ignored. tcprules.c runs what is parsed here.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"
#include "match.h"
#include "rules.h"

/* Where a rule runs: its list, and 2.6's names for the place. */
enum tcp_level { LVL_CONNECTION, LVL_SESSION, LVL_CONTENT };

static const char *const level_names[] = {
	"connection", "session", "content"
};

/* 2.6's sample_ckp_names() for the connection and session levels. */
static const char *const level_places[] = {
	"frontend tcp-request connection rule",
	"frontend tcp-request session rule",
	NULL                    /* content: every fetch we have is valid */
};

/*
 * Actions 2.6 knows for tcp-request that wsproxy does not implement:
 * each is refused by name rather than reported as unknown.
 */
static const char *const refused_actions[] = {
	"attach-srv", "capture", "close", "do-resolve", "expect-netscaler-cip",
	"expect-proxy", "sc-add-gpc", "sc-inc-gpc", "sc-set-gpt",
	"send-spoe-group",
	"set-bandwidth-limit", "set-dst", "set-dst-port", "set-log-level",
	"set-mark", "set-nice", "set-priority-class", "set-priority-offset",
	"set-src", "set-src-port", "set-tos", "set-var", "set-var-fmt",
	"silent-drop", "switch-mode", "unset-var", "use-service",
};

/* "set-var(sess.x)", "sc-inc-gpc(0,1)": the name is what precedes '('. */
static int
is_refused_action(const char *word)
{
	size_t len = strcspn(word, "(");

	if (strncmp(word, "lua.", 4) == 0)
		return 1;
	for (size_t i = 0; i < NELEM(refused_actions); i++)
		if (strlen(refused_actions[i]) == len &&
		    strncmp(word, refused_actions[i], len) == 0)
			return 1;
	return 0;
}

static struct rule_list *
level_list(struct proxy *px, enum tcp_level level)
{
	switch (level) {
	case LVL_CONNECTION:
		return &px->tcp_conn;
	case LVL_SESSION:
		return &px->tcp_session;
	case LVL_CONTENT:
		break;
	}
	return &px->tcp_content;
}

static const char *
proxy_label(const struct proxy *px)
{
	return px->name != NULL ? px->name : "";
}

/* ---- conditions that cannot be evaluated where the rule runs ---- */

/* What a connection or session rule can see: addresses, constants and
 * stick-table counters. */
static int
fetch_is_layer4(enum acl_fetch fetch)
{
	return fetch == FETCH_SRC || fetch == FETCH_DST_PORT ||
	    fetch == FETCH_BOOL_TRUE || fetch == FETCH_BOOL_FALSE ||
	    fetch == FETCH_STK;
}

/* The first expression of acl that needs content, or NULL; *all is
 * set when none of its expressions can match before content. */
static const struct acl_expr *
acl_content_expr(const struct acl *acl, int *all)
{
	const struct acl_expr *first = NULL;

	*all = 1;
	for (int e = 0; e < acl->nexprs; e++) {
		if (fetch_is_layer4(acl->exprs[e].fetch))
			*all = 0;
		else if (first == NULL)
			first = &acl->exprs[e];
	}
	return first;
}

/*
 * 2.6 accepts an ACL that needs content in a connection or session rule
 * and warns (acl_cond_conflicts, then acl_cond_kw_conflicts): it never
 * matches there, and neither does it here (match.c without a request).
 */
static void
warn_content_acls(struct parser *p, const struct acl_cond *cond,
    enum tcp_level level)
{
	const char *place = level_places[level];
	const struct acl *partial = NULL;
	const struct acl_expr *partial_expr = NULL;

	for (int g = 0; g < cond->ngroups; g++) {
		for (int t = 0; t < cond->groups[g].nterms; t++) {
			const struct acl *acl = cond->groups[g].terms[t].acl;
			int all;
			const struct acl_expr *e = acl_content_expr(acl, &all);
			if (e == NULL)
				continue;
			if (all && acl->name != NULL) {
				p_warn(p, "acl '%s' will never match in "
				    "'tcp-request %s' because it only involves "
				    "keywords that are incompatible with '%s'",
				    acl->name, level_names[level], place);
				return;
			}
			if (all) {
				p_warn(p, "anonymous acl will never match in "
				    "'tcp-request %s' because it uses keyword "
				    "'%s' which is incompatible with '%s'",
				    level_names[level], e->kw, place);
				return;
			}
			if (partial == NULL) {
				partial = acl;
				partial_expr = e;
			}
		}
	}
	if (partial == NULL)
		return;
	if (partial->name != NULL)
		p_warn(p, "acl '%s' involves keyword '%s' which is "
		    "incompatible with '%s'", partial->name, partial_expr->kw,
		    place);
	else
		p_warn(p, "anonymous acl involves keyword '%s' which is "
		    "incompatible with '%s'", partial_expr->kw, place);
}

/* ---- misplaced rules: 2.6 warns, the order stays reference 10.1's ---- */

static int
warn_after(struct parser *p, int count, const char *what)
{
	if (count == 0)
		return 0;
	p_warn(p, "a 'tcp-request' rule placed after %s rule will still be "
	    "processed before.", what);
	return 1;
}

/* 2.6's chain warnif_misplaced_tcp_conn -> _sess -> _cont: the first
 * kind of later rule already present is named. */
static void
warn_misplaced(struct parser *p, const struct proxy *px, enum tcp_level level)
{
	if (level == LVL_CONNECTION &&
	    warn_after(p, px->tcp_session.n, "a 'tcp-request session'"))
		return;
	if (level != LVL_CONTENT &&
	    warn_after(p, px->tcp_content.n, "a 'tcp-request content'"))
		return;
	if (warn_after(p, px->nmonitor_fail, "a 'monitor fail'") ||
	    warn_after(p, px->http_req.n, "an 'http-request'") ||
	    warn_after(p, px->redirects.n, "a 'redirect'"))
		return;
	(void)warn_after(p, px->nrules, "a 'use_backend'");
}

/* ---- one rule ---- */

/* track-sc0..2, sc-inc-gpc0/1, sc-set-gpt0 (cfgstick.c); a key at
 * connection or session level may only read the connection. */
static int
parse_stick_action(struct parser *p, struct rule *r, char **w, int n,
    enum tcp_level level)
{
	char err[512], where[64];
	int i;

	snprintf(where, sizeof(where), "tcp-request %s", w[1]);
	i = stick_action_parse(r, w, n, 2, level == LVL_CONTENT ? NULL :
	    where, err, sizeof(err));
	if (i < 0)
		p_err(p, "'tcp-request %s %s' : %s", w[1], w[2], err);
	return i;
}

/* The action at w[2] into r; returns the word after it, or -1. */
static int
parse_action(struct parser *p, const struct proxy *px, char **w, int n,
    enum tcp_level level, struct rule *r)
{
	if (n < 3) {
		p_err(p, "'tcp-request %s' expects 'accept', 'reject', "
		    "'capture', 'expect-proxy', 'expect-netscaler-cip', "
		    "'track-sc0' ... 'track-sc2' in %s '%s' (got '').", w[1],
		    px->kind, proxy_label(px));
		return -1;
	}
	if (strcmp(w[2], "accept") == 0 || strcmp(w[2], "reject") == 0) {
		r->action = w[2][0] == 'a' ? ACT_ACCEPT : ACT_REJECT;
		return 3;
	}
	if (stick_action_is(w[2]))
		return parse_stick_action(p, r, w, n, level);
	if (is_refused_action(w[2])) {
		char what[128];
		snprintf(what, sizeof(what), "'tcp-request %s %s'", w[1], w[2]);
		p_unsupported(p, KW_REFUSE, what);
		return -1;
	}
	p_err(p, "'tcp-request %s' expects 'accept', 'reject', 'capture', "
	    "'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... "
	    "'track-sc2' in %s '%s' (got '%s').", w[1], px->kind,
	    proxy_label(px), w[2]);
	return -1;
}

/* The words from w[i]: nothing, or "if|unless COND". */
static int
parse_condition(struct parser *p, struct proxy *px, char **w, int n, int i,
    struct acl_cond **cond)
{
	char err[512];

	*cond = NULL;
	if (n == i)
		return 0;
	if (strcmp(w[i], "if") != 0 && strcmp(w[i], "unless") != 0) {
		p_err(p, "'tcp-request %s %s' only accepts 'if' or 'unless', in "
		    "%s '%s' (got '%s')", w[1], w[2], px->kind, proxy_label(px),
		    w[i]);
		return -1;
	}
	*cond = acl_cond_parse(&px->acls, w + i, n - i, err, sizeof(err));
	if (*cond == NULL) {
		p_err(p, "'tcp-request %s %s' : error detected in %s '%s' while "
		    "parsing '%s' condition : %s", w[1], w[2], px->kind,
		    proxy_label(px), w[i], err);
		return -1;
	}
	return 0;
}

/*
 * Rules in a defaults section are inherited in 2.6 only from a named
 * one (2.5+); wsproxy does not carry rules over from defaults, so even
 * there the line is refused rather than silently dropped.
 */
static int
defaults_refuse(struct parser *p, const struct proxy *px, char **w)
{
	if (p->sec != SEC_DEFAULTS)
		return 0;
	if (px->name == NULL)
		p_err(p, "tcp-request %s is not allowed in anonymous 'defaults' "
		    "sections", w[1]);
	else
		p_err(p, "'tcp-request %s' rules in a 'defaults' section are "
		    "not implemented by wsproxy: write them in each frontend "
		    "or backend, or use HAProxy.", w[1]);
	return 1;
}

static int
parse_rule(struct parser *p, struct proxy *px, char **w, int n,
    enum tcp_level level)
{
	struct rule parsed, *r;
	struct acl_cond *cond;
	struct rule_list *list;
	int i;

	if (defaults_refuse(p, px, w))
		return -1;
	if (level != LVL_CONTENT && !(px->cap & CAP_FE)) {
		p_err(p, "tcp-request %s is not allowed because %s %s is not a "
		    "frontend", w[1], px->kind, proxy_label(px));
		return -1;
	}
	memset(&parsed, 0, sizeof(parsed));
	if ((i = parse_action(p, px, w, n, level, &parsed)) < 0 ||
	    parse_condition(p, px, w, n, i, &cond) < 0) {
		logfmt_free(parsed.key);
		free(parsed.table_name);
		return -1;
	}
	if (cond != NULL && level != LVL_CONTENT)
		warn_content_acls(p, cond, level);
	warn_misplaced(p, px, level);
	list = level_list(px, level);
	r = grow(&list->rules, &list->n, sizeof(*r));
	*r = parsed;
	r->cond = cond;
	r->line = p->line;
	return 0;
}

/* ---- inspect-delay ---- */

static int
parse_inspect_delay(struct parser *p, struct proxy *px, char **w, int n)
{
	int ms;

	if (n < 3 || !isdigit((unsigned char)w[2][0])) {
		if (n < 3)
			p_err(p, "'tcp-request inspect-delay' expects a positive "
			    "delay in milliseconds, in %s '%s'", px->kind,
			    proxy_label(px));
		else
			p_err(p, "'tcp-request inspect-delay' expects a positive "
			    "delay in milliseconds, in %s '%s' (unexpected "
			    "character '%c')", px->kind, proxy_label(px),
			    w[2][0]);
		return -1;
	}
	if (parse_time(p, "tcp-request inspect-delay", w[2], &ms) < 0)
		return -1;
	if (px->inspect_delay != 0) {
		p_warn(p, "ignoring tcp-request inspect-delay (was already "
		    "defined) in %s '%s'", px->kind, proxy_label(px));
		return 0;
	}
	px->inspect_delay = ms;
	return 0;
}

int
tcprules_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n < 2) {
		if (p->sec == SEC_DEFAULTS)
			p_err(p, "missing argument for 'tcp-request' in defaults "
			    "section");
		else
			p_err(p, "missing argument for 'tcp-request' in %s '%s'",
			    px->kind, proxy_label(px));
		return -1;
	}
	if (strcmp(w[1], "inspect-delay") == 0)
		return parse_inspect_delay(p, px, w, n);
	for (int level = LVL_CONNECTION; level <= LVL_CONTENT; level++)
		if (strcmp(w[1], level_names[level]) == 0)
			return parse_rule(p, px, w, n, (enum tcp_level)level);
	if (p->sec == SEC_DEFAULTS)
		p_err(p, "'tcp-request' expects 'inspect-delay', 'connection', or "
		    "'content' in defaults section (got '%s')", w[1]);
	else
		p_err(p, "'tcp-request' expects 'inspect-delay', 'connection', or "
		    "'content' in %s '%s' (got '%s')", px->kind, proxy_label(px),
		    w[1]);
	return -1;
}

/* ---- once the proxy is complete ---- */

/*
 * In tcp mode 2.6 waits up to inspect-delay and parses the bytes as
 * HTTP for a content rule's HTTP fetch. wsproxy inspects no content in
 * tcp mode: such a rule would never match, and a "reject" that never
 * matches lets through what it was written to stop. It is refused.
 */
void
tcprules_check(struct parser *p, const struct proxy *px)
{
	if (px->mode != MODE_TCP)
		return;
	for (int i = 0; i < px->tcp_content.n; i++) {
		const struct rule *r = &px->tcp_content.rules[i];
		if (r->cond != NULL && acl_cond_needs_http(r->cond))
			p_err_at(p, r->line, "tcp %s '%s': 'tcp-request content' "
			    "rules that inspect the request's content are not "
			    "implemented by wsproxy in tcp mode (only src and "
			    "dst_port): remove the rule, or use HAProxy.",
			    px->kind, px->name);
	}
}
