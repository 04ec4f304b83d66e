/*
 * fuzz_proxy.c - libFuzzer target for the PROXY protocol parser of
 * proxyproto.c (proxy_parse(), the pure function behind accept-proxy).
 *
 * The input is what a client sends first. Checked:
 *  - a header is never longer than the input, nor than the protocol
 *    allows (107 bytes for v1, 16 + 65535 for v2), and says version 1 or 2;
 *  - a header parses the same from its own bytes alone, and every proper
 *    prefix of it (the first 256) is "needs more", never an error: a
 *    header split across reads is read the same;
 *  - "needs more" only while the input is shorter than the longest
 *    header;
 *  - the addresses of a PROXY (not LOCAL/UNKNOWN) header are IPv4, IPv6
 *    or (v2 only) UNIX, both of one family, and proxy_send() re-encodes
 *    IPv4 and IPv6 ones into a header that parses back to the same
 *    addresses (through a socketpair, in both versions).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "proxyproto.h"

#define PREFIXES_CHECKED 256

static int pair[2] = { -1, -1 };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
	return 0;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	size_t len = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);

	return a->ss_family == b->ss_family && memcmp(a, b, len) == 0;
}

/* proxy_send() then proxy_parse() gives the same addresses back. */
static void
check_round_trip(const struct proxy_hdr *h, int version)
{
	unsigned char out[PROXY_V1_MAX + 64];
	struct proxy_hdr back;
	ssize_t got;

	CHECK(proxy_send(pair[0], version, &h->src, &h->dst, 1000) == 0);
	got = read(pair[1], out, sizeof(out));
	CHECK(got > 0);
	CHECK(proxy_parse(out, (size_t)got, &back) == (int)got);
	CHECK(back.version == version && !back.local);
	CHECK(same_addr(&back.src, &h->src) && same_addr(&back.dst, &h->dst));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, again;
	int rc = proxy_parse(data, size, &h);

	if (rc == 0) {
		CHECK(size < PROXY_V2_MAX);
		return 0;
	}
	if (rc < 0) {
		CHECK(rc == -PROXY_ERR_NOT_HDR || rc == -PROXY_ERR_BAD_HDR ||
		    rc == -PROXY_ERR_BAD_PROTO);
		return 0;
	}
	CHECK((size_t)rc <= size);
	CHECK(h.version == 1 || h.version == 2);
	CHECK(h.version == 2 || rc <= PROXY_V1_MAX);
	CHECK(proxy_parse(data, (size_t)rc, &again) == rc);
	CHECK(again.version == h.version && again.local == h.local);
	for (int k = 0; k < rc && k < PREFIXES_CHECKED; k++)
		CHECK(proxy_parse(data, (size_t)k, &again) == 0);
	if (h.local)
		return 0;
	CHECK(h.src.ss_family == AF_INET || h.src.ss_family == AF_INET6 ||
	    (h.src.ss_family == AF_UNIX && h.version == 2));
	CHECK(h.src.ss_family == h.dst.ss_family);
	if (h.src.ss_family == AF_UNIX)
		return 0;
	check_round_trip(&h, 1);
	check_round_trip(&h, 2);
	return 0;
}
