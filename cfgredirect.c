/*
 * cfgredirect.c - "redirect" lines (reference 10.5) in frontend, listen
 * and backend sections: the rule's words (redirect.c) and its condition
 * into the proxy's redirect list, with 2.6's messages; and what is
 * checked once every section is read.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "rules.h"

static int
redirect_fail(struct parser *p, const struct proxy *px, struct redirect *r,
    const char *err)
{
	redirect_free(r);
	p_err(p, "error detected in %s '%s' while parsing redirect rule : %s",
	    px->kind, px->name, err);
	return -1;
}

/* "if|unless COND" after the rule's words, if any; -1 with err set. */
static int
parse_cond(struct proxy *px, char **w, int n, struct acl_cond **cond,
    char *err, size_t errlen)
{
	char cond_err[480];

	*cond = NULL;
	/* an empty word ends the line for 2.6 */
	if (n == 0 || w[0][0] == '\0')
		return 0;
	*cond = acl_cond_parse(&px->acls, w, n, cond_err, sizeof(cond_err));
	if (*cond == NULL) {
		snprintf(err, errlen, "error in condition: %s", cond_err);
		return -1;
	}
	return 0;
}

int
redirect_rule_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	struct redirect *r = xcalloc(1, sizeof(*r));
	struct acl_cond *cond = NULL;
	struct rule *rule;
	char err[512], cond_err[512];
	int used = -1, failed;

	failed = redirect_parse(r, w + 1, n - 1, 0, &used, err, sizeof(err));
	/* 2.6 reads the condition as it meets it: once the words before
	 * it are good, its errors come before the rule's own checks */
	if (used >= 0 && parse_cond(px, w + 1 + used, n - 1 - used, &cond,
	    cond_err, sizeof(cond_err)) < 0)
		return redirect_fail(p, px, r, cond_err);
	if (failed < 0) {
		acl_cond_free(cond);
		return redirect_fail(p, px, r, err);
	}
	if (px->nrules > 0)
		p_warn(p, "a 'redirect' rule placed after a 'use_backend' rule "
		    "will still be processed before.");
	rule = grow(&px->redirects.rules, &px->redirects.n, sizeof(*rule));
	rule->action = ACT_REDIRECT;
	rule->cond = cond;
	rule->line = p->line;
	rule->redirect = r;
	return 0;
}

void
redirect_check(struct parser *p, const struct proxy *px)
{
	if (px->mode == MODE_TCP && px->redirects.n > 0)
		p_warn_at(p, px->redirects.rules[0].line, "tcp %s '%s': "
		    "'redirect' has no effect in tcp mode.", px->kind,
		    px->name);
}
