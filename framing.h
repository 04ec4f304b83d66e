/*
 * framing.h - streaming HTTP/1.1 body framing (framing.c).
 */
#ifndef WSPROXY_FRAMING_H
#define WSPROXY_FRAMING_H

#include <stddef.h>

#include "http.h"

/* Streaming body framing: how many of the next bytes belong to the body. */
struct http_framing {
	enum http_body kind;
	unsigned long long remaining;  /* of the body, or of the chunk */
	int state;                     /* chunked decoder state */
	int strict;                    /* CRLF required (requests) */
	int after_cr;                  /* the last framing byte was CR */
	int done;
	int error;
};

void   http_framing_init(struct http_framing *fr, enum http_body kind,
    unsigned long long length);
/* Requests: chunk framing lines must end in CRLF, bare LF is an error. */
void   http_framing_strict(struct http_framing *fr);
size_t http_framing_feed(struct http_framing *fr, const char *data,
    size_t len);
/* The peer closed: is that a normal end of this body? Marks it done. */
int    http_framing_eof(struct http_framing *fr);

#endif
