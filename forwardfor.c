/*
 * forwardfor.c - "option forwardfor [except NET] [header NAME] [if-none]"
 * on a frontend, a backend, or both, combined as HAProxy does: either
 * one adds the header, "except" on either one vetoes it, the backend's
 * header name wins, and if-none holds only if every proxy that asks for
 * the header says it.
 */
#define _GNU_SOURCE
#include <string.h>

#include "acl.h"
#include "forwardfor.h"
#include "match.h"
#include "net.h"

#define XFF_DEFAULT_NAME "X-Forwarded-For"

/* px asks for the header, and src is not in its "except" network. */
static int
xff_applies(const struct proxy *px, const struct sockaddr_storage *src)
{
	struct acl_input in = { NULL, src, 0, NULL, NULL };
	struct acl_pattern pat;
	struct acl_expr expr;

	if (!(px->options & OPT_FORWARDFOR))
		return 0;
	if (px->xff_except_len < 0)
		return 1;
	/* "except NET": reuse the ACL's address matching. */
	memset(&expr, 0, sizeof(expr));
	memset(&pat, 0, sizeof(pat));
	pat.net = px->xff_except;
	pat.prefix_len = px->xff_except_len;
	expr.fetch = FETCH_SRC;
	expr.match = MATCH_IP;
	expr.pats = &pat;
	expr.npats = 1;
	struct acl acl = { NULL, &expr, 1, NULL };
	struct acl_term term = { &acl, 0 };
	struct acl_group group = { &term, 1 };
	struct acl_cond cond = { 0, &group, 1 };
	return !acl_cond_eval(&cond, &in);
}

void
forwardfor_header(const struct proxy *fe, const struct proxy *be,
    const struct http_msg *req, const struct sockaddr_storage *src,
    struct http_fwd_opts *opts, char *ip, size_t iplen)
{
	int fe_on = (fe->options & OPT_FORWARDFOR) != 0;
	int be_on = be != fe && (be->options & OPT_FORWARDFOR) != 0;
	int if_none = 1, idx = 0;
	const char *name;

	if (!fe_on && !be_on)
		return;
	if ((fe_on && !xff_applies(fe, src)) ||
	    (be_on && !xff_applies(be, src)) ||
	    (src->ss_family != AF_INET && src->ss_family != AF_INET6))
		return;
	name = be_on && be->xff_header ? be->xff_header :
	    fe_on && fe->xff_header ? fe->xff_header : XFF_DEFAULT_NAME;
	if (fe_on)
		if_none &= (fe->options & OPT_XFF_IFNONE) != 0;
	if (be_on)
		if_none &= (be->options & OPT_XFF_IFNONE) != 0;
	if (if_none && http_hdr_find(req, name, strlen(name), &idx) != NULL)
		return;
	net_ntop(src, ip, iplen);
	opts->xff_name = name;
	opts->xff_value = ip;
}
