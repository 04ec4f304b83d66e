/*
 * wsutil.h - what both bench programs (echod.c, loadgen.c) need of
 * RFC 6455 and of the clock: the frame-header parser, masking, and a
 * monotonic nanosecond clock.  SHA-1 and base64 for Sec-WebSocket-Accept
 * and the frame-header writer are the test helpers' (test/wshash.c,
 * linked in).
 *
 * Static functions in a header: small, and each program stays one
 * "cc file.c test/wshash.c" (echod: and test/util.c) away from being
 * built by hand.  Every
 * function here is used by both programs (an unused static function
 * would trip -Wunused-function under -Werror).
 */
#ifndef BENCH_WSUTIL_H
#define BENCH_WSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../test/wshash.h"   /* ws_base64, ws_accept_value, ws_put_header */


enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BINARY = 2, WS_OP_CLOSE = 8,
       WS_OP_PING = 9, WS_OP_PONG = 10 };

/* A frame header at p[0..n): returns the header length (mask key
 * included) and sets *b0, *masked, *plen; 0 if more bytes are needed. */
static size_t ws_frame_header(const unsigned char *p, size_t n, unsigned *b0,
                              int *masked, uint64_t *plen)
{
    if (n < 2)
        return 0;
    size_t hl = (p[1] & 0x7f) == 126 ? 4 : (p[1] & 0x7f) == 127 ? 10 : 2;
    *masked = (p[1] & 0x80) != 0;
    if (*masked)
        hl += 4;
    if (n < hl)
        return 0;
    *b0 = p[0];
    *plen = p[1] & 0x7f;
    if (*plen == 126)
        *plen = (uint64_t)p[2] << 8 | p[3];
    else if (*plen == 127) {
        *plen = 0;
        for (int i = 0; i < 8; i++)
            *plen = *plen << 8 | p[2 + i];
    }
    return hl;
}

/* dst = src XOR the repeated 4-byte mask, 8 bytes at a time where it
 * can: at 64 KiB per message the byte loop would show in the profile.
 * dst and src may be the same buffer. */
static void ws_mask_copy(unsigned char *dst, const unsigned char *src,
                         size_t n, const unsigned char mask[4])
{
    unsigned char m8[8];
    uint64_t m;
    size_t i = 0;

    for (int k = 0; k < 8; k++)
        m8[k] = mask[k & 3];
    memcpy(&m, m8, 8);
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= m;
        memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ mask[i & 3];
}

/* CLOCK_MONOTONIC in nanoseconds; it cannot fail on Linux with a valid
 * clock id, so a failure is reported as time 0 rather than handled. */
static uint64_t mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
