/*
 * fuzz_chunked.c - libFuzzer target for the chunked body decoder of
 * http.c (http_framing_init(BODY_CHUNKED) + http_framing_feed(), with
 * http_framing_strict() as session.c uses it for requests).
 *
 * Input layout, so that the way the body is split is fuzzed too:
 *
 *     byte 0        k = byte 0 & 7: how many split sizes follow;
 *                   byte 0 & 8: strict (request) framing, bare LF refused
 *     bytes 1..k    piece sizes, used in turn (0: an empty feed, then 1)
 *     the rest      the chunked body as it arrives from the peer
 *
 * k = 0 feeds the body in one piece. Checked:
 *  - a feed never consumes more than it was given, and consumes less
 *    only when the body is done or invalid;
 *  - feeding stops at done/error: a later feed consumes nothing;
 *  - the total consumed never exceeds the input;
 *  - the outcome does not depend on the split: done, error, bytes used
 *    (and the decoder's state when neither) equal those of one feed;
 *    after an error, a split may count more bytes (the refused line's
 *    bytes from earlier pieces), never fewer.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz_common.h"
#include "framing.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_framing whole, split;
	const uint8_t *sizes;
	const char *body;
	size_t k, len, used_whole, off = 0, turn = 0;
	int strict;

	if (size < 1)
		return 0;
	k = data[0] & 7;
	strict = (data[0] & 8) != 0;
	if (size < 1 + k)
		return 0;
	sizes = data + 1;
	body = (const char *)data + 1 + k;
	len = size - 1 - k;

	/* the reference: everything at once */
	http_framing_init(&whole, BODY_CHUNKED, 0);
	if (strict)
		http_framing_strict(&whole);
	CHECK(!whole.done && !whole.error);
	used_whole = http_framing_feed(&whole, body, len);
	CHECK(used_whole <= len);
	if (used_whole < len)
		CHECK(whole.done || whole.error);
	CHECK(!(whole.done && whole.error));
	if (whole.done || whole.error)
		CHECK(http_framing_feed(&whole, body + used_whole,
		    len - used_whole) == 0);

	/* the same bytes in pieces */
	http_framing_init(&split, BODY_CHUNKED, 0);
	if (strict)
		http_framing_strict(&split);
	while (off < len && !split.done && !split.error) {
		size_t piece = k ? sizes[turn++ % k] : len - off, used;

		if (piece == 0) {
			struct http_framing before = split;
			CHECK(http_framing_feed(&split, body + off, 0) == 0);
			CHECK(split.state == before.state &&
			    split.remaining == before.remaining &&
			    split.after_cr == before.after_cr &&
			    split.done == before.done &&
			    split.error == before.error);
			piece = 1;
		}
		if (piece > len - off)
			piece = len - off;
		used = http_framing_feed(&split, body + off, piece);
		CHECK(used <= piece);
		off += used;
		CHECK(off <= len);
		if (used < piece) {
			CHECK(split.done || split.error);
			break;
		}
	}
	CHECK(off <= len);
	if (split.done || split.error) {
		CHECK(http_framing_feed(&split, body + off, len - off) == 0);
		CHECK(http_framing_feed(&split, body, len) == 0);
	}

	CHECK(split.done == whole.done);
	CHECK(split.error == whole.error);
	/* on an error, the refused line's bytes that came in earlier
	 * pieces stay counted (they may be sent already): a split may
	 * count more of that line than one feed, never less */
	if (split.error)
		CHECK(off >= used_whole);
	else
		CHECK(off == used_whole);
	if (!split.done && !split.error)
		CHECK(split.state == whole.state &&
		    split.remaining == whole.remaining &&
		    split.after_cr == whole.after_cr);
	CHECK(http_framing_eof(&split) == split.done);
	return 0;
}
