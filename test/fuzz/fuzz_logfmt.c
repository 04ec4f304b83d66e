/*
 * fuzz_logfmt.c - libFuzzer target for log-format values (logfmt.c):
 * logfmt_parse_in() on a value, then logfmt_expand() against a request
 * and a response parsed from the rest of the input.
 *
 * Input: byte 0 chooses the context (bit 0: LF_CTX_REQ, bit 1:
 * LF_CTX_RESP, bit 2: LF_HTTP; bit 3: the client is IPv6), then the value
 * up to the first '\n', then a request head, then a response head (each
 * used only if it parses). Checked:
 *  - a refused value comes with a message; an accepted one expands;
 *  - an expansion that fits in n bytes expands the same into exactly n
 *    bytes (a malloc'ed buffer of that size: ASan sees any write past
 *    it), and gives -1 in n - 1;
 *  - without a CR in the value's own text, no CR or LF is written: what
 *    a fetch brings is encoded;
 *  - a value with nothing to expand (logfmt_literal) expands to that
 *    text; logfmt_new_literal() of any bytes expands to those bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "config.h"
#include "http.h"
#include "logfmt.h"

#define MAXHDR 101
#define BIG 65536

struct heads {
	struct http_msg req, resp;
	struct http_hdr req_hdrs[MAXHDR], resp_hdrs[MAXHDR];
};

static void
addresses(int v6, struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)src;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(36524);
		s6->sin6_addr.s6_addr[15] = 1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)src;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(44202);
		s4->sin_addr.s_addr = htonl(0x7f000001);
	}
	((struct sockaddr_in *)dst)->sin_family = AF_INET;
	((struct sockaddr_in *)dst)->sin_port = htons(80);
}

/* The request, then the response, from data; in->req/resp when they
 * parse. */
static void
parse_heads(const char *data, size_t size, struct heads *h,
    struct lf_input *in)
{
	size_t end = http_head_end(data, size);

	if (end == 0)
		return;
	if (http_parse_request(data, end, &h->req, h->req_hdrs, MAXHDR) == 0)
		in->req = &h->req;
	data += end;
	size -= end;
	if ((end = http_head_end(data, size)) != 0 &&
	    http_parse_response(data, end, &h->resp, h->resp_hdrs, MAXHDR,
	    0) == 0)
		in->resp = &h->resp;
}

/* Expands f into a buffer of exactly cap bytes. */
static ssize_t
expand_exact(const struct logfmt *f, const struct lf_input *in, size_t cap,
    char *copy)
{
	char *out = malloc(cap ? cap : 1);
	ssize_t n;

	CHECK(out != NULL);
	n = logfmt_expand(f, in, out, cap);
	CHECK(n <= (ssize_t)cap);
	if (n > 0 && copy != NULL)
		memcpy(copy, out, (size_t)n);
	free(out);
	return n;
}

static void
check_expansion(const struct logfmt *f, const struct lf_input *in,
    int text_has_cr)
{
	static char full[BIG], again[BIG];
	ssize_t n = logfmt_expand(f, in, full, sizeof(full));
	const char *literal = logfmt_literal(f);

	if (n < 0)
		return;         /* a base or a header longer than BIG */
	CHECK(expand_exact(f, in, (size_t)n, again) == n);
	CHECK(memcmp(full, again, (size_t)n) == 0);
	if (n > 0)
		CHECK(expand_exact(f, in, (size_t)n - 1, NULL) == -1);
	if (!text_has_cr)
		CHECK(memchr(full, '\r', (size_t)n) == NULL &&
		    memchr(full, '\n', (size_t)n) == NULL);
	if (literal != NULL)
		CHECK(strlen(literal) == (size_t)n &&
		    memcmp(literal, full, (size_t)n) == 0);
}

static void
check_new_literal(const char *text, size_t len, const struct lf_input *in)
{
	static char out[BIG];
	struct logfmt *f = logfmt_new_literal(text, len);

	CHECK(f != NULL);
	CHECK(logfmt_expand(f, in, out, len) == (ssize_t)len);
	CHECK(memcmp(out, text, len) == 0);
	logfmt_free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct heads heads;
	struct sockaddr_storage src, dst;
	struct lf_input in = { .src = &src, .dst = &dst };
	const char *text, *nl;
	char value[4096], err[512] = "";
	struct logfmt *f;
	size_t len;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0] & (LF_CTX_REQ | LF_CTX_RESP | LF_HTTP);
	addresses(data[0] & 8, &src, &dst);
	text = (const char *)data + 1;
	nl = memchr(text, '\n', size - 1);
	len = nl ? (size_t)(nl - text) : size - 1;
	if (len >= sizeof(value))
		return 0;
	memcpy(value, text, len);
	value[len] = '\0';
	if (nl != NULL)
		parse_heads(nl + 1, size - 1 - len - 1, &heads, &in);
	check_new_literal(value, len, &in);
	f = logfmt_parse_in(value, flags, err, sizeof(err));
	if (f == NULL) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	check_expansion(f, &in, strchr(value, '\r') != NULL);
	logfmt_free(f);
	return 0;
}
