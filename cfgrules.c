/*
 * cfgrules.c - "http-request" and "http-response" lines (reference
 * 10.1, 10.3, 10.4, 10.8), and freeing any proxy's rule lists.
 */
#define _GNU_SOURCE
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "rules.h"

static void
return_free(struct rule_return *ret)
{
	if (ret == NULL)
		return;
	free(ret->content_type);
	logfmt_free(ret->body);
	if (ret->owned != NULL)
		free(ret->owned->data);
	free(ret->owned);
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
	}
	free(list->rules);
	list->rules = NULL;
	list->n = 0;
}
