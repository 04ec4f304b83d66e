/*
 * capture.h - the header values a frontend's "capture request header"
 * and "capture response header" keep for the httplog line (capture.c).
 */
#ifndef WSPROXY_CAPTURE_H
#define WSPROXY_CAPTURE_H

#include <stddef.h>

#include "config.h"
#include "http.h"

/* One direction's captured values, in declaration order. */
struct captured {
	int n;                  /* 0: none configured, no {} in the log */
	char *data;             /* slot i at off[i], room for its len */
	size_t *off;
	size_t *len;            /* 0: absent (or empty) */
	size_t *cap;            /* the slot's room: len of its line, <= max */
};

/* Slots for n captures; none is longer than max (a header value that
 * fits in a buffer). */
void capture_init(struct captured *c, const struct capture *defs, int n,
    size_t max);
void capture_reset(struct captured *c);
/* Keeps each header's last occurrence, cut to its len. */
void capture_headers(struct captured *c, const struct capture *defs,
    const struct http_hdr *hdrs, int nhdrs);
void capture_free(struct captured *c);

#endif
