/*
 * reply.c - choosing the response of its own that a proxy sends for a
 * status. The configured ones (errorfile, errorloc...) are built by
 * cfgreply.c at load and live in the configuration; HAProxy 2.6 looks
 * in the backend first (the frontend stands for it until one is
 * chosen), then in the frontend, then takes its built-in page.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "reply.h"

static const struct reply *
proxy_reply(const struct proxy *px, int status)
{
	for (int i = 0; px != NULL && i < px->nreplies; i++)
		if (px->replies[i].status == status)
			return &px->replies[i];
	return NULL;
}

const struct reply *
reply_find(const struct proxy *be, const struct proxy *fe, int status)
{
	const struct reply *r = proxy_reply(be, status);

	return r != NULL ? r : proxy_reply(fe, status);
}

/*
 * 2.6's form: lower-case names, no Connection header (the sender adds
 * one when the connection closes). Built the first time, in the child
 * that needs it; a status without a page of its own gets the 500.
 */
#define BUILTIN_MAX 24          /* http.c's pages, with room */
const struct reply *
reply_builtin(int status)
{
	static char data[BUILTIN_MAX][512];
	static struct reply built[BUILTIN_MAX];
	const char *status_line, *body;
	struct reply *r = NULL;
	int i, n;

	if (!http_error_known(status))
		status = 500;
	for (i = 0; i < BUILTIN_MAX && built[i].len > 0; i++)
		if (built[i].status == status)
			return &built[i];
	if (i == BUILTIN_MAX)
		i = 0;          /* cannot happen: fewer pages than slots */
	r = &built[i];
	body = http_error_body(status, &status_line);
	n = snprintf(data[i], sizeof(data[i]), "HTTP/1.1 %s\r\n"
	    "content-length: %zu\r\ncache-control: no-cache\r\n"
	    "content-type: text/html\r\n", status_line, strlen(body));
	r->head_len = (size_t)n;
	n += snprintf(data[i] + n, sizeof(data[i]) - (size_t)n, "\r\n%s",
	    body);
	r->status = status;
	r->data = data[i];
	r->len = (size_t)n;
	r->http11 = 1;
	return r;
}
