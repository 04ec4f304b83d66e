/*
 * fuzz_response.c - libFuzzer target for the response side of http.c.
 *
 * The input is a server's byte stream: the head (http_head_end) is parsed
 * with http_parse_response() as the answer to a GET and to a HEAD, the
 * head wsproxy would send to the client (http_build_response) is built
 * for the three client situations and parsed again (same status, same
 * framing), and the bytes after the head go through the body framing the
 * parser chose, as relay.c would feed them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz_common.h"
#include "framing.h"

/* The head for the client must be framed as the server's (or the client
 * reads the body differently from us). */
static void
check_rebuilt(const struct http_msg *resp, const struct http_out *out,
    int request_was_head)
{
	struct http_hdr hdrs[HTTP_DEFAULT_MAXHDR + 1];
	struct http_msg m;

	CHECK(!out->overflow);
	CHECK(out->len >= 4 && memcmp(out->data + out->len - 4, "\r\n\r\n",
	    4) == 0);
	CHECK(http_head_end(out->data, out->len) == out->len);
	CHECK(http_parse_response(out->data, out->len, &m, hdrs,
	    HTTP_DEFAULT_MAXHDR + 1, request_was_head) == 0);
	CHECK(m.status == resp->status);
	CHECK(m.vmajor == resp->vmajor && m.vminor == resp->vminor);
	CHECK(m.body == resp->body);
	if (m.body == BODY_LENGTH)
		CHECK(m.content_length == resp->content_length);
}

/* The body after the head, framed as the relay does, in one piece. */
static void
check_body(const struct http_msg *resp, const char *body, size_t len)
{
	struct http_framing fr;
	size_t used;

	http_framing_init(&fr, resp->body, resp->content_length);
	used = http_framing_feed(&fr, body, len);
	CHECK(used <= len);
	if (used < len)
		CHECK(fr.done || fr.error);
	if (resp->body == BODY_NONE)
		CHECK(fr.done && used == 0);
	if (resp->body == BODY_LENGTH)
		CHECK(used == (len < resp->content_length ? len :
		    resp->content_length) && fr.done == (used ==
		    resp->content_length));
	if (resp->body == BODY_UNTIL_CLOSE) {
		CHECK(used == len && !fr.done);
		CHECK(http_framing_eof(&fr) == 1);
	}
	/* a finished or failed body takes nothing more */
	if (fr.done || fr.error)
		CHECK(http_framing_feed(&fr, body + used, len - used) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_hdr hdrs[HTTP_DEFAULT_MAXHDR];
	struct http_out out = { 0 };
	size_t head = http_head_end(buf, size);

	if (head == 0)
		return 0;
	/* What a rebuild adds to the head: a Connection header. */
	out.cap = head + 1024;
	out.data = malloc(out.cap);
	CHECK(out.data != NULL);
	CHECK(head >= 2 && head <= size && buf[head - 1] == '\n');
	for (int was_head = 0; was_head <= 1; was_head++) {
		struct http_msg msg;

		if (http_parse_response(buf, head, &msg, hdrs,
		    HTTP_DEFAULT_MAXHDR, was_head) != 0)
			continue;
		CHECK(msg.head == buf && msg.head_len == head);
		CHECK(msg.status >= 100 && msg.status <= 999);
		CHECK(msg.vmajor == 1 && (msg.vminor == 0 || msg.vminor == 1));
		CHECK(msg.nhdrs >= 0 && msg.nhdrs <= HTTP_DEFAULT_MAXHDR);
		for (int i = 0; i < msg.nhdrs; i++) {
			CHECK(fuzz_within(hdrs[i].name, hdrs[i].name_len, buf,
			    head));
			CHECK(fuzz_within(hdrs[i].value, hdrs[i].value_len,
			    buf, head));
		}
		if (was_head || msg.status < 200 || msg.status == 204 ||
		    msg.status == 304)
			CHECK(msg.body == BODY_NONE);
		if (msg.body == BODY_LENGTH)
			CHECK(msg.content_length > 0);

		for (int variant = 0; variant < 3; variant++) {
			http_build_response(&msg, variant == 0, variant == 2,
			    &out);
			check_rebuilt(&msg, &out, was_head);
		}
		check_body(&msg, buf + head, size - head);
	}
	free(out.data);
	return 0;
}
