/*
 * cfgstats.c - the "stats" lines of frontend, backend, listen and
 * defaults sections (reference 14.1): where the stats page is, who may
 * see it and what it shows. Messages are 2.6's. As in 2.6, any stats
 * line turns the page on; "stats uri" and "stats auth" are the usual
 * ones.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"

struct stats_kw {
	const char *name;
	int (*parse)(struct parser *, struct proxy *, char **, int);
	enum kw_support support;
};

static int
st_enable(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p; (void)px; (void)w; (void)n;
	return 0;
}

static int
st_uri(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n < 3 || w[2][0] == '\0') {
		p_err(p, "'uri' needs an URI prefix.");
		return -1;
	}
	free(px->stats.uri);
	px->stats.uri = xstrdup(w[2]);
	return 0;
}

static int
st_realm(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n < 3 || w[2][0] == '\0') {
		p_err(p, "'realm' needs an realm name.");
		return -1;
	}
	if (strpbrk(w[2], "\"\r\n") != NULL) {
		/* it goes between quotes in the 401's challenge */
		p_err(p, "invalid realm '%s'.", w[2]);
		return -1;
	}
	free(px->stats.realm);
	px->stats.realm = xstrdup(w[2]);
	return 0;
}

/* "stats auth USER:PASS"; without a colon, 2.6 takes an empty password. */
static int
st_auth(struct parser *p, struct proxy *px, char **w, int n)
{
	struct user *u;
	char *colon;

	if (n < 3 || w[2][0] == '\0') {
		p_err(p, "'auth' needs a user:password account.");
		return -1;
	}
	u = grow(&px->stats.auth, &px->stats.nauth, sizeof(*u));
	u->name = xstrdup(w[2]);
	colon = strchr(u->name, ':');
	u->password = xstrdup(colon ? colon + 1 : "");
	if (colon != NULL)
		*colon = '\0';
	u->insecure = 1;
	u->line = p->line;
	return 0;
}

/* 2.6 reads the interval in seconds unless a unit says otherwise. */
static int
st_refresh(struct parser *p, struct proxy *px, char **w, int n)
{
	static const struct { const char *unit; long ms; } units[] = {
		{ "", 1000 }, { "us", 0 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *c = n >= 3 ? w[2] : "";
	long value = 0;

	if (*c == '\0') {
		p_err(p, "'refresh' needs a refresh interval in seconds.");
		return -1;
	}
	while (isdigit((unsigned char)*c) && value < 100000000L)
		value = value * 10 + (*c++ - '0');
	for (size_t i = 0; i < NELEM(units); i++)
		if (strcmp(c, units[i].unit) == 0) {
			long ms = units[i].ms ? value * units[i].ms : value / 1000;
			px->stats.refresh = (int)(ms / 1000);
			return 0;
		}
	p_err(p, "unexpected character '%c' in argument to stats refresh "
	    "interval.", *c);
	return -1;
}

static int
st_admin(struct parser *p, struct proxy *px, char **w, int n)
{
	char err[512];

	if (p->sec == SEC_DEFAULTS) {
		p_err(p, "'stats admin' not allowed in 'defaults' section.");
		return -1;
	}
	if (n < 4 || (strcmp(w[2], "if") != 0 && strcmp(w[2], "unless") != 0)) {
		p_err(p, "'stats admin' requires either 'if' or 'unless' "
		    "followed by a condition.");
		return -1;
	}
	acl_cond_free(px->stats.admin);
	px->stats.admin = acl_cond_parse(&px->acls, w + 2, n - 2, err,
	    sizeof(err));
	if (px->stats.admin == NULL) {
		p_err(p, "error detected while parsing a 'stats admin' "
		    "condition : %s", err);
		return -1;
	}
	return 0;
}

static int
st_hide_version(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p; (void)w; (void)n;
	px->stats.hide_version = 1;
	return 0;
}

static int
st_show_legends(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p; (void)w; (void)n;
	px->stats.show_legends = 1;
	return 0;
}

/* show-node [NAME], show-desc [TEXT]: shown on the page. */
static int
st_show_node(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p;
	px->stats.show_node = 1;
	free(px->stats.node);
	px->stats.node = n >= 3 ? xstrdup(w[2]) : NULL;
	return 0;
}

static int
st_show_desc(struct parser *p, struct proxy *px, char **w, int n)
{
	(void)p;
	px->stats.show_desc = 1;
	free(px->stats.desc);
	px->stats.desc = n >= 3 ? xstrdup(w[2]) : NULL;
	return 0;
}

/* scope NAME: only the proxies named so are shown ("." this one). */
static int
st_scope(struct parser *p, struct proxy *px, char **w, int n)
{
	char **slot;

	if (n < 3 || w[2][0] == '\0') {
		p_err(p, "'scope' needs a proxy name.");
		return -1;
	}
	slot = grow(&px->stats.scope, &px->stats.nscope, sizeof(*slot));
	*slot = xstrdup(w[2]);  /* ".": resolved by the page */
	return 0;
}

/*
 * Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. "stats http-request" rules are access rules wsproxy does not
 * run: refused rather than let through what they were written to stop.
 */
/* BEGIN KEYWORDS stats */
static const struct stats_kw stats_kws[] = {
	{ "admin",        st_admin,        KW_DONE },
	{ "auth",         st_auth,         KW_DONE },
	{ "enable",       st_enable,       KW_DONE },
	{ "hide-version", st_hide_version, KW_DONE },
	{ "http-request", NULL,            KW_REFUSE },
	{ "realm",        st_realm,        KW_DONE },
	{ "refresh",      st_refresh,      KW_DONE },
	{ "scope",        st_scope,        KW_DONE },
	{ "show-desc",    st_show_desc,    KW_DONE },
	{ "show-legends", st_show_legends, KW_DONE },
	{ "show-node",    st_show_node,    KW_DONE },
	{ "uri",          st_uri,          KW_DONE },
};
/* END KEYWORDS */

static const struct kwtable stats_table = KWTABLE("stats keywords",
    stats_kws);

int
stats_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&stats_table, err, errlen);
}

int
stats_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	const struct stats_kw *kw = n >= 2 ?
	    kwtable_find(&stats_table, w[1]) : NULL;

	if (kw == NULL) {
		p_err(p, "unknown stats parameter '%s', expects 'admin', 'uri', "
		    "'realm', 'auth', 'scope', 'enable', 'hide-version', "
		    "'show-node', 'show-desc' or 'show-legends'.",
		    n >= 2 ? w[1] : "");
		return -1;
	}
	if (kw->parse == NULL) {
		p_unsupported(p, kw->support, "'stats http-request'");
		return -1;
	}
	if (kw->parse(p, px, w, n) < 0)
		return -1;
	px->stats.enabled = 1;
	if (px->stats.line == 0)
		px->stats.line = p->line;
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
stats_copy_settings(struct stats_conf *to, const struct stats_conf *from)
{
	*to = *from;
	to->uri = dup_or_null(from->uri);
	to->realm = dup_or_null(from->realm);
	to->node = dup_or_null(from->node);
	to->desc = dup_or_null(from->desc);
	to->admin = NULL;       /* never in a defaults section */
	to->auth = NULL;
	to->nauth = 0;
	for (int i = 0; i < from->nauth; i++) {
		struct user *u = grow(&to->auth, &to->nauth, sizeof(*u));
		u->name = xstrdup(from->auth[i].name);
		u->password = xstrdup(from->auth[i].password);
		u->insecure = 1;
		u->line = from->auth[i].line;
	}
	to->scope = NULL;
	to->nscope = 0;
	for (int i = 0; i < from->nscope; i++) {
		char **slot = grow(&to->scope, &to->nscope, sizeof(*slot));
		*slot = xstrdup(from->scope[i]);
	}
}

void
stats_free_settings(struct stats_conf *st)
{
	free(st->uri);
	free(st->realm);
	free(st->node);
	free(st->desc);
	acl_cond_free(st->admin);
	for (int i = 0; i < st->nauth; i++) {
		free(st->auth[i].name);
		free(st->auth[i].password);
	}
	free(st->auth);
	for (int i = 0; i < st->nscope; i++)
		free(st->scope[i]);
	free(st->scope);
	memset(st, 0, sizeof(*st));
}
