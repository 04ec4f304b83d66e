/*
 * capture.c - header captures for the httplog line, as HAProxy 2.6 keeps
 * them: per configured header the value of its last occurrence (the
 * whole line value, not split on commas), cut to the configured length.
 * The slots are allocated once per connection, after the fork; the
 * escaping belongs to the log line (accesslog.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture.h"
#include "log.h"

void
capture_init(struct captured *c, const struct capture *defs, int n,
    size_t max)
{
	size_t total = 0;

	memset(c, 0, sizeof(*c));
	if (n == 0)
		return;
	c->off = calloc((size_t)n, sizeof(*c->off));
	c->len = calloc((size_t)n, sizeof(*c->len));
	c->cap = calloc((size_t)n, sizeof(*c->cap));
	if (c->off == NULL || c->len == NULL || c->cap == NULL)
		fatal("capture allocation");
	for (int i = 0; i < n; i++) {
		c->off[i] = total;
		c->cap[i] = defs[i].len < max ? defs[i].len : max;
		total += c->cap[i];
	}
	c->data = malloc(total + 1);
	if (c->data == NULL)
		fatal("capture allocation");
	c->n = n;
}

void
capture_reset(struct captured *c)
{
	for (int i = 0; i < c->n; i++)
		c->len[i] = 0;
}

void
capture_headers(struct captured *c, const struct capture *defs,
    const struct http_hdr *hdrs, int nhdrs)
{
	for (int i = 0; i < c->n; i++) {
		const struct http_hdr *last = NULL;
		size_t name_len = strlen(defs[i].name);

		for (int h = 0; h < nhdrs; h++)
			if (hdrs[h].name_len == name_len && strncasecmp(
			    hdrs[h].name, defs[i].name, name_len) == 0)
				last = &hdrs[h];
		c->len[i] = 0;
		if (last == NULL)
			continue;
		c->len[i] = last->value_len < c->cap[i] ?
		    last->value_len : c->cap[i];
		memcpy(c->data + c->off[i], last->value, c->len[i]);
	}
}

void
capture_free(struct captured *c)
{
	free(c->data);
	free(c->off);
	free(c->len);
	free(c->cap);
	memset(c, 0, sizeof(*c));
}
