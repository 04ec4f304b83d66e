/*
 * strbuf.h - a growing text buffer for the pages the proxy writes itself
 * (the stats page, the Prometheus exporter), in the child that serves
 * them: the whole body is built, then sent with its Content-Length.
 */
#ifndef WSPROXY_STRBUF_H
#define WSPROXY_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data;
	size_t len, cap;
};

/* Appends (growing as needed; out of memory is fatal in a child). */
void strbuf_add(struct strbuf *b, const char *data, size_t len);
void strbuf_str(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s with & < > " ' as HTML entities. */
void strbuf_html(struct strbuf *b, const char *s);
void strbuf_free(struct strbuf *b);

#endif
