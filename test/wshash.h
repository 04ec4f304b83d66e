/*
 * wshash.h - what the WebSocket handshake needs from a hash: SHA-1 and
 * base64 for Sec-WebSocket-Accept (RFC 6455 4.2.2), shared by the test
 * backend, the test client and the benchmark's programs; and the
 * header of a WebSocket frame (RFC 6455 5.2).
 */
#ifndef WSPROXY_TEST_WSHASH_H
#define WSPROXY_TEST_WSHASH_H

#include <stddef.h>
#include <stdint.h>

/* out needs 4 * ((n + 2) / 3) + 1 bytes; it is NUL-terminated. */
void ws_base64(const unsigned char *in, size_t n, char *out);

/*
 * Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28
 * characters and a NUL. Returns 0, or -1 for a key over 256 bytes.
 */
int ws_accept_value(const char *key, size_t keylen, char out[29]);

/*
 * Writes the header of a frame with first byte b0 and a payload of len
 * bytes at h (14 bytes are enough); mask, if not NULL, is the 4-byte
 * masking key (a client's frame).  Returns the header's length: 2, 4 or
 * 10, plus 4 with a mask.
 */
size_t ws_put_header(unsigned char *h, unsigned b0, uint64_t len,
                     const unsigned char *mask);

#endif
