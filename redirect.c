/*
 * redirect.c - redirect rules (redirect.h). Placeholder until the
 * builder lands: every redirect is refused at load.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "redirect.h"

int
redirect_parse(struct redirect *r, char **w, int n, int logformat,
    int *used, char *err, size_t errlen)
{
	(void)r; (void)w; (void)n; (void)logformat;
	*used = 0;
	snprintf(err, errlen, "redirect rules are not supported yet.");
	return -1;
}

int
redirect_build(const struct redirect *r, const struct lf_input *in,
    char *buf, size_t cap, struct reply *out)
{
	(void)r; (void)in; (void)buf; (void)cap; (void)out;
	return -1;
}

void
redirect_free(struct redirect *r)
{
	if (r == NULL)
		return;
	logfmt_free(r->target);
	free(r->set_cookie);
	free(r->clear_cookie);
	free(r);
}
