/*
 * logfmt.c - log-format values (logfmt.h). Placeholder: literal text
 * only; %-expressions are refused until the parser lands.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfmt.h"

struct logfmt {
	char *text;
	size_t len;
};

struct logfmt *
logfmt_parse(const char *text, char *err, size_t errlen)
{
	struct logfmt *f;

	if (strchr(text, '%') != NULL) {
		snprintf(err, errlen, "value formats are not supported yet.");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->text = strdup(text)) == NULL) {
		free(f);
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	f->len = strlen(text);
	return f;
}

ssize_t
logfmt_expand(const struct logfmt *f, const struct lf_input *in, char *out,
    size_t cap)
{
	(void)in;
	if (f->len > cap)
		return -1;
	memcpy(out, f->text, f->len);
	return (ssize_t)f->len;
}

const char *
logfmt_literal(const struct logfmt *f)
{
	return f->text;
}

void
logfmt_free(struct logfmt *f)
{
	if (f != NULL)
		free(f->text);
	free(f);
}
