/*
 * cfgproxy.c - the lines of frontend, backend, listen and defaults
 * sections: one sorted table of every proxy keyword wsproxy knows (where
 * it is allowed, its handler, or why it is refused or only warned
 * about), and the handlers but those of options (cfgoption.c) and
 * servers (cfgserver.c): mode, limits, bind and its parameters, routing
 * rules and ACLs, log targets, balance, health check requests, stats
 * and timeouts.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"

const char *
proxy_cap_name(int cap)
{
	return cap == CAP_FE ? "frontend" : "backend";
}

/* HAProxy ignores a keyword a proxy has no capability for, with a warning. */
int
proxy_check_cap(struct parser *p, struct proxy *px, const char *kw, int cap)
{
	if ((px->cap & cap) != 0)
		return 1;
	p_warn(p, "'%s' ignored because %s '%s' has no %s capability.", kw,
	    px->kind, px->name, proxy_cap_name(cap));
	return 0;
}

static int
px_mode(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "one of 'tcp' or 'http'") < 0)
		return -1;
	if (strcmp(w[1], "http") == 0)
		px->mode = MODE_HTTP;
	else if (strcmp(w[1], "tcp") == 0)
		px->mode = MODE_TCP;
	else if (strcmp(w[1], "health") == 0) {
		/* it answers "OK" itself: forwarding instead is unsafe */
		p_unsupported(p, KW_REFUSE, "'mode health'");
		return -1;
	} else {
		p_err(p, "unknown proxy mode '%s'.", w[1]);
		return -1;
	}
	return 0;
}

static int
px_maxconn(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (!(px->cap & CAP_FE)) {
		p_warn(p, "'maxconn' ignored because %s '%s' has no frontend "
		    "capability. Maybe you want 'fullconn' instead ?",
		    px->kind, px->name);
		return 0;
	}
	return parse_int(p, w[0], w[1], 1, 1000000, &px->maxconn);
}

static int
px_retries(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (!proxy_check_cap(p, px, w[0], CAP_BE))
		return 0;
	return parse_int(p, w[0], w[1], 0, 1000, &px->retries);
}

static int
px_redispatch(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)n;
	if (proxy_check_cap(p, px, w[0], CAP_BE))
		px->options |= OPT_REDISPATCH;
	return 0;
}

/* ---- bind ---- */

static int
add_listener(const struct net_addr *addr, void *arg)
{
	struct parser *p = arg;
	struct listener *l = grow(&p->cfg->listeners, &p->cfg->nlisteners,
	    sizeof(*l));

	l->addr = *addr;
	l->fd = -1;
	l->line = p->line;
	l->fe = p->cur;
	p->cur->nbinds++;
	return 0;
}

/* "ADDR:PORT[,ADDR:PORT...]" */
int
proxy_parse_bind_list(struct parser *p, const char *list, int *first,
    int *count)
{
	char *copy = xstrdup(list), *save = NULL, err[256];
	int rc = 0;

	*first = p->cfg->nlisteners;
	for (char *a = strtok_r(copy, ",", &save); a != NULL;
	    a = strtok_r(NULL, ",", &save)) {
		if (net_parse_bind(a, add_listener, p, err, sizeof(err)) < 0) {
			p_err(p, "'bind' : %s", err);
			rc = -1;
			break;
		}
	}
	free(copy);
	*count = p->cfg->nlisteners - *first;
	return rc;
}

static int
bp_accept_proxy(struct parser *p, struct listener *ls, int count,
    const char *value)
{
	(void)p;
	(void)value;
	for (int i = 0; i < count; i++)
		ls[i].accept_proxy = 1;
	return 0;
}

static int
bp_backlog(struct parser *p, struct listener *ls, int count,
    const char *value)
{
	int backlog;

	if (parse_int(p, "backlog", value, 1, 65535, &backlog) < 0)
		return -1;
	for (int i = 0; i < count; i++)
		ls[i].backlog = backlog;
	return 0;
}

/* name, id: descriptive, accepted */
static int
bp_accept(struct parser *p, struct listener *ls, int count,
    const char *value)
{
	(void)p;
	(void)ls;
	(void)count;
	(void)value;
	return 0;
}

struct bind_param {
	const char *name;
	int (*apply)(struct parser *, struct listener *, int, const char *);
	int has_value;
	enum kw_support support;
};

/*
 * Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. Refused: maxconn limits; the TLS ones would leave plaintext
 * where TLS was asked for.
 */
/* BEGIN KEYWORDS bind */
static const struct bind_param bind_params[] = {
	{ "accept-proxy", bp_accept_proxy, 0, KW_DONE },
	{ "alpn",         NULL,            1, KW_TLS },
	{ "backlog",      bp_backlog,      1, KW_DONE },
	{ "ca-file",      NULL,            1, KW_TLS },
	{ "ciphers",      NULL,            1, KW_TLS },
	{ "crl-file",     NULL,            1, KW_TLS },
	{ "crt",          NULL,            1, KW_TLS },
	{ "crt-list",     NULL,            1, KW_TLS },
	{ "defer-accept", NULL,            0, KW_WARN },
	{ "force-tlsv12", NULL,            0, KW_TLS },
	{ "id",           bp_accept,       1, KW_DONE },
	{ "maxconn",      NULL,            1, KW_REFUSE },
	{ "name",         bp_accept,       1, KW_DONE },
	{ "no-sslv3",     NULL,            0, KW_TLS },
	{ "npn",          NULL,            1, KW_TLS },
	{ "ssl",          NULL,            0, KW_TLS },
	{ "strict-sni",   NULL,            0, KW_TLS },
	{ "transparent",  NULL,            0, KW_WARN },
	{ "v4v6",         NULL,            0, KW_WARN },
	{ "v6only",       NULL,            0, KW_WARN },
	{ "verify",       NULL,            1, KW_TLS },
};
/* END KEYWORDS */

static const struct kwtable bind_table = KWTABLE("bind parameters",
    bind_params);

static int
px_bind(struct parser *p, struct proxy *px, char **w, int n)
{
	int first, count;
	char what[128];

	if (need_args(p, w, n, 1, "{<path>|[addr1]:port1[-end1]}{|[addr2]:"
	    "port2[-end2]}...") < 0)
		return -1;
	if (!proxy_check_cap(p, px, w[0], CAP_FE))
		return 0;
	if (proxy_parse_bind_list(p, w[1], &first, &count) < 0)
		return -1;
	for (int i = 2; i < n; i++) {
		const struct bind_param *bp = kwtable_find(&bind_table, w[i]);
		if (bp == NULL) {
			p_err(p, "'bind %s' in section '%s': unknown keyword "
			    "'%s'.", w[1], px->kind, w[i]);
			return -1;
		}
		if (bp->has_value && i + 1 >= n) {
			p_err(p, "'bind' : missing value for '%s'.", w[i]);
			return -1;
		}
		if (bp->apply == NULL) {
			snprintf(what, sizeof(what), "'bind' : '%s'", w[i]);
			p_unsupported(p, bp->support, what);
			if (bp->support != KW_WARN)
				return -1;
		} else if (bp->apply(p, &p->cfg->listeners[first], count,
		    bp->has_value ? w[i + 1] : NULL) < 0) {
			return -1;
		}
		i += bp->has_value;
	}
	return 0;
}

/* ---- routing ---- */

static int
px_default_backend(struct parser *p, struct proxy *px, char **w, int n)
{
	if (need_args(p, w, n, 1, "a backend name") < 0)
		return -1;
	if (!proxy_check_cap(p, px, w[0], CAP_FE))
		return 0;
	free(px->default_backend_name);
	px->default_backend_name = xstrdup(w[1]);
	px->default_backend_line = p->line;
	return 0;
}

static int
px_use_backend(struct parser *p, struct proxy *px, char **w, int n)
{
	struct switch_rule *rule;
	struct acl_cond *cond = NULL;
	char err[512];

	if (need_args(p, w, n, 1, "a backend name") < 0)
		return -1;
	if (!proxy_check_cap(p, px, w[0], CAP_FE))
		return 0;
	if (n > 2) {
		cond = acl_cond_parse(&px->acls, w + 2, n - 2, err, sizeof(err));
		if (cond == NULL) {
			p_err(p, "error detected while parsing switching rule : "
			    "%s", err);
			return -1;
		}
	}
	rule = grow(&px->rules, &px->nrules, sizeof(*rule));
	rule->backend_name = xstrdup(w[1]);
	rule->cond = cond;
	rule->line = p->line;
	return 0;
}

static int
px_acl(struct parser *p, struct proxy *px, char **w, int n)
{
	char err[512], warn[512] = "";

	if (need_args(p, w, n, 2, "a name and a fetch method") < 0)
		return -1;
	if (acl_parse(&px->acls, w[1], w + 2, n - 2, err, sizeof(err), warn,
	    sizeof(warn)) < 0) {
		p_err(p, "error detected while parsing ACL '%s' : %s", w[1],
		    err);
		return -1;
	}
	if (warn[0] != '\0')
		p_warn(p, "%s", warn);
	return 0;
}

static int
px_log(struct parser *p, struct proxy *px, char **w, int n)
{
	struct log_target t;

	if (need_args(p, w, n, 1, "<address> and <facility> as arguments") < 0)
		return -1;
	if (strcmp(w[1], "global") == 0) {
		/* copies the global targets; repeating it is harmless */
		for (int i = 0; i < p->cfg->nlogs; i++) {
			int dup = 0;
			for (int j = 0; j < px->nlogs; j++)
				dup |= log_target_equal(&px->logs[j],
				    &p->cfg->logs[i]);
			if (!dup)
				*(struct log_target *)grow(&px->logs,
				    &px->nlogs, sizeof(t)) = p->cfg->logs[i];
		}
		return 0;
	}
	if (parse_log_target(p, w, n, &t) < 0)
		return -1;
	*(struct log_target *)grow(&px->logs, &px->nlogs, sizeof(t)) = t;
	return 0;
}

static int
px_server(struct parser *p, struct proxy *px, char **w, int n)
{
	return server_parse(p, px, w, n);
}

static int
px_default_server(struct parser *p, struct proxy *px, char **w, int n)
{
	return server_parse_defaults(p, px, w, n);
}

static int
px_balance(struct parser *p, struct proxy *px, char **w, int n)
{
	static const char *const algos[] = { "first", "leastconn",
	    "roundrobin", "source", "static-rr", "uri", "url_param" };
	static const struct { const char *name; enum balance_algo algo; }
	    done[] = {
		{ "roundrobin", BALANCE_ROUNDROBIN },
		{ "static-rr", BALANCE_STATIC_RR },
		{ "leastconn", BALANCE_LEASTCONN },
		{ "first", BALANCE_FIRST },
		{ "source", BALANCE_SOURCE },
	};
	int known;

	if (need_args(p, w, n, 1, "an algorithm") < 0)
		return -1;
	if (!proxy_check_cap(p, px, w[0], CAP_BE))
		return 0;
	known = strncmp(w[1], "hdr(", 4) == 0 ||
	    strncmp(w[1], "rdp-cookie", 10) == 0;
	for (size_t i = 0; i < NELEM(algos); i++)
		known |= strcmp(w[1], algos[i]) == 0;
	if (!known) {
		p_err(p, "'balance' only supports 'roundrobin', 'static-rr', "
		    "'leastconn', 'first', 'source', 'uri', 'url_param', "
		    "'hdr(name)' and 'rdp-cookie(name)' options.");
		return -1;
	}
	for (size_t i = 0; i < NELEM(done); i++) {
		if (strcmp(w[1], done[i].name) == 0) {
			px->balance = done[i].algo;
			return 0;
		}
	}
	/* which server, not what it receives: a warning */
	p_warn(p, "'balance %s' is not implemented by wsproxy; using "
	    "'roundrobin'.", w[1]);
	px->balance = BALANCE_ROUNDROBIN;
	return 0;
}

/* http-check expect status N: the only http-check rule implemented. */
static int
px_http_check(struct parser *p, struct proxy *px, char **w, int n)
{
	if (!proxy_check_cap(p, px, w[0], CAP_BE))
		return 0;
	if (n == 4 && strcmp(w[1], "expect") == 0 &&
	    strcmp(w[2], "status") == 0)
		return parse_int(p, "http-check expect status", w[3], 100, 599,
		    &px->httpchk_status);
	if (n >= 2 && strcmp(w[1], "disable-on-404") == 0) {
		p_warn(p, "'http-check disable-on-404' is not supported by "
		    "wsproxy; ignored.");
		return 0;
	}
	p_err(p, "'http-check' : wsproxy only supports 'http-check expect "
	    "status <code>'.");
	return -1;
}

/* ---- timeouts ---- */

struct timeout_kw {
	const char *name;
	size_t offset;          /* of its int in struct timeouts */
	int cap;
	enum kw_support support;        /* KW_WARN: checked, not kept */
};

#define TO(name, field, cap) \
	{ name, offsetof(struct timeouts, field), cap, KW_DONE }
/* Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. */
/* BEGIN KEYWORDS timeout */
static const struct timeout_kw timeout_kws[] = {
	TO("check", check, CAP_BE),
	TO("client", client, CAP_FE),
	TO("client-fin", client_fin, CAP_FE),
	TO("connect", connect, CAP_BE),
	TO("http-keep-alive", http_keep_alive, CAP_FE | CAP_BE),
	TO("http-request", http_request, CAP_FE | CAP_BE),
	TO("queue", queue, CAP_BE),
	TO("server", server, CAP_BE),
	TO("server-fin", server_fin, CAP_BE),
	TO("tarpit", tarpit, CAP_FE | CAP_BE),
	TO("tunnel", tunnel, CAP_BE),
};
/* END KEYWORDS */
#undef TO

static const struct kwtable timeout_table = KWTABLE("timeouts",
    timeout_kws);

static int
set_timeout(struct parser *p, struct proxy *px, const char *name,
    const char *value, const char *kw_for_errors)
{
	const struct timeout_kw *kw = kwtable_find(&timeout_table, name);
	int ms;
	unsigned bit;

	if (kw == NULL) {
		p_err(p, "'timeout' supports 'client', 'server', 'connect', "
		    "'check', 'queue', 'http-keep-alive', 'http-request', "
		    "'tunnel', 'tarpit', 'client-fin' and 'server-fin' "
		    "(got '%s')", name);
		return -1;
	}
	if (parse_time(p, kw_for_errors, value, &ms) < 0)
		return -1;
	if (!(px->cap & kw->cap)) {
		p_warn(p, "'%s' will be ignored because %s '%s' has no %s "
		    "capability", kw_for_errors, px->kind, px->name,
		    proxy_cap_name(kw->cap));
		return 0;
	}
	if (kw->support != KW_DONE)
		p_warn(p, "'%s' is not implemented yet; ignored.",
		    kw_for_errors);
	bit = 1u << (kw - timeout_kws);
	if (px->timeouts_set & bit)
		p_warn(p, "overwriting '%s' which was already specified",
		    kw_for_errors);
	px->timeouts_set |= bit;
	if (kw->support == KW_DONE)
		*(int *)(void *)((char *)&px->to + kw->offset) = ms;
	return 0;
}

static int
px_timeout(struct parser *p, struct proxy *px, char **w, int n)
{
	char kw[64];

	if (need_args(p, w, n, 2, "a type and a time value") < 0)
		return -1;
	snprintf(kw, sizeof(kw), "timeout %s", w[1]);
	if (n > 3) {
		p_err(p, "'%s' : unexpected extra argument '%s' after value "
		    "'%s'.", kw, w[3], w[2]);
		return -1;
	}
	return set_timeout(p, px, w[1], w[2], kw);
}

/* contimeout / clitimeout / srvtimeout: HAProxy <= 2.0 aliases. */
static int
px_legacy_timeout(struct parser *p, struct proxy *px, char **w, int n)
{
	const char *name = strcmp(w[0], "contimeout") == 0 ? "connect" :
	    strcmp(w[0], "clitimeout") == 0 ? "client" : "server";

	if (need_args(p, w, n, 1, "a time value") < 0)
		return -1;
	if (n > 2) {
		p_err(p, "'%s' : unexpected extra argument '%s' after value "
		    "'%s'.", w[0], w[2], w[1]);
		return -1;
	}
	return set_timeout(p, px, name, w[1], w[0]);
}

/* ---- captures ---- */

/*
 * capture request|response header NAME len N: as 2.6, a backend only
 * warns (no frontend capability), 'len' is read as atol ("abc" is 0),
 * and "capture cookie" is checked but not implemented.
 */
static int
px_capture(struct parser *p, struct proxy *px, char **w, int n)
{
	enum capture_dir d;
	struct capture *cap;
	long len;

	if (n >= 2 && strcmp(w[1], "cookie") == 0) {
		p_unsupported(p, KW_WARN, "'capture cookie'");
		return 0;
	}
	if (n < 2 || (strcmp(w[1], "request") != 0 &&
	    strcmp(w[1], "response") != 0)) {
		p_err(p, "'capture' expects 'cookie', 'request' or "
		    "'response'.");
		return -1;
	}
	d = strcmp(w[1], "request") == 0 ? CAPTURE_REQ : CAPTURE_RESP;
	if (n != 6 || strcmp(w[2], "header") != 0 ||
	    strcmp(w[4], "len") != 0) {
		p_err(p, "'capture %s' expects 'header' <header_name> 'len' "
		    "<len>.", w[1]);
		return -1;
	}
	if (!(px->cap & CAP_FE)) {
		p_warn(p, "'capture' ignored because %s '%s' has no frontend "
		    "capability.", px->kind, px->name);
		return 0;
	}
	len = strtol(w[5], NULL, 10);   /* 2.6: atol, no check */
	cap = grow(&px->caps[d], &px->ncaps[d], sizeof(*cap));
	cap->name = xstrdup(w[3]);
	cap->len = len > 0 ? (size_t)len : 0;
	return 0;
}

/* ---- options ---- */

static int
px_option(struct parser *p, struct proxy *px, char **w, int n)
{
	return option_parse(p, px, w, n, 0);
}

static int
px_no(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n >= 2 && strcmp(w[1], "log") == 0) {
		free(px->logs);
		px->logs = NULL;
		px->nlogs = 0;
		return 0;
	}
	if (n >= 3 && strcmp(w[1], "option") == 0)
		return option_parse(p, px, w + 1, n - 1, 1);
	p_err(p, "'no' expects 'option <name>' or 'log'.");
	return -1;
}

/* Descriptive keywords: accepted, nothing to do. */
static int
px_ignore(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p;
	(void)px;
	(void)w;
	(void)n;
	return 0;
}

/* ---- the table ---- */

#define IN_DEFAULTS 0x1         /* allowed in a defaults section */
struct proxy_kw {
	const char *name;
	int (*parse)(struct parser *, struct proxy *, char **, int);
	int flags;
	enum kw_support support;
};

#define DONE(name, fn, flags) { name, fn, flags, KW_DONE }
#define WARN(name) { name, NULL, IN_DEFAULTS, KW_WARN }
#define REFUSE(name) { name, NULL, IN_DEFAULTS, KW_REFUSE }

/*
 * The 1.x header rules that HAProxy 2.1 removed are errors in 2.6 too,
 * and its message names what replaces each; wsproxy has every one of
 * those, so it says the same. Sorted (kwtable.h).
 */
struct removed_kw {
	const char *name;
	const char *advice;             /* after 2.6's first sentence */
};

static const struct removed_kw removed_kws[] = {
	{ "block",      " Use 'http-request deny' which uses the exact same "
	                "syntax." },
	{ "reqadd",     " Use 'http-request add-header' instead." },
	{ "reqallow",   " Use 'http-request allow' instead." },
	{ "reqdel",     " Use 'http-request del-header' instead." },
	{ "reqdeny",    " Use 'http-request deny' instead." },
	{ "reqiallow",  " Use 'http-request allow' instead." },
	{ "reqidel",    " Use 'http-request del-header' instead." },
	{ "reqideny",   " Use 'http-request deny' instead." },
	{ "reqipass",   "" },
	{ "reqirep",    " Use 'http-request replace-header' instead." },
	{ "reqitarpit", " Use 'http-request tarpit' instead." },
	{ "reqpass",    "" },
	{ "reqrep",     " Use 'http-request replace-path', 'http-request "
	                "replace-uri' or 'http-request replace-header' "
	                "instead." },
	{ "reqtarpit",  " Use 'http-request tarpit' instead." },
	{ "rspadd",     " Use 'http-response add-header' instead." },
	{ "rspdel",     " Use 'http-response del-header' instead." },
	{ "rspdeny",    " Use 'http-response deny' instead." },
	{ "rspidel",    " Use 'http-response del-header' instead." },
	{ "rspideny",   " Use 'http-response deny' instead." },
	{ "rspirep",    " Use 'http-response replace-header' instead." },
	{ "rsprep",     " Use 'http-response replace-header' instead." },
};

static const struct kwtable removed_table = KWTABLE("removed keywords",
    removed_kws);

/* 2.6's error for a keyword 2.1 removed; 0 when word is not one. */
static int
removed_in_2_1(struct parser *p, const char *word)
{
	const struct removed_kw *kw = kwtable_find(&removed_table, word);

	if (kw == NULL)
		return 0;
	p_err(p, "The '%s' directive is not supported anymore since HAProxy "
	    "2.1.%s", word, kw->advice);
	return 1;
}

/*
 * Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. Refused: what denies, rejects, limits, answers instead of
 * forwarding, redirects, or changes what the backend or the client
 * receives (headers, cookies, compression, the source address).
 */
/* BEGIN KEYWORDS proxy */
static const struct proxy_kw proxy_kws[] = {
	DONE("acl", px_acl, 0),
	WARN("appsession"),
	DONE("balance", px_balance, IN_DEFAULTS),
	DONE("bind", px_bind, 0),
	REFUSE("block"),
	DONE("capture", px_capture, 0),
	DONE("clitimeout", px_legacy_timeout, IN_DEFAULTS),
	REFUSE("compression"),
	DONE("contimeout", px_legacy_timeout, IN_DEFAULTS),
	REFUSE("cookie"),
	DONE("default-server", px_default_server, IN_DEFAULTS),
	DONE("default_backend", px_default_backend, IN_DEFAULTS),
	DONE("description", px_ignore, IN_DEFAULTS),
	WARN("dispatch"),
	DONE("errorfile", reply_parse, IN_DEFAULTS),
	DONE("errorloc", reply_parse, IN_DEFAULTS),
	DONE("errorloc302", reply_parse, IN_DEFAULTS),
	DONE("errorloc303", reply_parse, IN_DEFAULTS),
	WARN("external-check"),
	REFUSE("filter"),
	WARN("fullconn"),
	WARN("grace"),
	WARN("hash-type"),
	REFUSE("http-after-response"),
	DONE("http-check", px_http_check, IN_DEFAULTS),
	DONE("http-request", rules_parse_http, 0),
	DONE("http-response", rules_parse_http, 0),
	WARN("http-reuse"),
	REFUSE("http-send-name-header"),
	DONE("id", px_ignore, 0),
	DONE("log", px_log, IN_DEFAULTS),
	WARN("log-format"),
	DONE("maxconn", px_maxconn, IN_DEFAULTS),
	DONE("mode", px_mode, IN_DEFAULTS),
	DONE("monitor", reply_parse, 0),
	REFUSE("monitor-net"),
	DONE("monitor-uri", reply_parse, IN_DEFAULTS),
	DONE("no", px_no, IN_DEFAULTS),
	DONE("option", px_option, IN_DEFAULTS),
	WARN("persist"),
	REFUSE("rate-limit"),
	DONE("redirect", redirect_rule_parse, 0),
	DONE("redispatch", px_redispatch, IN_DEFAULTS),
	REFUSE("reqadd"),
	REFUSE("reqallow"),
	REFUSE("reqdel"),
	REFUSE("reqdeny"),
	REFUSE("reqiallow"),
	REFUSE("reqidel"),
	REFUSE("reqideny"),
	REFUSE("reqipass"),
	REFUSE("reqirep"),
	REFUSE("reqisetbe"),
	REFUSE("reqitarpit"),
	REFUSE("reqpass"),
	REFUSE("reqrep"),
	REFUSE("reqsetbe"),
	REFUSE("reqtarpit"),
	DONE("retries", px_retries, IN_DEFAULTS),
	WARN("retry-on"),
	REFUSE("rspadd"),
	REFUSE("rspdel"),
	REFUSE("rspdeny"),
	REFUSE("rspidel"),
	REFUSE("rspideny"),
	REFUSE("rspirep"),
	REFUSE("rsprep"),
	DONE("server", px_server, 0),
	REFUSE("server-template"),
	REFUSE("source"),
	DONE("srvtimeout", px_legacy_timeout, IN_DEFAULTS),
	DONE("stats", stats_parse, IN_DEFAULTS),
	REFUSE("stick"),
	DONE("stick-table", stick_table_parse, 0),
	WARN("tcp-check"),
	DONE("tcp-request", tcprules_parse, IN_DEFAULTS),
	REFUSE("tcp-response"),
	DONE("timeout", px_timeout, IN_DEFAULTS),
	WARN("unique-id-format"),
	REFUSE("unique-id-header"),
	REFUSE("use-server"),
	DONE("use_backend", px_use_backend, 0),
};
/* END KEYWORDS */
#undef DONE
#undef WARN
#undef REFUSE

static const struct kwtable proxy_table = KWTABLE("proxy keywords",
    proxy_kws);

int
proxy_tables_check(char *err, size_t errlen)
{
	const struct kwtable *tables[] = { &proxy_table, &removed_table,
	    &bind_table, &timeout_table };

	for (size_t i = 0; i < NELEM(tables); i++)
		if (kwtable_check(tables[i], err, errlen) < 0)
			return -1;
	return stats_tables_check(err, errlen);
}

void
proxy_parse_line(struct parser *p, char **w, int n)
{
	struct proxy *px = p->cur;
	const struct proxy_kw *kw;
	char what[128];

	if (px == NULL)
		return;         /* the section header was already an error */
	if ((kw = kwtable_find(&proxy_table, w[0])) == NULL) {
		p_err(p, "unknown keyword '%s' in '%s' section", w[0],
		    px->kind);
		return;
	}
	if (p->sec == SEC_DEFAULTS && !(kw->flags & IN_DEFAULTS)) {
		p_err(p, "'%s' not allowed in 'defaults' section.", w[0]);
		return;
	}
	if (kw->parse == NULL) {
		if (removed_in_2_1(p, w[0]))
			return;
		snprintf(what, sizeof(what), "'%s'", w[0]);
		p_unsupported(p, kw->support, what);
		return;
	}
	kw->parse(p, px, w, n);
}
