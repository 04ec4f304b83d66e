/*
 * framing.c - where an HTTP/1.1 body ends, read as a stream: a
 * Content-Length countdown, or a chunked decoder that checks every byte
 * of the chunk framing (sizes, extensions, CRLFs, trailers) and never
 * looks into the data. The relay asks it how many of the next bytes
 * still belong to the body.
 */
#include <string.h>

#include "framing.h"

/* Chunk sizes from 2^52 on are refused, as h1_parse_chunk_size() does. */
#define CHUNK_SIZE_LIMIT (1ULL << 52)

enum chunk_state {
	CH_SIZE_START, CH_SIZE, CH_SIZE_WS, CH_EXT, CH_SIZE_LF,
	CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER_START, CH_TRAILER_LINE, CH_END_LF
};

void
http_framing_init(struct http_framing *fr, enum http_body kind,
    unsigned long long length)
{
	memset(fr, 0, sizeof(*fr));
	fr->kind = kind;
	fr->remaining = length;
	fr->state = CH_SIZE_START;
	fr->done = kind == BODY_NONE ||
	    (kind == BODY_LENGTH && length == 0);
}

void
http_framing_strict(struct http_framing *fr)
{
	fr->strict = 1;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Ends a chunk-size line: a zero size starts the trailer section. */
static void
chunk_size_done(struct http_framing *fr)
{
	fr->state = fr->remaining ? CH_DATA : CH_TRAILER_START;
}

/* One byte of chunk framing (not chunk data). */
static void
chunk_step(struct http_framing *fr, char c)
{
	int h, after_cr = fr->after_cr;

	fr->after_cr = c == '\r';
	/* Bare LF in a request's framing: refused, never reinterpreted. */
	if (c == '\n' && fr->strict && !after_cr) {
		fr->error = 1;
		return;
	}
	switch (fr->state) {
	case CH_SIZE_START:
	case CH_SIZE:
		h = hex_value(c);
		if (h >= 0) {
			/*
			 * 2.6's limit: a size must stay below 2^52 (13
			 * significant hex digits; leading zeros are free).
			 * A server that reads sizes into a signed 64-bit
			 * integer would see sixteen 'f's as -1.
			 */
			fr->remaining = fr->remaining * 16 + (unsigned)h;
			if (fr->remaining >= CHUNK_SIZE_LIMIT) {
				fr->error = 1;
				return;
			}
			fr->state = CH_SIZE;
			return;
		}
		if (fr->state == CH_SIZE_START)
			break;
		/* FALLTHROUGH */
	case CH_SIZE_WS:
		if (c == ' ' || c == '\t')
			fr->state = CH_SIZE_WS;
		else if (c == ';')
			fr->state = CH_EXT;
		else if (c == '\r')
			fr->state = CH_SIZE_LF;
		else if (c == '\n')
			chunk_size_done(fr);
		else
			break;
		return;
	case CH_EXT:
		if (c == '\r')
			fr->state = CH_SIZE_LF;
		else if (c == '\n')
			chunk_size_done(fr);
		else if ((unsigned char)c < 0x20 && c != '\t')
			break;
		return;
	case CH_SIZE_LF:
		if (c != '\n')
			break;
		chunk_size_done(fr);
		return;
	case CH_DATA_CR:
		if (c == '\r')
			fr->state = CH_DATA_LF;
		else if (c == '\n')
			fr->state = CH_SIZE_START;
		else
			break;
		return;
	case CH_DATA_LF:
		if (c != '\n')
			break;
		fr->state = CH_SIZE_START;
		return;
	case CH_TRAILER_START:
		if (c == '\r')
			fr->state = CH_END_LF;
		else if (c == '\n')
			fr->done = 1;
		else
			fr->state = CH_TRAILER_LINE;
		return;
	case CH_TRAILER_LINE:
		if (c == '\n')
			fr->state = CH_TRAILER_START;
		else if ((unsigned char)c < 0x20 && c != '\t' && c != '\r')
			break;
		return;
	case CH_END_LF:
		if (c != '\n')
			break;
		fr->done = 1;
		return;
	}
	fr->error = 1;
}

/*
 * On an error the bytes of the refused line that arrived in this call
 * are not counted: the peer gets the chunks so far, not half of a size
 * line (2.6 forwards only what it parsed).
 */
static size_t
chunked_feed(struct http_framing *fr, const char *data, size_t len)
{
	size_t i = 0, line_at = 0;

	while (i < len && !fr->done && !fr->error) {
		if (fr->state == CH_DATA) {
			size_t take = len - i;
			if (take > fr->remaining)
				take = (size_t)fr->remaining;
			fr->remaining -= take;
			i += take;
			if (fr->remaining == 0)
				fr->state = CH_DATA_CR;
			continue;
		}
		chunk_step(fr, data[i]);
		if (fr->error)
			return line_at;
		i++;
		if (fr->state == CH_SIZE_START || fr->state == CH_TRAILER_START)
			line_at = i;
	}
	return i;
}

size_t
http_framing_feed(struct http_framing *fr, const char *data, size_t len)
{
	size_t take;

	if (fr->done || fr->error)
		return 0;
	switch (fr->kind) {
	case BODY_NONE:
		fr->done = 1;
		return 0;
	case BODY_LENGTH:
		take = len < fr->remaining ? len : (size_t)fr->remaining;
		fr->remaining -= take;
		fr->done = fr->remaining == 0;
		return take;
	case BODY_CHUNKED:
		return chunked_feed(fr, data, len);
	case BODY_UNTIL_CLOSE:
		return len;
	}
	return 0;
}

int
http_framing_eof(struct http_framing *fr)
{
	if (fr->kind == BODY_UNTIL_CLOSE)
		fr->done = 1;
	return fr->done;
}
