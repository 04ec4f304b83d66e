/*
 * acl.c - HAProxy ACLs: parsing "acl" lines and conditions, fetching
 * samples from a request, and matching them against patterns.
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
#include "kwtable.h"

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
	{ "hdr_sub",   FETCH_HDR,      MATCH_SUB,  1 },
	{ "method",    FETCH_METHOD,   MATCH_METH, 0 },
	{ "path",      FETCH_PATH,     MATCH_STR,  0 },
	{ "path_beg",  FETCH_PATH,     MATCH_BEG,  0 },
	{ "path_dir",  FETCH_PATH,     MATCH_DIR,  0 },
	{ "path_dom",  FETCH_PATH,     MATCH_DOM,  0 },
	{ "path_end",  FETCH_PATH,     MATCH_END,  0 },
	{ "path_len",  FETCH_PATH,     MATCH_LEN,  0 },
	{ "path_sub",  FETCH_PATH,     MATCH_SUB,  0 },
	{ "req.hdr",   FETCH_HDR,      MATCH_STR,  1 },
	{ "req.hdr_cnt", FETCH_HDR_CNT, MATCH_INT, 1 },
	{ "req.ver",   FETCH_REQ_VER,  MATCH_STR,  0 },
	{ "req_ver",   FETCH_REQ_VER,  MATCH_STR,  0 },
	{ "src",       FETCH_SRC,      MATCH_IP,   0 },
	{ "url",       FETCH_URL,      MATCH_STR,  0 },
	{ "url_beg",   FETCH_URL,      MATCH_BEG,  0 },
	{ "url_dir",   FETCH_URL,      MATCH_DIR,  0 },
	{ "url_dom",   FETCH_URL,      MATCH_DOM,  0 },
	{ "url_end",   FETCH_URL,      MATCH_END,  0 },
	{ "url_len",   FETCH_URL,      MATCH_LEN,  0 },
	{ "url_sub",   FETCH_URL,      MATCH_SUB,  0 },
};

static const struct kwtable fetch_table = KWTABLE("ACL fetches", fetch_kws);

int
acl_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&fetch_table, err, errlen);
}

static const struct {
	const char *name;
	enum acl_match match;
} match_names[] = {
	{ "beg", MATCH_BEG }, { "bool", MATCH_BOOL }, { "dir", MATCH_DIR },
	{ "dom", MATCH_DOM }, { "end", MATCH_END }, { "found", MATCH_FOUND },
	{ "int", MATCH_INT }, { "ip", MATCH_IP }, { "len", MATCH_LEN },
	{ "str", MATCH_STR }, { "sub", MATCH_SUB },
};

/* The eight methods HAProxy compares as codes, case-sensitively. */
static const char *const method_codes[] = {
	"", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE",
	"CONNECT"
};

static int
method_code(const char *s, size_t len)
{
	for (int i = 1; i < (int)(sizeof(method_codes) /
	    sizeof(method_codes[0])); i++)
		if (strlen(method_codes[i]) == len &&
		    memcmp(method_codes[i], s, len) == 0)
			return i;
	return 0;
}

/* ---- parsing ---- */

static int
is_dom_delim(char c, enum acl_match m)
{
	if (c == '/' || c == '?')
		return 1;
	return m == MATCH_DOM && (c == '.' || c == ':');
}

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
		pat->meth = method_code(word, len);
		break;
	case MATCH_DOM:
	case MATCH_DIR:
		/* "path_dir /api/" is "path_dir api" */
		while (len > 0 && is_dom_delim(*word, expr->match)) {
			word++;
			len--;
		}
		while (len > 0 && is_dom_delim(word[len - 1], expr->match))
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
		goto unknown;
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
	expr->match = kw->match;
	if (arg[0] != '\0') {
		char *comma = strchr(arg, ',');
		if (comma != NULL && kw->fetch != FETCH_HDR) {
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
unknown:
	snprintf(err, errlen, "unknown fetch method '%s' in ACL expression "
	    "'%s'.", base, word);
	return -1;
}

static int
parse_match_name(const char *name, enum acl_match *match)
{
	for (size_t i = 0; i < sizeof(match_names) / sizeof(match_names[0]);
	    i++) {
		if (strcmp(match_names[i].name, name) == 0) {
			*match = match_names[i].match;
			return 0;
		}
	}
	return -1;
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
	if (parse_fetch(words[0], &expr, err, errlen) < 0)
		return -1;
	if (parse_flags(&expr, words, nwords, &i, err, errlen) < 0)
		return -1;
	if ((expr.match == MATCH_INT || expr.match == MATCH_LEN) &&
	    i < nwords && is_int_operator(words[i]))
		op = words[i++];
	for (; i < nwords; i++)
		if (add_pattern(&expr, words[i], op, err, errlen) < 0)
			return -1;
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
		free(expr.hdr_name);
		free(expr.pats);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	acl->exprs = exprs;
	exprs[acl->nexprs++] = expr;
	return 0;
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

static const struct {
	const char *name;
	const char *expr;
} predefined_src[] = {
	{ "FALSE",          "always_false" },
	{ "HTTP",           "http" },
	{ "HTTP_1.0",       "req_ver 1.0" },
	{ "HTTP_1.1",       "req_ver 1.1" },
	{ "HTTP_CONTENT",   "content" },
	{ "HTTP_URL_ABS",   "url_abs" },
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

static struct acl *predefined;

/* Fetches without patterns that only predefined ACLs use. */
static int
predefined_special(struct acl_expr *expr, const char *word)
{
	static const struct {
		const char *word;
		enum acl_fetch fetch;
	} specials[] = {
		{ "always_true", FETCH_BOOL_TRUE },
		{ "always_false", FETCH_BOOL_FALSE },
		{ "http", FETCH_HTTP },
		{ "content", FETCH_CONTENT },
		{ "url_abs", FETCH_URL_ABS },
	};
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		if (strcmp(specials[i].word, word) == 0) {
			expr->fetch = specials[i].fetch;
			expr->match = MATCH_BOOL;
			return 1;
		}
	}
	return 0;
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
	for (size_t i = 0; i < sizeof(predefined_src) /
	    sizeof(predefined_src[0]); i++) {
		if (strcmp(predefined_src[i].name, name) != 0)
			continue;
		struct acl *acl = acl_lookup_in(predefined, name);
		if (acl == NULL) {
			acl = predefined_build(name, predefined_src[i].expr);
			if (acl == NULL)
				return NULL;
			acl->next = predefined;
			predefined = acl;
		}
		return acl;
	}
	return NULL;
}

/* ---- conditions ---- */

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
		return NULL;
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
				return NULL;
		} else {
			acl = acl_lookup_in(*list, w);
			if (acl == NULL)
				acl = predefined_lookup(w);
			if (acl == NULL) {
				snprintf(err, errlen, "no such ACL : '%s'.", w);
				return NULL;
			}
		}
		if (group_add_term(group, acl, negate) < 0)
			goto oom;
	}
	if (group->nterms == 0)
		goto empty;
	return cond;
empty:
	snprintf(err, errlen, "missing ACL name in condition.");
	return NULL;
oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* ---- matching ---- */

enum sample_type { SMP_STR, SMP_INT, SMP_IP, SMP_BOOL };

struct sample {
	enum sample_type type;
	const char *str;
	size_t len;
	long long num;
	const struct sockaddr_storage *ip;
	int meth;
};

static int
str_eq(const char *a, const char *b, size_t n, int icase)
{
	return icase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

/* dom/dir: pattern must sit between delimiters (or the sample's ends). */
static int
match_delimited(const char *s, size_t slen, const struct acl_pattern *pat,
    enum acl_match m, int icase)
{
	if (pat->len == 0 || pat->len > slen)
		return 0;
	for (size_t i = 0; i + pat->len <= slen; i++) {
		if (i > 0 && !is_dom_delim(s[i - 1], m))
			continue;
		if (i + pat->len < slen && !is_dom_delim(s[i + pat->len], m))
			continue;
		if (str_eq(s + i, pat->str, pat->len, icase))
			return 1;
	}
	return 0;
}

static int
match_sub(const char *s, size_t slen, const struct acl_pattern *pat,
    int icase)
{
	for (size_t i = 0; i + pat->len <= slen; i++)
		if (str_eq(s + i, pat->str, pat->len, icase))
			return 1;
	return 0;
}

static int
match_string(const struct sample *smp, const struct acl_pattern *pat,
    enum acl_match m, int icase)
{
	const char *s = smp->str;
	size_t n = smp->len;

	switch (m) {
	case MATCH_STR:
		return n == pat->len && str_eq(s, pat->str, n, icase);
	case MATCH_BEG:
		return n >= pat->len && str_eq(s, pat->str, pat->len, icase);
	case MATCH_END:
		return n >= pat->len &&
		    str_eq(s + n - pat->len, pat->str, pat->len, icase);
	case MATCH_SUB:
		return match_sub(s, n, pat, icase);
	case MATCH_DOM:
	case MATCH_DIR:
		return match_delimited(s, n, pat, m, icase);
	default:
		return 0;
	}
}

/* Both in IPv6 form; IPv4 is mapped to ::ffff:a.b.c.d. */
static void
ip_to_v6(const struct sockaddr_storage *ss, unsigned char out[16])
{
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

/* The IPv4 address an IPv6 client address carries, if any. */
static int
ip_embedded_v4(const unsigned char a[16], unsigned char v4[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	static const unsigned char compat[12] = { 0 };

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, compat, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {     /* 6to4: 2002:a.b.c.d:: */
		memcpy(v4, a + 2, 4);
		return 1;
	}
	return 0;
}

static int
prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static int
match_ip(const struct sockaddr_storage *client, const struct acl_pattern *pat)
{
	unsigned char c6[16], p6[16], v4[4];

	if (client->ss_family != AF_INET && client->ss_family != AF_INET6)
		return 0;
	if (pat->net.ss.ss_family == AF_INET) {
		const unsigned char *p = (const unsigned char *)
		    &((const struct sockaddr_in *)&pat->net.ss)->sin_addr;
		if (client->ss_family == AF_INET)
			return prefix_equal((const unsigned char *)
			    &((const struct sockaddr_in *)client)->sin_addr,
			    p, pat->prefix_len);
		ip_to_v6(client, c6);
		return ip_embedded_v4(c6, v4) &&
		    prefix_equal(v4, p, pat->prefix_len);
	}
	ip_to_v6(client, c6);
	ip_to_v6(&pat->net.ss, p6);
	return prefix_equal(c6, p6, pat->prefix_len);
}

/* Converts a sample for a match method of another type. */
static int
sample_as_int(const struct sample *smp, enum acl_match m, long long *v)
{
	if (m == MATCH_LEN) {
		if (smp->type != SMP_STR)
			return 0;
		*v = (long long)smp->len;
		return 1;
	}
	if (smp->type == SMP_INT || smp->type == SMP_BOOL) {
		*v = smp->num;
		return 1;
	}
	if (smp->type == SMP_STR) {
		char buf[32];
		char *end;
		if (smp->len == 0 || smp->len >= sizeof(buf))
			return 0;
		memcpy(buf, smp->str, smp->len);
		buf[smp->len] = '\0';
		*v = strtoll(buf, &end, 10);
		return *end == '\0';
	}
	return 0;
}

static int
match_one(const struct acl_expr *expr, const struct sample *smp,
    const struct acl_pattern *pat)
{
	long long v;

	switch (expr->match) {
	case MATCH_INT:
	case MATCH_LEN:
		return sample_as_int(smp, expr->match, &v) &&
		    v >= pat->lo && v <= pat->hi;
	case MATCH_IP:
		if (smp->type == SMP_IP)
			return match_ip(smp->ip, pat);
		if (smp->type == SMP_STR) {
			struct net_addr a;
			char buf[64];
			int plen;
			if (smp->len >= sizeof(buf))
				return 0;
			memcpy(buf, smp->str, smp->len);
			buf[smp->len] = '\0';
			return net_parse_network(buf, &a, &plen, 0) == 0 &&
			    match_ip(&a.ss, pat);
		}
		return 0;
	case MATCH_METH:
		if (pat->meth != 0 || smp->meth != 0)
			return pat->meth == smp->meth;
		return match_string(smp, pat, MATCH_STR, expr->icase);
	default:
		if (smp->type != SMP_STR)
			return 0;
		return match_string(smp, pat, expr->match, expr->icase);
	}
}

/* A sample matches if any pattern matches it. */
static int
match_sample(const struct acl_expr *expr, const struct sample *smp)
{
	if (expr->match == MATCH_FOUND)
		return 1;
	if (expr->match == MATCH_BOOL)
		return smp->num != 0;
	for (int i = 0; i < expr->npats; i++)
		if (match_one(expr, smp, &expr->pats[i]))
			return 1;
	return 0;
}

static int
hdr_selected(const struct acl_expr *expr, const struct http_hdr *h)
{
	return expr->hdr_name == NULL || (h->name_len == expr->hdr_name_len &&
	    strncasecmp(h->name, expr->hdr_name, h->name_len) == 0);
}

/* Number of comma-separated elements over all selected headers. */
static int
hdr_count(const struct acl_expr *expr, const struct http_msg *req)
{
	int count = 0;

	for (int i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &req->hdrs[i];
		size_t pos = 0, n;
		const char *e;
		if (!hdr_selected(expr, h))
			continue;
		while (http_value_next(h->value, h->value_len, &pos, &e, &n))
			count++;
	}
	return count;
}

/* hdr*(): every element of every occurrence, or only the OCCth one. */
static int
eval_hdr(const struct acl_expr *expr, const struct http_msg *req)
{
	int total = expr->hdr_occ ? hdr_count(expr, req) : 0;
	int want = expr->hdr_occ > 0 ? expr->hdr_occ :
	    total + expr->hdr_occ + 1;
	int index = 0;

	for (int i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &req->hdrs[i];
		size_t pos = 0;
		struct sample smp = { .type = SMP_STR };
		if (!hdr_selected(expr, h))
			continue;
		while (http_value_next(h->value, h->value_len, &pos,
		    &smp.str, &smp.len)) {
			index++;
			if (expr->hdr_occ && index != want)
				continue;
			if (match_sample(expr, &smp))
				return 1;
		}
	}
	return 0;
}

static int
eval_expr(const struct acl_expr *expr, const struct acl_input *in)
{
	const struct http_msg *req = in->req;
	struct sample smp = { .type = SMP_STR };

	switch (expr->fetch) {
	case FETCH_BOOL_TRUE:
		return 1;
	case FETCH_BOOL_FALSE:
		return 0;
	case FETCH_HTTP:
		return req != NULL;
	case FETCH_SRC:
		/* no address (pipes, UNIX sockets): no sample, not even found */
		if (in->src == NULL || (in->src->ss_family != AF_INET &&
		    in->src->ss_family != AF_INET6))
			return 0;
		smp.type = SMP_IP;
		smp.ip = in->src;
		return match_sample(expr, &smp);
	case FETCH_DST_PORT:
		smp.type = SMP_INT;
		smp.num = in->dst_port;
		return match_sample(expr, &smp);
	default:
		break;
	}
	if (req == NULL)
		return 0;       /* HTTP fetches find nothing in tcp mode */
	switch (expr->fetch) {
	case FETCH_HDR:
		return eval_hdr(expr, req);
	case FETCH_HDR_CNT:
		smp.type = SMP_INT;
		smp.num = hdr_count(expr, req);
		return match_sample(expr, &smp);
	case FETCH_PATH:
		http_req_path(req, &smp.str, &smp.len);
		return match_sample(expr, &smp);
	case FETCH_URL:
		smp.str = req->uri;
		smp.len = req->uri_len;
		return match_sample(expr, &smp);
	case FETCH_METHOD:
		smp.str = req->method;
		smp.len = req->method_len;
		smp.meth = method_code(req->method, req->method_len);
		return match_sample(expr, &smp);
	case FETCH_REQ_VER:
		smp.str = req->vminor ? "1.1" : "1.0";
		smp.len = 3;
		return match_sample(expr, &smp);
	case FETCH_URL_ABS:
		return req->uri_len > 0 && req->uri[0] != '/' &&
		    memmem(req->uri, req->uri_len, "://", 3) != NULL;
	case FETCH_CONTENT:
		return req->body != BODY_NONE;
	default:
		return 0;
	}
}

static int
acl_match(const struct acl *acl, const struct acl_input *in)
{
	for (int i = 0; i < acl->nexprs; i++)
		if (eval_expr(&acl->exprs[i], in))
			return 1;
	return 0;
}

int
acl_cond_eval(const struct acl_cond *cond, const struct acl_input *in)
{
	int result = 0;

	for (int g = 0; g < cond->ngroups && !result; g++) {
		const struct acl_group *group = &cond->groups[g];
		int all = 1;
		for (int t = 0; t < group->nterms && all; t++) {
			const struct acl_term *term = &group->terms[t];
			all = acl_match(term->acl, in) != term->negate;
		}
		result = all;
	}
	return cond->unless ? !result : result;
}

int
acl_cond_needs_http(const struct acl_cond *cond)
{
	for (int g = 0; g < cond->ngroups; g++) {
		const struct acl_group *group = &cond->groups[g];
		for (int t = 0; t < group->nterms; t++) {
			const struct acl *acl = group->terms[t].acl;
			for (int e = 0; e < acl->nexprs; e++) {
				enum acl_fetch f = acl->exprs[e].fetch;
				if (f != FETCH_SRC && f != FETCH_DST_PORT &&
				    f != FETCH_BOOL_TRUE &&
				    f != FETCH_BOOL_FALSE)
					return 1;
			}
		}
	}
	return 0;
}

/* ---- freeing ---- */

static void
acl_free_one(struct acl *acl)
{
	for (int i = 0; i < acl->nexprs; i++) {
		struct acl_expr *expr = &acl->exprs[i];
		for (int j = 0; j < expr->npats; j++)
			free(expr->pats[j].str);
		free(expr->pats);
		free(expr->hdr_name);
	}
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
