/*
 * acl.c - HAProxy ACLs: parsing "acl" lines, their patterns and flags,
 * the predefined ACLs, and the conditions (if/unless, ||, !, { }) that
 * rules are guarded by. What a request is matched with is match.c's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "aclregex.h"
#include "kwtable.h"
#include "match.h"
#include "stkfetch.h"

/* ---- fetch keywords ---- */

struct fetch_kw {
	const char *name;
	enum acl_fetch fetch;
	enum acl_match match;
	int takes_arg;          /* hdr*(NAME) */
};

/* Sorted for bsearch(). */
static const struct fetch_kw fetch_kws[] = {
	{ "dst_port",  FETCH_DST_PORT, MATCH_INT,  0 },
	{ "hdr",       FETCH_HDR,      MATCH_STR,  1 },
	{ "hdr_beg",   FETCH_HDR,      MATCH_BEG,  1 },
	{ "hdr_cnt",   FETCH_HDR_CNT,  MATCH_INT,  1 },
	{ "hdr_dir",   FETCH_HDR,      MATCH_DIR,  1 },
	{ "hdr_dom",   FETCH_HDR,      MATCH_DOM,  1 },
	{ "hdr_end",   FETCH_HDR,      MATCH_END,  1 },
	{ "hdr_len",   FETCH_HDR,      MATCH_LEN,  1 },
	{ "hdr_reg",   FETCH_HDR,      MATCH_REG,  1 },
	{ "hdr_sub",   FETCH_HDR,      MATCH_SUB,  1 },
	{ "http_auth", FETCH_AUTH,     MATCH_BOOL, 1 },
	{ "http_auth_group", FETCH_AUTH_GROUP, MATCH_AUTH, 1 },
	{ "method",    FETCH_METHOD,   MATCH_METH, 0 },
	{ "path",      FETCH_PATH,     MATCH_STR,  0 },
	{ "path_beg",  FETCH_PATH,     MATCH_BEG,  0 },
	{ "path_dir",  FETCH_PATH,     MATCH_DIR,  0 },
	{ "path_dom",  FETCH_PATH,     MATCH_DOM,  0 },
	{ "path_end",  FETCH_PATH,     MATCH_END,  0 },
	{ "path_len",  FETCH_PATH,     MATCH_LEN,  0 },
	{ "path_reg",  FETCH_PATH,     MATCH_REG,  0 },
	{ "path_sub",  FETCH_PATH,     MATCH_SUB,  0 },
	{ "req.hdr",   FETCH_HDR,      MATCH_STR,  1 },
	{ "req.hdr_cnt", FETCH_HDR_CNT, MATCH_INT, 1 },
	{ "req.ver",   FETCH_REQ_VER,  MATCH_STR,  0 },
	{ "req_ver",   FETCH_REQ_VER,  MATCH_STR,  0 },
	{ "res.hdr",   FETCH_RES_HDR,  MATCH_STR,  1 },
	{ "shdr",      FETCH_RES_HDR,  MATCH_STR,  1 },
	{ "src",       FETCH_SRC,      MATCH_IP,   0 },
	{ "status",    FETCH_STATUS,   MATCH_INT,  0 },
	{ "url",       FETCH_URL,      MATCH_STR,  0 },
	{ "url_beg",   FETCH_URL,      MATCH_BEG,  0 },
	{ "url_dir",   FETCH_URL,      MATCH_DIR,  0 },
	{ "url_dom",   FETCH_URL,      MATCH_DOM,  0 },
	{ "url_end",   FETCH_URL,      MATCH_END,  0 },
	{ "url_len",   FETCH_URL,      MATCH_LEN,  0 },
	{ "url_reg",   FETCH_URL,      MATCH_REG,  0 },
	{ "url_sub",   FETCH_URL,      MATCH_SUB,  0 },
};

static const struct kwtable fetch_table = KWTABLE("ACL fetches", fetch_kws);

static const struct match_name {
	const char *name;
	enum acl_match match;
} match_names[] = {
	{ "beg", MATCH_BEG }, { "bool", MATCH_BOOL }, { "dir", MATCH_DIR },
	{ "dom", MATCH_DOM }, { "end", MATCH_END }, { "found", MATCH_FOUND },
	{ "int", MATCH_INT }, { "ip", MATCH_IP }, { "len", MATCH_LEN },
	{ "reg", MATCH_REG }, { "str", MATCH_STR }, { "sub", MATCH_SUB },
};

/* ---- parsing ---- */

/* "lo", "lo:hi", "lo:", ":hi"; op (eq ge gt le lt) applies to a lone value. */
static int
parse_int_pattern(const char *s, const char *op, struct acl_pattern *pat)
{
	const char *colon = strchr(s, ':');
	char *end;
	long long v;

	pat->lo = LLONG_MIN;
	pat->hi = LLONG_MAX;
	if (colon != NULL) {
		if (colon != s) {
			errno = 0;
			pat->lo = strtoll(s, &end, 10);
			if (errno || end != colon)
				return -1;
		}
		if (colon[1] != '\0') {
			errno = 0;
			pat->hi = strtoll(colon + 1, &end, 10);
			if (errno || *end != '\0')
				return -1;
		}
		return colon == s && colon[1] == '\0' ? -1 : 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0')
		return -1;
	if (op == NULL || strcmp(op, "eq") == 0)
		pat->lo = pat->hi = v;
	else if (strcmp(op, "ge") == 0)
		pat->lo = v;
	else if (strcmp(op, "gt") == 0 && v == LLONG_MAX)
		pat->hi = LLONG_MIN;    /* an empty range: nothing is greater */
	else if (strcmp(op, "gt") == 0)
		pat->lo = v + 1;
	else if (strcmp(op, "le") == 0)
		pat->hi = v;
	else if (strcmp(op, "lt") == 0 && v == LLONG_MIN)
		pat->lo = LLONG_MAX;    /* an empty range: nothing is smaller */
	else if (strcmp(op, "lt") == 0)
		pat->hi = v - 1;
	return 0;
}

static int
is_int_operator(const char *s)
{
	return strcmp(s, "eq") == 0 || strcmp(s, "ge") == 0 ||
	    strcmp(s, "gt") == 0 || strcmp(s, "le") == 0 ||
	    strcmp(s, "lt") == 0;
}

/* -i applies to the patterns after it: each is compiled as it was then. */
static int
parse_regex(const char *word, int icase, struct acl_pattern *pat, char *err,
    size_t errlen)
{
	regex_t *re = malloc(sizeof(*re));

	if (re == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (aclregex_compile(re, word, icase, err, errlen) < 0) {
		free(re);
		return -1;
	}
	pat->re = re;
	return 0;
}

static int
parse_pattern(struct acl_expr *expr, const char *word, const char *op,
    struct acl_pattern *pat, char *err, size_t errlen)
{
	size_t len = strlen(word);

	memset(pat, 0, sizeof(*pat));
	switch (expr->match) {
	case MATCH_INT:
	case MATCH_LEN:
		if (parse_int_pattern(word, op, pat) < 0) {
			snprintf(err, errlen, "'%s' is not a number.", word);
			return -1;
		}
		return 0;
	case MATCH_IP:
		if (net_parse_network(word, &pat->net, &pat->prefix_len,
		    1) < 0) {
			snprintf(err, errlen, "'%s' is not a valid IPv4 or "
			    "IPv6 address.", word);
			return -1;
		}
		return 0;
	case MATCH_METH:
		pat->meth = acl_method_code(word, len);
		break;
	case MATCH_REG:
		return parse_regex(word, expr->icase, pat, err, errlen);
	case MATCH_DOM:
	case MATCH_DIR:
		/* "path_dir /api/" is "path_dir api" */
		while (len > 0 && acl_is_dom_delim(*word, expr->match)) {
			word++;
			len--;
		}
		while (len > 0 && acl_is_dom_delim(word[len - 1], expr->match))
			len--;
		break;
	default:
		break;
	}
	pat->str = strndup(word, len);
	if (pat->str == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pat->len = len;
	return 0;
}

static int
add_pattern(struct acl_expr *expr, const char *word, const char *op,
    char *err, size_t errlen)
{
	struct acl_pattern *pats;

	pats = reallocarray(expr->pats, (size_t)expr->npats + 1,
	    sizeof(*pats));
	if (pats == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	expr->pats = pats;
	if (parse_pattern(expr, word, op, &pats[expr->npats], err, errlen) < 0)
		return -1;
	expr->npats++;
	return 0;
}

/* -f FILE: one pattern per line; '#' in the first column is a comment. */
static int
add_patterns_from_file(struct acl_expr *expr, const char *path,
    char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	int rc = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "failed to open pattern file <%s>.", path);
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;
		if (*p == '#')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\r\n")] = '\0';
		if (*p != '\0')
			rc = add_pattern(expr, p, NULL, err, errlen);
	}
	fclose(fp);
	return rc;
}

/* ---- userlist references ---- */

/* Newest first; see acl_userlist_claim(). */
static struct acl_userlist_ref *userlist_refs;

/* http_auth(L): L is required and alone (2.6's argument errors); it is
 * resolved once the file is read (acl_userlist_pending()). */
static int
parse_userlist_arg(struct acl_expr *expr, const char *kw, const char *arg,
    char *err, size_t errlen)
{
	const char *comma = arg != NULL ? strchr(arg, ',') : NULL;

	if (arg == NULL) {
		snprintf(err, errlen, "ACL keyword '%s' : missing arguments "
		    "(got 0/1), type 'user list' expected.", kw);
		return -1;
	}
	if (comma != NULL) {
		snprintf(err, errlen, "ACL keyword '%s' : end of arguments "
		    "expected at position 2, but got '%s'.", kw, comma + 1);
		return -1;
	}
	expr->auth = calloc(1, sizeof(*expr->auth));
	if (expr->auth == NULL || (expr->auth->name = strdup(arg)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The line is complete: its patterns are the groups to check. */
static int
userlist_ref_add(struct acl_userlist_ref *ref, const struct acl *acl,
    const struct acl_expr *expr)
{
	ref->kw = expr->fetch == FETCH_AUTH ? "http_auth" : "http_auth_group";
	ref->pats = expr->pats;
	ref->npats = expr->npats;
	ref->match = expr->match;
	ref->acl_name = strdup(acl->name != NULL ? acl->name : "");
	if (ref->acl_name == NULL)
		return -1;
	ref->next = userlist_refs;
	if (ref->next != NULL)
		ref->next->prevp = &ref->next;
	ref->prevp = &userlist_refs;
	userlist_refs = ref;
	return 0;
}

static void
userlist_ref_free(struct acl_userlist_ref *ref)
{
	if (ref == NULL)
		return;
	if (ref->prevp != NULL) {
		*ref->prevp = ref->next;
		if (ref->next != NULL)
			ref->next->prevp = ref->prevp;
	}
	free(ref->name);
	free(ref->acl_name);
	free(ref->proxy);
	free(ref);
}

void
acl_userlist_claim(int line, const char *proxy)
{
	for (struct acl_userlist_ref *ref = userlist_refs;
	    ref != NULL && ref->line == 0; ref = ref->next) {
		ref->line = line;
		ref->proxy = strdup(proxy != NULL ? proxy : "");
	}
}

struct acl_userlist_ref *
acl_userlist_pending(void)
{
	return userlist_refs;
}

void
acl_userlist_done(void)
{
	while (userlist_refs != NULL) {
		struct acl_userlist_ref *next = userlist_refs->next;
		userlist_refs->next = NULL;
		userlist_refs->prevp = NULL;
		userlist_refs = next;
	}
}

/* sc0_conn_cur, src_http_req_rate(t)...: integers, but scN_tracked
 * (a boolean); whatever else is an unknown fetch. */
static int
parse_stk_fetch(const char *word, const char *base, const char *paren,
    struct acl_expr *expr, char *err, size_t errlen)
{
	char arg[256];
	size_t alen = paren != NULL ? strlen(paren + 1) : 0;
	int rc;

	if (paren != NULL && (alen == 0 || paren[alen] != ')' ||
	    alen - 1 >= sizeof(arg))) {
		snprintf(err, errlen, "invalid arguments in ACL expression "
		    "'%s'.", word);
		return -1;
	}
	if (paren != NULL) {
		memcpy(arg, paren + 1, alen - 1);
		arg[alen - 1] = '\0';
	}
	rc = stk_fetch_parse(base, paren != NULL ? arg : NULL, 1, &expr->stk,
	    err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(err, errlen, "unknown fetch method '%s' in ACL "
		    "expression '%s'.", base, word);
		return -1;
	}
	expr->fetch = FETCH_STK;
	expr->kw = "stick-table fetch";
	expr->match = expr->stk->what == SFW_TRACKED ? MATCH_BOOL : MATCH_INT;
	return 0;
}

/* "hdr_end(host)" -> keyword entry and header name. */
static int
parse_fetch(const char *word, struct acl_expr *expr, char *err,
    size_t errlen)
{
	char base[32], arg[256] = "";
	const char *paren = strchr(word, '(');
	size_t n = paren ? (size_t)(paren - word) : strlen(word);
	const struct fetch_kw *kw;

	if (n >= sizeof(base))
		n = sizeof(base) - 1;   /* too long to be a fetch: named cut */
	memcpy(base, word, n);
	base[n] = '\0';
	kw = kwtable_find(&fetch_table, base);
	if (kw == NULL)
		return parse_stk_fetch(word, base, paren, expr, err, errlen);
	if (paren != NULL) {
		size_t alen = strlen(paren + 1);
		if (!kw->takes_arg || alen == 0 || paren[alen] != ')' ||
		    alen - 1 >= sizeof(arg)) {
			snprintf(err, errlen, "invalid arguments in ACL "
			    "expression '%s'.", word);
			return -1;
		}
		memcpy(arg, paren + 1, alen - 1);
		arg[alen - 1] = '\0';
	}
	expr->fetch = kw->fetch;
	expr->kw = kw->name;
	expr->match = kw->match;
	if (kw->fetch == FETCH_AUTH || kw->fetch == FETCH_AUTH_GROUP)
		return parse_userlist_arg(expr, base, paren != NULL ? arg : NULL,
		    err, errlen);
	if (arg[0] != '\0') {
		char *comma = strchr(arg, ',');
		if (comma != NULL && kw->fetch != FETCH_HDR &&
		    kw->fetch != FETCH_RES_HDR) {
			snprintf(err, errlen, "'%s' takes no occurrence in "
			    "ACL expression '%s'.", base, word);
			return -1;
		}
		if (comma != NULL) {
			char *end;
			*comma = '\0';
			expr->hdr_occ = (int)strtol(comma + 1, &end, 10);
			if (*end != '\0' || comma[1] == '\0') {
				snprintf(err, errlen, "invalid occurrence in "
				    "ACL expression '%s'.", word);
				return -1;
			}
		}
		expr->hdr_name = strdup(arg);
		if (expr->hdr_name == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		expr->hdr_name_len = strlen(arg);
	}
	return 0;
}

static const struct kwtable match_table = KWTABLE("ACL match methods",
    match_names);

static int
parse_match_name(const char *name, enum acl_match *match)
{
	const struct match_name *m = kwtable_find(&match_table, name);

	if (m == NULL)
		return -1;
	*match = m->match;
	return 0;
}

/* Flags are only flags before the first pattern; "--" ends them. */
static int
parse_flags(struct acl_expr *expr, char **words, int nwords, int *i,
    char *err, size_t errlen)
{
	int file_seen = 0;

	while (*i < nwords && words[*i][0] == '-') {
		const char *w = words[*i];
		if (strcmp(w, "--") == 0) {
			(*i)++;
			return 0;
		} else if (strcmp(w, "-i") == 0) {
			expr->icase = 1;
		} else if (strcmp(w, "-m") == 0) {
			if (file_seen) {
				snprintf(err, errlen, "'-m' must only be "
				    "specified before patterns and files in "
				    "parsing ACL expression.");
				return -1;
			}
			if (++*i >= nwords || parse_match_name(words[*i],
			    &expr->match) < 0) {
				snprintf(err, errlen, "unknown matching method "
				    "'%s' when parsing ACL expression.",
				    *i < nwords ? words[*i] : "");
				return -1;
			}
		} else if (strcmp(w, "-f") == 0) {
			if (++*i >= nwords) {
				snprintf(err, errlen, "missing file name after "
				    "'-f'.");
				return -1;
			}
			if (add_patterns_from_file(expr, words[*i], err,
			    errlen) < 0)
				return -1;
			file_seen = 1;
		} else {
			snprintf(err, errlen, "'%s' is not a valid ACL option. "
			    "Please use '--' before any pattern beginning with "
			    "a '-'.", w);
			return -1;
		}
		(*i)++;
	}
	return 0;
}

static struct acl *
acl_lookup_in(struct acl *list, const char *name)
{
	for (; list != NULL; list = list->next)
		if (list->name != NULL && strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

static int
valid_acl_name(const char *name, char *err, size_t errlen)
{
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("-_.:", *p)) {
			snprintf(err, errlen, "character '%c' is not permitted "
			    "in acl name '%s'.", *p, name);
			return -1;
		}
	}
	return 0;
}

/* Parses one expression and appends it to acl. */
/* What one ACL line owns: its header name and its patterns. */
static void
expr_free(struct acl_expr *expr)
{
	for (int i = 0; i < expr->npats; i++) {
		free(expr->pats[i].str);
		if (expr->pats[i].re != NULL) {
			regfree(expr->pats[i].re);
			free(expr->pats[i].re);
		}
	}
	free(expr->pats);
	free(expr->hdr_name);
	userlist_ref_free(expr->auth);
	stk_fetch_free(expr->stk);
}

static int
acl_add_expr(struct acl *acl, char **words, int nwords, char *err,
    size_t errlen, char *warn, size_t warnlen)
{
	struct acl_expr expr, *exprs;
	const char *op = NULL;
	int i = 1;

	memset(&expr, 0, sizeof(expr));
	if (nwords < 1) {
		snprintf(err, errlen, "missing fetch method in ACL expression.");
		return -1;
	}
	if (parse_fetch(words[0], &expr, err, errlen) < 0 ||
	    parse_flags(&expr, words, nwords, &i, err, errlen) < 0)
		goto fail;
	if ((expr.match == MATCH_INT || expr.match == MATCH_LEN) &&
	    i < nwords && is_int_operator(words[i]))
		op = words[i++];
	for (; i < nwords; i++)
		if (add_pattern(&expr, words[i], op, err, errlen) < 0)
			goto fail;
	if (expr.npats == 0 && expr.match != MATCH_FOUND &&
	    expr.match != MATCH_BOOL &&
	    strcmp(words[nwords - 1], "--") != 0 && warn != NULL)
		snprintf(warn, warnlen, "parsing acl keyword '%s' : no pattern "
		    "to match against were provided, so this ACL will never "
		    "match. If this is what you intended, please add '--' to "
		    "get rid of this warning. If you intended to match only "
		    "for existence, please use '-m found'.", words[0]);
	exprs = reallocarray(acl->exprs, (size_t)acl->nexprs + 1,
	    sizeof(*exprs));
	if (exprs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	acl->exprs = exprs;
	if (expr.auth != NULL && userlist_ref_add(expr.auth, acl, &expr) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	exprs[acl->nexprs++] = expr;
	return 0;
fail:
	expr_free(&expr);
	return -1;
}

static struct acl *
acl_new(const char *name)
{
	struct acl *acl = calloc(1, sizeof(*acl));

	if (acl != NULL && name != NULL && (acl->name = strdup(name)) == NULL) {
		free(acl);
		return NULL;
	}
	return acl;
}

int
acl_parse(struct acl **list, const char *name, char **words, int nwords,
    char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct acl *acl;

	if (valid_acl_name(name, err, errlen) < 0)
		return -1;
	acl = acl_lookup_in(*list, name);
	if (acl == NULL) {
		struct acl **tail = list;
		if ((acl = acl_new(name)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = acl;
	}
	return acl_add_expr(acl, words, nwords, err, errlen, warn, warnlen);
}

/* ---- predefined ACLs ---- */

static const struct predefined_acl {
	const char *name;
	const char *expr;
} predefined_src[] = {
	{ "FALSE",          "always_false" },
	{ "HTTP",           "http" },
	{ "HTTP_1.0",       "req_ver 1.0" },
	{ "HTTP_1.1",       "req_ver 1.1" },
	{ "HTTP_CONTENT",   "content" },
	{ "HTTP_URL_ABS",   "url_reg ^[^/:]*://" },
	{ "HTTP_URL_SLASH", "url_beg /" },
	{ "HTTP_URL_STAR",  "url *" },
	{ "LOCALHOST",      "src 127.0.0.1/8 ::1" },
	{ "METH_CONNECT",   "method CONNECT" },
	{ "METH_DELETE",    "method DELETE" },
	{ "METH_GET",       "method GET HEAD" },
	{ "METH_HEAD",      "method HEAD" },
	{ "METH_OPTIONS",   "method OPTIONS" },
	{ "METH_POST",      "method POST" },
	{ "METH_PUT",       "method PUT" },
	{ "METH_TRACE",     "method TRACE" },
	{ "TRUE",           "always_true" },
};

/* Fetches without patterns that only predefined ACLs use. */
static const struct special_fetch {
	const char *name;
	enum acl_fetch fetch;
} special_fetches[] = {
	{ "always_false", FETCH_BOOL_FALSE },
	{ "always_true",  FETCH_BOOL_TRUE },
	{ "content",      FETCH_CONTENT },
	{ "http",         FETCH_HTTP },
};

static const struct kwtable predefined_table = KWTABLE("predefined ACLs",
    predefined_src);
static const struct kwtable special_table = KWTABLE("predefined ACL fetches",
    special_fetches);

static struct acl *predefined;

static int
predefined_special(struct acl_expr *expr, const char *word)
{
	const struct special_fetch *sf = kwtable_find(&special_table, word);

	if (sf == NULL)
		return 0;
	expr->fetch = sf->fetch;
	expr->kw = sf->name;
	expr->match = MATCH_BOOL;
	return 1;
}

static struct acl *
predefined_build(const char *name, const char *src)
{
	char buf[128], *words[8] = { NULL }, *save = NULL, err[256];
	int n = 0;
	struct acl *acl = acl_new(name);

	if (acl == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", src);
	for (char *w = strtok_r(buf, " ", &save); w && n < 8;
	    w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	acl->exprs = calloc(1, sizeof(*acl->exprs));
	if (acl->exprs == NULL || n == 0) {
		free(acl->exprs);
		free(acl);
		return NULL;
	}
	if (predefined_special(&acl->exprs[0], words[0])) {
		acl->nexprs = 1;
		return acl;
	}
	free(acl->exprs);
	acl->exprs = NULL;
	if (acl_add_expr(acl, words, n, err, sizeof(err), NULL, 0) < 0) {
		free(acl);
		return NULL;
	}
	return acl;
}

static struct acl *
predefined_lookup(const char *name)
{
	const struct predefined_acl *def = kwtable_find(&predefined_table, name);
	struct acl *acl;

	if (def == NULL)
		return NULL;
	acl = acl_lookup_in(predefined, name);
	if (acl == NULL) {
		acl = predefined_build(name, def->expr);
		if (acl == NULL)
			return NULL;
		acl->next = predefined;
		predefined = acl;
	}
	return acl;
}

int
acl_tables_check(char *err, size_t errlen)
{
	const struct kwtable *tables[] = { &fetch_table, &match_table,
	    &predefined_table, &special_table };

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (kwtable_check(tables[i], err, errlen) < 0)
			return -1;
	if (stk_fetch_tables_check(err, errlen) < 0)
		return -1;
	return aclregex_tables_check(err, errlen);
}

/* ---- conditions ---- */

static void acl_free_one(struct acl *acl);

static int
group_add_term(struct acl_group *g, struct acl *acl, int negate)
{
	struct acl_term *terms;

	terms = reallocarray(g->terms, (size_t)g->nterms + 1, sizeof(*terms));
	if (terms == NULL)
		return -1;
	g->terms = terms;
	terms[g->nterms].acl = acl;
	terms[g->nterms].negate = negate;
	g->nterms++;
	return 0;
}

static struct acl_group *
cond_add_group(struct acl_cond *cond)
{
	struct acl_group *groups;

	groups = reallocarray(cond->groups, (size_t)cond->ngroups + 1,
	    sizeof(*groups));
	if (groups == NULL)
		return NULL;
	cond->groups = groups;
	memset(&groups[cond->ngroups], 0, sizeof(groups[0]));
	return &groups[cond->ngroups++];
}

/* "{ fetch [flags] patterns }" starting at words[*i] == "{". */
static struct acl *
parse_anonymous(char **words, int nwords, int *i, char *err, size_t errlen)
{
	int start = *i + 1, end = start;
	struct acl *acl;

	while (end < nwords && strcmp(words[end], "}") != 0)
		end++;
	if (end >= nwords) {
		snprintf(err, errlen, "missing closing '}' in condition.");
		return NULL;
	}
	if ((acl = acl_new(NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (acl_add_expr(acl, words + start, end - start, err, errlen,
	    NULL, 0) < 0) {
		free(acl);
		return NULL;
	}
	*i = end;
	return acl;
}

struct acl_cond *
acl_cond_parse(struct acl **list, char **words, int nwords, char *err,
    size_t errlen)
{
	struct acl_cond *cond = calloc(1, sizeof(*cond));
	struct acl_group *group;

	if (cond == NULL || (group = cond_add_group(cond)) == NULL)
		goto oom;
	if (nwords < 1 || (strcmp(words[0], "if") != 0 &&
	    strcmp(words[0], "unless") != 0)) {
		snprintf(err, errlen, "expects 'if' or 'unless' followed by "
		    "a condition.");
		goto fail;
	}
	cond->unless = strcmp(words[0], "unless") == 0;
	for (int i = 1; i < nwords; i++) {
		const char *w = words[i];
		int negate = 0;
		struct acl *acl;

		if (strcmp(w, "||") == 0 || strcmp(w, "or") == 0) {
			if (group->nterms == 0)
				goto empty;
			if ((group = cond_add_group(cond)) == NULL)
				goto oom;
			continue;
		}
		while (*w == '!') {
			negate = !negate;
			w++;
		}
		if (*w == '\0') {
			if (++i >= nwords)
				goto empty;
			w = words[i];
		}
		if (strcmp(w, "{") == 0) {
			acl = parse_anonymous(words, nwords, &i, err, errlen);
			if (acl == NULL)
				goto fail;
		} else {
			acl = acl_lookup_in(*list, w);
			if (acl == NULL)
				acl = predefined_lookup(w);
			if (acl == NULL) {
				snprintf(err, errlen, "no such ACL : '%s'.", w);
				goto fail;
			}
		}
		if (group_add_term(group, acl, negate) < 0) {
			if (acl->name == NULL)
				acl_free_one(acl);
			goto oom;
		}
	}
	if (group->nterms == 0)
		goto empty;
	return cond;
empty:
	snprintf(err, errlen, "missing ACL name in condition.");
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	acl_cond_free(cond);
	return NULL;
}

/* ---- freeing ---- */

static void
acl_free_one(struct acl *acl)
{
	for (int i = 0; i < acl->nexprs; i++)
		expr_free(&acl->exprs[i]);
	free(acl->exprs);
	free(acl->name);
	free(acl);
}

void
acl_free_list(struct acl *list)
{
	while (list != NULL) {
		struct acl *next = list->next;
		acl_free_one(list);
		list = next;
	}
}

void
acl_cond_free(struct acl_cond *cond)
{
	if (cond == NULL)
		return;
	for (int i = 0; i < cond->ngroups; i++) {
		struct acl_group *g = &cond->groups[i];
		/* an anonymous ACL belongs to its one term; named ones to
		 * their proxy's list or to the predefined cache */
		for (int j = 0; j < g->nterms; j++)
			if (g->terms[j].acl->name == NULL)
				acl_free_one(g->terms[j].acl);
		free(g->terms);
	}
	free(cond->groups);
	free(cond);
}
