/*
 * cfgrules.c - "http-request" and "http-response" lines (reference
 * 10.1, 10.3, 10.4, 10.8), their checks once the file is read, and
 * freeing any proxy's rule lists. ruleexec.c runs what is parsed here.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aclregex.h"
#include "cfgparse.h"
#include "http.h"
#include "kwtable.h"
#include "rules.h"

/* One line being parsed: for the messages and the context of values. */
struct rparse {
	struct parser *p;
	struct proxy *px;
	const char *kw;         /* "http-request" or "http-response" */
	const char *act;        /* the action's name */
	int resp;
};

static void
rp_err(const struct rparse *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 2.6's frame for a rule's errors. */
static void
rp_err(const struct rparse *rp, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_err(rp->p, "error detected in %s '%s' while parsing '%s %s' rule : "
	    "%s", rp->px->kind, rp->px->name, rp->kw, rp->act, msg);
}

static int
is_cond_word(const char *w)
{
	return strcmp(w, "if") == 0 || strcmp(w, "unless") == 0;
}

/* A value format, in the context of the line's keyword. */
static struct logfmt *
value_parse(const struct rparse *rp, const char *text)
{
	char err[512];
	/* HTTP fetches are allowed: rules in a tcp proxy are refused
	 * (rules_check_proxy) */
	struct logfmt *f = logfmt_parse_in(text, (rp->resp ? LF_CTX_RESP :
	    LF_CTX_REQ) | LF_HTTP, err, sizeof(err));

	if (f == NULL)
		rp_err(rp, "%s", err);
	return f;
}

/* Header names are written in lower case, as 2.6 writes every name. */
static char *
header_name(const struct rparse *rp, const char *name)
{
	char *lower;

	if (name[0] == '\0' || strpbrk(name, " \t:\r\n") != NULL) {
		rp_err(rp, "invalid header name '%s'.", name);
		return NULL;
	}
	if (strcasecmp(name, "content-length") == 0 ||
	    strcasecmp(name, "transfer-encoding") == 0) {
		/* The body that follows is framed by these: a rewritten
		 * one would desynchronise us and the server. */
		rp_err(rp, "rewriting '%s' would change how the message is "
		    "framed; wsproxy refuses it.", name);
		return NULL;
	}
	lower = xstrdup(name);
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return lower;
}

static int
expect_args(const struct rparse *rp, int n, int i, int count,
    const char *what)
{
	if (i + count <= n)
		return 0;
	rp_err(rp, "expects exactly %d argument%s%s.", count,
	    count > 1 ? "s" : "", what);
	return -1;
}

/* ---- the actions' arguments ---- */

static int
status_in_range(const struct rparse *rp, const char *word, int lo, int hi,
    int *status)
{
	char *end;
	long v = strtol(word, &end, 10);

	if (*word == '\0' || *end != '\0' || v < lo || v > hi) {
		if (lo == 100)
			rp_err(rp, "expects an integer status code between "
			    "100 and 999.");
		else
			rp_err(rp, "Unexpected status code '%s'.", word);
		return -1;
	}
	*status = (int)v;
	return 0;
}

static int
status_has_page(const struct rparse *rp, int status)
{
	if (http_error_known(status))
		return 0;
	rp_err(rp, "status code '%d' not handled by default with "
	    "'default-errorfiles' argument..", status);
	return -1;
}

static int
parse_hdr_arg(const struct rparse *rp, struct rule_return *ret, char **w,
    int n, int i)
{
	struct rule_hdr *h;
	char *name;

	if (i + 2 >= n) {
		rp_err(rp, "'hdr' expects <name> and <value> as arguments.");
		return -1;
	}
	if ((name = header_name(rp, w[i + 1])) == NULL)
		return -1;
	h = grow(&ret->hdrs, &ret->nhdrs, sizeof(*h));
	h->name = name;
	if ((h->value = value_parse(rp, w[i + 2])) == NULL)
		return -1;
	return i + 3;
}

enum payload_kind { PAYLOAD_NONE, PAYLOAD_BYTES, PAYLOAD_FORMAT,
	PAYLOAD_ERRORFILE };

struct reply_args {
	struct rule_return *ret;
	enum payload_kind payload;
	int has_status, has_ctype, nhdrs;
	int deny;               /* deny/tarpit: deny_status too */
};

static int
parse_payload(const struct rparse *rp, struct reply_args *a, char **w,
    int n, int i)
{
	struct rule_return *ret = a->ret;
	const char *opt = w[i];
	char *text;
	size_t len;

	if (a->payload != PAYLOAD_NONE) {
		rp_err(rp, "payload already defined before '%s'.", opt);
		return -1;
	}
	if (strcmp(opt, "default-errorfiles") == 0) {
		ret->errorfiles = 1;
		a->payload = PAYLOAD_ERRORFILE;
		return i + 1;
	}
	if (i + 1 >= n) {
		rp_err(rp, "'%s' expects <%s> as argument.", opt,
		    strstr(opt, "string") ? "string" : "file");
		return -1;
	}
	if (strcmp(opt, "errorfile") == 0) {
		ret->file = xcalloc(1, sizeof(*ret->file));
		if (reply_load_file(rp->p, opt, w[i + 1], ret->file) < 0)
			return -1;
		a->payload = PAYLOAD_ERRORFILE;
		return i + 2;
	}
	if (strcmp(opt, "string") == 0 || strcmp(opt, "lf-string") == 0) {
		text = xstrdup(w[i + 1]);
		len = strlen(text);
	} else if ((text = reply_read_payload(rp->p, opt, w[i + 1],
	    &len)) == NULL) {
		return -1;
	}
	if (strncmp(opt, "lf-", 3) == 0) {
		if (memchr(text, '\0', len) != NULL) {
			rp_err(rp, "'%s' holds a NUL byte.", w[i + 1]);
			free(text);
			return -1;
		}
		ret->body = value_parse(rp, text);
		free(text);
		if (ret->body == NULL)
			return -1;
		a->payload = PAYLOAD_FORMAT;
	} else {
		ret->payload = text;
		ret->payload_len = len;
		a->payload = len > 0 ? PAYLOAD_BYTES : PAYLOAD_NONE;
	}
	/* an empty string is no payload, but one may not follow */
	if (a->payload == PAYLOAD_NONE)
		a->payload = PAYLOAD_BYTES;
	return i + 2;
}

static int
parse_reply_word(const struct rparse *rp, struct reply_args *a, char **w,
    int n, int i)
{
	struct rule_return *ret = a->ret;
	const char *opt = w[i];

	if (strcmp(opt, "status") == 0 || (a->deny &&
	    strcmp(opt, "deny_status") == 0)) {
		if (i + 1 >= n) {
			rp_err(rp, "'%s' expects <status_code> as argument.",
			    opt);
			return -1;
		}
		if (status_in_range(rp, w[i + 1], 200, 599, &ret->status) < 0)
			return -1;
		a->has_status = 1;
		return i + 2;
	}
	if (strcmp(opt, "content-type") == 0) {
		if (i + 1 >= n) {
			rp_err(rp, "'%s' expects <type> as argument.", opt);
			return -1;
		}
		if (strpbrk(w[i + 1], "\r\n") != NULL) {
			rp_err(rp, "invalid content-type '%s'.", w[i + 1]);
			return -1;
		}
		free(ret->content_type);
		ret->content_type = xstrdup(w[i + 1]);
		a->has_ctype = 1;
		return i + 2;
	}
	if (strcmp(opt, "hdr") == 0) {
		a->nhdrs++;
		return parse_hdr_arg(rp, ret, w, n, i);
	}
	if (strcmp(opt, "string") == 0 || strcmp(opt, "lf-string") == 0 ||
	    strcmp(opt, "file") == 0 || strcmp(opt, "lf-file") == 0 ||
	    strcmp(opt, "errorfile") == 0 ||
	    strcmp(opt, "default-errorfiles") == 0)
		return parse_payload(rp, a, w, n, i);
	if (strcmp(opt, "errorfiles") == 0) {
		rp_err(rp, "'errorfiles' needs 'http-errors' sections, which "
		    "wsproxy does not support.");
		return -1;
	}
	rp_err(rp, "expects either 'if' or 'unless' followed by a condition "
	    "but found '%s'.", opt);
	return -1;
}

/* What a reply's options say together (reference 10.4). */
static int
reply_args_check(const struct rparse *rp, struct reply_args *a)
{
	struct rule_return *ret = a->ret;

	if ((a->payload == PAYLOAD_FORMAT || (a->payload == PAYLOAD_BYTES &&
	    ret->payload_len > 0)) && !a->has_ctype) {
		rp_err(rp, "a content type must be defined when non-empty "
		    "payload is configured.");
		return -1;
	}
	if (a->payload == PAYLOAD_ERRORFILE && (a->has_ctype || a->nhdrs)) {
		p_warn(rp->p, "'%s %s' : content-type and hdr are ignored "
		    "with an errorfile.", rp->kw, rp->act);
	}
	if (ret->errorfiles && status_has_page(rp, ret->status) < 0)
		return -1;
	return 0;
}

/*
 * deny, tarpit and return. A deny or tarpit with nothing but a status
 * sends the proxy's errorfile or 2.6's page for it: rule->status alone.
 * Anything more builds a reply as "return" does: rule->ret.
 */
static int
parse_reply(const struct rparse *rp, struct rule *r, char **w, int n, int i,
    int def_status)
{
	struct rule_return *ret = xcalloc(1, sizeof(*ret));
	struct reply_args a = { ret, PAYLOAD_NONE, 0, 0, 0,
	    r->action != ACT_RETURN };

	r->ret = ret;
	ret->status = def_status;
	while (i < n && !is_cond_word(w[i]))
		if ((i = parse_reply_word(rp, &a, w, n, i)) < 0)
			return -1;
	if (reply_args_check(rp, &a) < 0)
		return -1;
	r->status = ret->status;
	if (a.deny && a.payload == PAYLOAD_NONE && !a.has_ctype &&
	    a.nhdrs == 0) {
		/* a plain deny: the proxy's errorfile or the page */
		if (status_has_page(rp, r->status) < 0)
			return -1;
		free(ret);
		r->ret = NULL;
	}
	return i;
}

static int
act_none(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	(void)rp; (void)r; (void)w; (void)n;
	return i;
}

static int
act_deny(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	return parse_reply(rp, r, w, n, i, rp->resp ? 502 : 403);
}

static int
act_tarpit(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	return parse_reply(rp, r, w, n, i, 500);
}

static int
act_return(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	return parse_reply(rp, r, w, n, i, 200);
}

static int
act_auth(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	if (i < n && strcmp(w[i], "realm") == 0) {
		if (i + 1 >= n) {
			rp_err(rp, "missing realm value.");
			return -1;
		}
		if (strpbrk(w[i + 1], "\"\r\n") != NULL) {
			rp_err(rp, "invalid realm '%s'.", w[i + 1]);
			return -1;
		}
		r->realm = xstrdup(w[i + 1]);
		return i + 2;
	}
	r->realm = xstrdup(rp->px->name);
	return i;
}

/* use-service NAME: the one service wsproxy has is the exporter. */
static int
act_use_service(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	(void)r;
	if (i >= n || strcmp(w[i], "prometheus-exporter") != 0) {
		rp_err(rp, "unknown service '%s' (wsproxy has only "
		    "'prometheus-exporter').", i < n ? w[i] : "");
		return -1;
	}
	return i + 1;
}

static int
act_redirect(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	char err[512];
	int used = 0;

	r->redirect = xcalloc(1, sizeof(*r->redirect));
	if (redirect_parse(r->redirect, w + i, n - i, 1, &used, err,
	    sizeof(err)) < 0) {
		rp_err(rp, "%s", err);
		return -1;
	}
	return i + used;
}

/* set-header, add-header NAME FMT */
static int
act_header_value(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	if (expect_args(rp, n, i, 2, "") < 0 ||
	    (r->name = header_name(rp, w[i])) == NULL)
		return -1;
	r->name_len = strlen(r->name);
	if ((r->value = value_parse(rp, w[i + 1])) == NULL)
		return -1;
	return i + 2;
}

static const struct {
	const char *name;
	enum acl_match match;
} del_methods[] = {
	{ "beg", MATCH_BEG }, { "end", MATCH_END }, { "reg", MATCH_REG },
	{ "str", MATCH_STR }, { "sub", MATCH_SUB },
};

/* del-header NAME [-m str|beg|end|sub|reg] */
static int
act_del_header(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	char err[512];
	size_t k;

	if (expect_args(rp, n, i, 1, "") < 0 ||
	    (r->name = header_name(rp, w[i])) == NULL)
		return -1;
	r->name_len = strlen(r->name);
	r->name_match = MATCH_STR;
	if (i + 1 >= n || strcmp(w[i + 1], "-m") != 0)
		return i + 1;
	for (k = 0; i + 2 < n && k < NELEM(del_methods); k++)
		if (strcmp(w[i + 2], del_methods[k].name) == 0)
			break;
	if (i + 2 >= n || k == NELEM(del_methods)) {
		rp_err(rp, "-m : expects 'str', 'beg', 'end', 'sub' or 'reg' "
		    "but got '%s'.", i + 2 < n ? w[i + 2] : "");
		return -1;
	}
	r->name_match = del_methods[k].match;
	if (r->name_match == MATCH_REG) {
		r->name_re = xcalloc(1, sizeof(*r->name_re));
		/* header names match whatever their case */
		if (aclregex_compile(r->name_re, w[i], 1, err,
		    sizeof(err)) < 0) {
			free(r->name_re);
			r->name_re = NULL;
			rp_err(rp, "%s", err);
			return -1;
		}
	}
	return i + 3;
}

/* The replace-* actions' REGEX FMT: r->re (with groups) and r->value. */
static int
regex_and_format(const struct rparse *rp, struct rule *r, const char *regex,
    const char *format)
{
	char err[512];

	r->re = xcalloc(1, sizeof(*r->re));
	if (aclregex_compile_groups(r->re, regex, 0, err, sizeof(err)) < 0) {
		free(r->re);
		r->re = NULL;
		rp_err(rp, "%s", err);
		return -1;
	}
	if ((r->value = value_parse(rp, format)) == NULL)
		return -1;
	return 0;
}

/* replace-header, replace-value NAME REGEX FMT */
static int
act_replace(const struct rparse *rp, struct rule *r, char **w, int n, int i)
{
	if (expect_args(rp, n, i, 3, "") < 0 ||
	    (r->name = header_name(rp, w[i])) == NULL)
		return -1;
	r->name_len = strlen(r->name);
	if (regex_and_format(rp, r, w[i + 1], w[i + 2]) < 0)
		return -1;
	return i + 3;
}

/* replace-path, replace-pathq, replace-uri REGEX FMT */
static int
act_replace_line(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	if (expect_args(rp, n, i, 2, " <match-regex> and <replace-format>") <
	    0 || regex_and_format(rp, r, w[i], w[i + 1]) < 0)
		return -1;
	return i + 2;
}

/* set-path, set-query, set-uri, set-method FMT */
static int
act_line_part(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	if (expect_args(rp, n, i, 1, " <format>") < 0 ||
	    (r->value = value_parse(rp, w[i])) == NULL)
		return -1;
	return i + 1;
}

/* set-status CODE [reason STR] */
static int
act_set_status(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	if (expect_args(rp, n, i, 1, "") < 0 ||
	    status_in_range(rp, w[i], 100, 999, &r->status) < 0)
		return -1;
	i++;
	if (i < n && strcmp(w[i], "reason") == 0) {
		if (i + 1 >= n || strpbrk(w[i + 1], "\r\n") != NULL) {
			rp_err(rp, "expects a reason string after 'reason'.");
			return -1;
		}
		r->reason = xstrdup(w[i + 1]);
		i += 2;
	}
	return i;
}

#define RQ 0x1          /* http-request */
#define RS 0x2          /* http-response */

struct action_kw {
	const char *name;
	enum rule_action action;
	int where;
	int (*parse)(const struct rparse *, struct rule *, char **, int, int);
};

/* Sorted (kwtable.h). */
static const struct action_kw action_kws[] = {
	{ "add-header",     ACT_ADD_HEADER,     RQ | RS, act_header_value },
	{ "allow",          ACT_ALLOW,          RQ | RS, act_none },
	{ "auth",           ACT_AUTH,           RQ,      act_auth },
	{ "del-header",     ACT_DEL_HEADER,     RQ | RS, act_del_header },
	{ "deny",           ACT_DENY,           RQ | RS, act_deny },
	{ "redirect",       ACT_REDIRECT,       RQ,      act_redirect },
	{ "reject",         ACT_REJECT,         RQ,      act_none },
	{ "replace-header", ACT_REPLACE_HEADER, RQ | RS, act_replace },
	{ "replace-path",   ACT_REPLACE_PATH,   RQ,      act_replace_line },
	{ "replace-pathq",  ACT_REPLACE_PATHQ,  RQ,      act_replace_line },
	{ "replace-uri",    ACT_REPLACE_URI,    RQ,      act_replace_line },
	{ "replace-value",  ACT_REPLACE_VALUE,  RQ | RS, act_replace },
	{ "return",         ACT_RETURN,         RQ,      act_return },
	{ "set-header",     ACT_SET_HEADER,     RQ | RS, act_header_value },
	{ "set-method",     ACT_SET_METHOD,     RQ,      act_line_part },
	{ "set-path",       ACT_SET_PATH,       RQ,      act_line_part },
	{ "set-query",      ACT_SET_QUERY,      RQ,      act_line_part },
	{ "set-status",     ACT_SET_STATUS,     RS,      act_set_status },
	{ "set-uri",        ACT_SET_URI,        RQ,      act_line_part },
	{ "tarpit",         ACT_TARPIT,         RQ,      act_tarpit },
	{ "use-service",    ACT_USE_SERVICE,    RQ,      act_use_service },
};

static const struct kwtable action_table = KWTABLE("http rule actions",
    action_kws);

int
rules_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&action_table, err, errlen);
}

static void
unknown_action(const struct rparse *rp, const char *word, int where)
{
	char list[1024] = "";
	size_t len = 0;

	for (size_t k = 0; k < NELEM(action_kws); k++)
		if (action_kws[k].where & where)
			len += (size_t)snprintf(list + len, len < sizeof(list) ?
			    sizeof(list) - len : 0, "'%s', ",
			    action_kws[k].name);
	if (len >= 2 && len < sizeof(list))
		list[len - 2] = '\0';
	p_err(rp->p, "'%s' expects %s but got '%s' (the other actions of "
	    "HAProxy 2.6 are not supported by wsproxy).", rp->kw, list, word);
}

/* "if|unless COND" at w[i], or nothing. */
static int
parse_condition(const struct rparse *rp, struct rule *r, char **w, int n,
    int i)
{
	char err[512];

	if (i >= n)
		return 0;
	if (!is_cond_word(w[i])) {
		p_err(rp->p, "'%s %s' expects either 'if' or 'unless' followed "
		    "by a condition but found '%s'.", rp->kw, rp->act, w[i]);
		return -1;
	}
	if (i + 1 >= n) {
		/* 2.6 reads an empty condition as never true; a rule
		 * written that way is more likely a mistake */
		p_err(rp->p, "'%s %s' : '%s' is not followed by a condition.",
		    rp->kw, rp->act, w[i]);
		return -1;
	}
	r->cond = acl_cond_parse(&rp->px->acls, w + i, n - i, err,
	    sizeof(err));
	if (r->cond == NULL) {
		p_err(rp->p, "error detected while parsing an '%s %s' "
		    "condition : %s", rp->kw, rp->act, err);
		return -1;
	}
	return 0;
}

/* 2.6 runs the rules in a fixed order, whatever the lines' order. */
static void
order_warnings(struct parser *p, const struct proxy *px)
{
	if (px->redirects.n > 0)
		p_warn(p, "a 'http-request' rule placed after a 'redirect' "
		    "rule will still be processed before.");
	else if (px->nrules > 0)
		p_warn(p, "a 'http-request' rule placed after a 'use_backend' "
		    "rule will still be processed before.");
}

/* http-request track-sc0..2, sc-inc-gpc0/1, sc-set-gpt0 (cfgstick.c) */
static int
parse_stick_action(struct rparse *rp, struct rule_list *list, char **w,
    int n)
{
	char err[512];
	struct rule *r;
	int i;

	rp->act = w[1];
	order_warnings(rp->p, rp->px);
	r = grow(&list->rules, &list->n, sizeof(*r));
	r->line = rp->p->line;
	if ((i = stick_action_parse(r, w, n, 1, NULL, err,
	    sizeof(err))) < 0) {
		rp_err(rp, "%s", err);
		return -1;
	}
	/* the list owns the rule: freed with the proxy */
	return parse_condition(rp, r, w, n, i);
}

int
rules_parse_http(struct parser *p, struct proxy *px, char **w, int n)
{
	struct rparse rp = { p, px, w[0], "", strcmp(w[0], "http-response") ==
	    0 };
	struct rule_list *list = rp.resp ? &px->http_resp : &px->http_req;
	const struct action_kw *kw;
	struct rule *r;
	int i;

	for (i = 1; i < n; i++)
		if (w[i][0] == '\0')
			n = i;  /* an empty word ends the line, as in 2.6 */
	if (n < 2) {
		unknown_action(&rp, "", rp.resp ? RS : RQ);
		return -1;
	}
	if (!rp.resp && stick_action_is(w[1]))
		return parse_stick_action(&rp, list, w, n);
	kw = kwtable_find(&action_table, w[1]);
	if (kw == NULL || !(kw->where & (rp.resp ? RS : RQ))) {
		unknown_action(&rp, w[1], rp.resp ? RS : RQ);
		return -1;
	}
	rp.act = kw->name;
	if (!rp.resp)
		order_warnings(p, px);
	r = grow(&list->rules, &list->n, sizeof(*r));
	r->action = kw->action;
	r->line = p->line;
	if ((i = kw->parse(&rp, r, w, n, 2)) < 0 ||
	    parse_condition(&rp, r, w, n, i) < 0) {
		/* the list owns the rule: freed with the proxy */
		return -1;
	}
	return 0;
}

/* Once the file is read: rules that would never run are refused, as
 * an ignored deny would let through what it was written to stop. */
int
rules_check_proxy(struct parser *p, const struct proxy *px)
{
	const struct rule_list *lists[] = { &px->http_req, &px->http_resp };

	if (px->mode == MODE_HTTP)
		return 0;
	for (size_t k = 0; k < NELEM(lists); k++)
		if (lists[k]->n > 0) {
			p_err_at(p, lists[k]->rules[0].line, "'%s' rules "
			    "need 'mode http' in %s '%s'; wsproxy refuses "
			    "them rather than ignore them.", k == 0 ?
			    "http-request" : "http-response", px->kind,
			    px->name);
			return -1;
		}
	return 0;
}

static void
return_free(struct rule_return *ret)
{
	if (ret == NULL)
		return;
	free(ret->content_type);
	free(ret->payload);
	logfmt_free(ret->body);
	if (ret->file != NULL)
		free(ret->file->data);
	free(ret->file);
	for (int i = 0; i < ret->nhdrs; i++) {
		free(ret->hdrs[i].name);
		logfmt_free(ret->hdrs[i].value);
	}
	free(ret->hdrs);
	free(ret);
}

static void
regex_free(regex_t *re)
{
	if (re != NULL)
		regfree(re);
	free(re);
}

void
rule_list_free(struct rule_list *list)
{
	for (int i = 0; i < list->n; i++) {
		struct rule *r = &list->rules[i];
		acl_cond_free(r->cond);
		free(r->name);
		regex_free(r->name_re);
		logfmt_free(r->value);
		regex_free(r->re);
		free(r->reason);
		free(r->realm);
		redirect_free(r->redirect);
		return_free(r->ret);
		logfmt_free(r->key);
		free(r->table_name);
	}
	free(list->rules);
	list->rules = NULL;
	list->n = 0;
}
