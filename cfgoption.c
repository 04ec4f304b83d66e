/*
 * cfgoption.c - "option NAME" and "no option NAME" in proxy sections: one
 * sorted table of every option wsproxy knows, with the proxies it applies
 * to (CAP_FE/CAP_BE), what it sets, and, for the HAProxy options it does
 * not implement, whether ignoring one is harmless (a warning) or would
 * let through or change traffic (an error).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"

struct option_kw {
	const char *name;
	int (*parse)(struct parser *, struct proxy *, const struct option_kw *,
	    char **, int, int);
	int cap;                /* CAP_FE/CAP_BE it needs; 0: either */
	unsigned value;         /* the OPT_* flag or the http_conn_mode */
	enum kw_support support;
};

/* option http-keep-alive / http-server-close / httpclose / forceclose */
static int
opt_conn_mode(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	(void)p;
	(void)w;
	(void)n;
	/* "no option X" only resets X if X is the current value. */
	if (!negate)
		px->conn_mode = (enum http_conn_mode)kw->value;
	else if (px->conn_mode == (enum http_conn_mode)kw->value)
		px->conn_mode = CONN_MODE_KAL;
	return 0;
}

static int
opt_flag(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	(void)p;
	(void)w;
	(void)n;
	if (negate)
		px->options &= ~kw->value;
	else
		px->options |= kw->value;
	return 0;
}

static int
opt_httplog(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	(void)kw;
	(void)w;
	(void)n;
	if (negate) {
		p_err(p, "negation/default is not supported for option "
		    "'httplog'.");
		return -1;
	}
	if (!(px->cap & CAP_FE)) {
		p_warn(p, "backend '%s' : 'option httplog' directive is "
		    "ignored in backends.", px->name);
		return 0;
	}
	px->options |= OPT_HTTPLOG;
	return 0;
}

/* The format used without httplog: say so by clearing it. */
static int
opt_tcplog(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	(void)p;
	(void)kw;
	(void)w;
	(void)n;
	if (!negate)
		px->options &= ~OPT_HTTPLOG;
	return 0;
}

/* option forwardfor [except NET] [header NAME] [if-none] */
static int
opt_forwardfor(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	(void)kw;
	if (negate) {
		px->options &= ~(OPT_FORWARDFOR | OPT_XFF_IFNONE);
		return 0;
	}
	px->options |= OPT_FORWARDFOR;
	px->options &= ~OPT_XFF_IFNONE;
	px->xff_except_len = -1;
	free(px->xff_header);
	px->xff_header = NULL;
	for (int i = 2; i < n; i++) {
		if (strcmp(w[i], "if-none") == 0) {
			px->options |= OPT_XFF_IFNONE;
		} else if (strcmp(w[i], "header") == 0 && i + 1 < n) {
			free(px->xff_header);
			px->xff_header = xstrdup(w[++i]);
		} else if (strcmp(w[i], "except") == 0 && i + 1 < n) {
			if (net_parse_network(w[++i], &px->xff_except,
			    &px->xff_except_len, 1) < 0) {
				p_err(p, "'option forwardfor' : invalid network "
				    "'%s'.", w[i]);
				return -1;
			}
		} else {
			p_err(p, "'option forwardfor' only supports optional "
			    "values: 'except', 'header' and 'if-none'.");
			return -1;
		}
	}
	return 0;
}

/*
 * option httpchk [URI] | [METHOD URI [VERSION]]: the request line of HTTP
 * health checks; HAProxy's default is "OPTIONS / HTTP/1.0".
 */
static int
opt_httpchk(struct parser *p, struct proxy *px, const struct option_kw *kw,
    char **w, int n, int negate)
{
	const char *method = "OPTIONS", *uri = "/", *version = "HTTP/1.0";
	size_t len;

	(void)kw;
	if (negate) {
		px->options &= ~OPT_HTTPCHK;
		return 0;
	}
	if (n == 3) {
		uri = w[2];
	} else if (n >= 4) {
		method = w[2];
		uri = w[3];
		if (n >= 5)
			version = w[4];
	}
	if (n > 5) {
		p_err(p, "'option httpchk' expects at most a method, a URI and "
		    "a version.");
		return -1;
	}
	len = strlen(method) + strlen(uri) + strlen(version) + 3;
	free(px->httpchk_line);
	px->httpchk_line = xcalloc(1, len);
	snprintf(px->httpchk_line, len, "%s %s %s", method, uri, version);
	px->options |= OPT_HTTPCHK;
	return 0;
}

#define CONN(name, mode) { name, opt_conn_mode, 0, mode, KW_DONE }
#define FLAG(name, flag, cap) { name, opt_flag, cap, flag, KW_DONE }
#define FUNC(name, fn, cap) { name, fn, cap, 0, KW_DONE }
#define WARN(name) { name, NULL, 0, 0, KW_WARN }
#define REFUSE(name) { name, NULL, 0, 0, KW_REFUSE }

/*
 * Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. Refused: checkcache denies cacheable responses with cookies,
 * http-pretend-keepalive keeps "Connection: close" out of requests,
 * originalto adds a header.
 */
/* BEGIN KEYWORDS option */
static const struct option_kw option_kws[] = {
	WARN("abortonclose"),
	WARN("accept-invalid-http-request"),
	WARN("accept-invalid-http-response"),
	FLAG("allbackups", OPT_ALLBACKUPS, CAP_BE),
	REFUSE("checkcache"),
	WARN("clitcpka"),
	WARN("contstats"),
	WARN("disable-h2-upgrade"),
	WARN("dontlog-normal"),
	FLAG("dontlognull", OPT_DONTLOGNULL, CAP_FE),
	CONN("forceclose", CONN_MODE_CLO),
	FUNC("forwardfor", opt_forwardfor, 0),
	WARN("h1-case-adjust-bogus-client"),
	WARN("h1-case-adjust-bogus-server"),
	WARN("http-buffer-request"),
	WARN("http-ignore-probes"),
	CONN("http-keep-alive", CONN_MODE_KAL),
	WARN("http-no-delay"),
	REFUSE("http-pretend-keepalive"),
	REFUSE("http-restrict-req-hdr-names"),
	CONN("http-server-close", CONN_MODE_SCL),
	WARN("http-tunnel"),
	WARN("http-use-proxy-header"),
	FUNC("httpchk", opt_httpchk, CAP_BE),
	CONN("httpclose", CONN_MODE_CLO),
	FUNC("httplog", opt_httplog, 0),
	WARN("independent-streams"),
	WARN("ldap-check"),
	WARN("log-health-checks"),
	WARN("log-separate-errors"),
	WARN("logasap"),
	WARN("mysql-check"),
	WARN("nolinger"),
	REFUSE("originalto"),
	WARN("persist"),
	WARN("pgsql-check"),
	WARN("prefer-last-server"),
	WARN("redis-check"),
	FLAG("redispatch", OPT_REDISPATCH, CAP_BE),
	WARN("smtpchk"),
	WARN("socket-stats"),
	WARN("splice-auto"),
	WARN("splice-request"),
	WARN("splice-response"),
	WARN("spop-check"),
	WARN("srvtcpka"),
	WARN("ssl-hello-chk"),
	WARN("tcp-check"),
	WARN("tcp-smart-accept"),
	WARN("tcp-smart-connect"),
	WARN("tcpka"),
	FUNC("tcplog", opt_tcplog, 0),
	WARN("transparent"),
};
/* END KEYWORDS */
#undef CONN
#undef FLAG
#undef FUNC
#undef WARN
#undef REFUSE

static const struct kwtable option_table = KWTABLE("options", option_kws);

int
option_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&option_table, err, errlen);
}

int
option_parse(struct parser *p, struct proxy *px, char **w, int n, int negate)
{
	const struct option_kw *kw;
	char what[128];

	if (need_args(p, w, n, 1, "an option name") < 0)
		return -1;
	if ((kw = kwtable_find(&option_table, w[1])) == NULL) {
		p_err(p, "unknown option '%s'.", w[1]);
		return -1;
	}
	if (kw->parse == NULL) {
		snprintf(what, sizeof(what), "'option %s'", w[1]);
		p_unsupported(p, kw->support, what);
		return kw->support == KW_WARN ? 0 : -1;
	}
	if (kw->cap != 0 && !proxy_check_cap(p, px, w[1], kw->cap))
		return 0;
	return kw->parse(p, px, kw, w, n, negate);
}
