/*
 * proxyproto.h - the PROXY protocol (HAProxy's proxy-protocol.txt),
 * versions 1 (a text line) and 2 (binary, 12-byte signature): read from
 * a client on an "accept-proxy" bind, sent to a server with "send-proxy"
 * or "send-proxy-v2" and by health checks.
 */
#ifndef WSPROXY_PROXYPROTO_H
#define WSPROXY_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

/* v1: "PROXY" SP ... CRLF, at most 107 bytes in all. */
#define PROXY_V1_MAX 107
/* v2: the 16 fixed bytes, then up to 65535 of addresses and TLVs. */
#define PROXY_V2_MAX (16 + 65535)

/* Why a header was refused; the texts are HAProxy's (proxy_strerror). */
enum proxy_err {
	PROXY_OK,
	PROXY_ERR_EMPTY,        /* closed before sending anything */
	PROXY_ERR_ABORT,        /* a read error before anything came */
	PROXY_ERR_TIMEOUT,
	PROXY_ERR_TRUNCATED,    /* closed in the middle of the header */
	PROXY_ERR_NOT_HDR,      /* neither "PROXY" nor the v2 signature */
	PROXY_ERR_BAD_HDR,      /* a PROXY header, but not a valid one */
	PROXY_ERR_BAD_PROTO     /* valid syntax, a family we do not know */
};

/* What a header says. */
struct proxy_hdr {
	int version;            /* 1 or 2 */
	int local;              /* UNKNOWN, LOCAL or UNSPEC: no addresses */
	struct sockaddr_storage src, dst;
};

/*
 * Parses the PROXY header at the start of buf, a pure function over the
 * bytes. Returns the header's length (> 0) with *h filled in, 0 when buf
 * is a valid beginning that needs more bytes, or -PROXY_ERR_NOT_HDR,
 * -PROXY_ERR_BAD_HDR or -PROXY_ERR_BAD_PROTO. Never reads past buf + len.
 */
int proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h);

/*
 * Reads the PROXY header a client sends first on fd, and exactly its
 * bytes (what follows stays in the socket), within timeout_ms (0: no
 * limit). On success src/dst hold what it says; they are left alone for
 * UNKNOWN/LOCAL, which mean "the connection's own addresses". Returns
 * PROXY_OK or a PROXY_ERR_* code.
 */
int proxy_recv(int fd, int timeout_ms, struct sockaddr_storage *src,
    struct sockaddr_storage *dst);

/* HAProxy's words for an error code, for the log line. */
const char *proxy_strerror(int err);

/*
 * Sends a PROXY header (version 1 or 2) saying the connection came from
 * src to dst, on fd, waiting at most timeout_ms (0: no limit) for it to
 * be written. With src == NULL: a health check's header (v1: the fd's own
 * addresses, v2: a LOCAL command). Families other than IPv4/IPv6 are sent
 * as UNKNOWN (v1) or UNSPEC (v2); when one side is IPv4 and the other
 * IPv6, the IPv4 one is sent mapped (::ffff:a.b.c.d). Returns 0, or -1
 * (errno set).
 */
int proxy_send(int fd, int version, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, int timeout_ms);

#endif
