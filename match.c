/*
 * match.c - evaluating ACL conditions: fetching a sample from the request
 * or the connection (a header, the path, the source address...), and
 * matching it against an ACL's patterns with its method (str, beg, dom,
 * ip, int...). The parsed form these walk is acl.c's (acl.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "aclregex.h"
#include "match.h"
#include "userlist.h"

/* The eight methods HAProxy compares as codes, case-sensitively. */
static const char *const method_codes[] = {
	"", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE",
	"CONNECT"
};

int
acl_method_code(const char *s, size_t len)
{
	for (int i = 1; i < (int)(sizeof(method_codes) /
	    sizeof(method_codes[0])); i++)
		if (strlen(method_codes[i]) == len &&
		    memcmp(method_codes[i], s, len) == 0)
			return i;
	return 0;
}

/* dom/dir patterns: the characters that delimit a component. */
int
acl_is_dom_delim(char c, enum acl_match m)
{
	if (c == '/' || c == '?')
		return 1;
	return m == MATCH_DOM && (c == '.' || c == ':');
}

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
		if (i > 0 && !acl_is_dom_delim(s[i - 1], m))
			continue;
		if (i + pat->len < slen && !acl_is_dom_delim(s[i + pat->len], m))
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
	case MATCH_REG:
		return smp->type == SMP_STR &&
		    aclregex_match(pat->re, smp->str, smp->len);
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

/* http_auth_group(L) G...: an authenticated user of L in one of the
 * groups; with another match method (-m str...), the user's name. */
static int
eval_auth_group(const struct acl_expr *expr, const struct http_msg *req)
{
	const struct userlist *ul = expr->auth->ul;
	const struct user *user;
	struct sample smp = { .type = SMP_STR };

	if (!userlist_authenticate(ul, req, &user))
		return 0;
	if (expr->match != MATCH_AUTH) {
		smp.str = user->name;
		smp.len = strlen(user->name);
		return match_sample(expr, &smp);
	}
	for (int i = 0; i < expr->npats; i++)
		if (userlist_in_group(ul, user, expr->pats[i].str))
			return 1;
	return 0;
}

/* sc*_, src_*, table_*: an integer (scN_tracked a boolean); no value
 * (not tracked, not stored) matches nothing, as in 2.6. */
static int
eval_stk(const struct acl_expr *expr, const struct acl_input *in)
{
	struct sample smp = { .type = SMP_INT };

	if (!track_fetch(expr->stk, in->trk, in->src, &smp.num))
		return 0;
	if (expr->stk->what == SFW_TRACKED)
		smp.type = SMP_BOOL;
	return match_sample(expr, &smp);
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
		return req != NULL || in->resp != NULL;
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
	case FETCH_STATUS:
		if (in->resp == NULL)
			return 0;
		smp.type = SMP_INT;
		smp.num = in->resp->status;
		return match_sample(expr, &smp);
	case FETCH_RES_HDR:
		return in->resp != NULL && eval_hdr(expr, in->resp);
	case FETCH_STK:
		return eval_stk(expr, in);
	case FETCH_HDR:
		if (in->resp != NULL)   /* hdr() in a response rule */
			return eval_hdr(expr, in->resp);
		break;
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
		smp.meth = acl_method_code(req->method, req->method_len);
		return match_sample(expr, &smp);
	case FETCH_REQ_VER:
		smp.str = req->vminor ? "1.1" : "1.0";
		smp.len = 3;
		return match_sample(expr, &smp);
	case FETCH_CONTENT:
		return req->body != BODY_NONE;
	case FETCH_AUTH:
		/* no sample unless authenticated: "-m found" must not hold
		 * for any credentials (in 2.6 it does, for any Basic ones) */
		if (!userlist_check(expr->auth->ul, req))
			return 0;
		smp.type = SMP_BOOL;
		smp.num = 1;
		return match_sample(expr, &smp);
	case FETCH_AUTH_GROUP:
		return eval_auth_group(expr, req);
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
				    f != FETCH_BOOL_FALSE && f != FETCH_STK)
					return 1;
			}
		}
	}
	return 0;
}
