/*
 * proxyproto.c - the PROXY protocol, versions 1 and 2, both ways.
 *
 * Receiving is strict, as the specification asks: v1 fields are separated
 * by exactly one space, addresses and ports carry no leading zeros, the
 * line ends with CRLF within 107 bytes; v2 needs the 12-byte signature,
 * version 2, a known command and family, and TLVs that fit their block.
 * The parser is a pure function over a byte buffer (proxy_parse), so that
 * it can be fuzzed without sockets; proxy_recv feeds it with MSG_PEEK and
 * then reads exactly the header's bytes, never a byte of the request.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "buf.h"
#include "proxyproto.h"

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET  0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX  0x3
#define V2_UNIX_PATH 108

/* The v2 header: the signature, then these bytes, then the length's. */
#define V2_VER_CMD sizeof(v2_sig)       /* version << 4 | command */
#define V2_FAM (V2_VER_CMD + 1)         /* family << 4 | transport */
#define V2_LEN (V2_FAM + 1)             /* 16 bits: what follows */
#define V2_HDR_LEN (V2_LEN + 2)

/* The v1 signature: the line starts with it. */
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_sig) - 1)

/* ---- parsing v1 ---- */

/* A decimal 0..max with no leading zero; -1 if it is not one. */
static long
parse_decimal(const char *p, size_t len, long max)
{
	long v = 0;

	if (len == 0 || len > 5 || (p[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= max ? v : -1;
}

/* A dotted quad, each part 0..255 without leading zeros. */
static int
parse_ipv4(const char *p, size_t len, struct in_addr *out)
{
	uint32_t addr = 0;
	int parts = 0;
	size_t i = 0;

	while (parts < 4) {
		size_t start = i;
		long part;

		while (i < len && p[i] != '.')
			i++;
		if ((part = parse_decimal(p + start, i - start, 255)) < 0)
			return -1;
		addr = addr << 8 | (uint32_t)part;
		parts++;
		if (i == len)
			break;
		i++;            /* the dot */
	}
	if (parts != 4 || i != len)
		return -1;
	out->s_addr = htonl(addr);
	return 0;
}

/* RFC 4291 text, by inet_pton on a terminated copy. */
static int
parse_ipv6(const char *p, size_t len, struct in6_addr *out)
{
	char text[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, p, len);
	text[len] = '\0';
	return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

/* The next field of a v1 line: at least one byte, then one space or
 * the end. An empty field is what a double space looks like. */
static int
next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *q = *p;

	while (q < end && *q != ' ')
		q++;
	if (q == *p)
		return -1;
	*f = *p;
	*flen = (size_t)(q - *p);
	*p = q < end ? q + 1 : q;
	return 0;
}

static int
v1_address(int family, const char *f, size_t flen, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		return parse_ipv4(f, flen, &((struct sockaddr_in *)ss)->sin_addr);
	return parse_ipv6(f, flen, &((struct sockaddr_in6 *)ss)->sin6_addr);
}

static void
set_port(struct sockaddr_storage *ss, long port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* "SRC DST SPORT DPORT" of a TCP4/TCP6 line, p..end without the CRLF. */
static int
v1_addresses(int family, const char *p, const char *end, struct proxy_hdr *h)
{
	const char *f[4];
	size_t flen[4];
	long sport, dport;

	for (int i = 0; i < 4; i++)
		if (next_field(&p, end, &f[i], &flen[i]) < 0)
			return -PROXY_ERR_BAD_HDR;
	/* a fifth field, or a trailing space after the fourth */
	if (p != end || end[-1] == ' ')
		return -PROXY_ERR_BAD_HDR;
	sport = parse_decimal(f[2], flen[2], 65535);
	dport = parse_decimal(f[3], flen[3], 65535);
	if (v1_address(family, f[0], flen[0], &h->src) < 0 ||
	    v1_address(family, f[1], flen[1], &h->dst) < 0 ||
	    sport < 0 || dport < 0)
		return -PROXY_ERR_BAD_HDR;
	set_port(&h->src, sport);
	set_port(&h->dst, dport);
	return 0;
}

/* Is the field [p, p + len) exactly word? */
static int
field_is(const char *p, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(p, word, len) == 0;
}

static int
parse_v1(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	size_t scan = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	const unsigned char *lf;
	const char *p, *end, *fam;
	size_t line_len, fam_len;
	int rc;

	if (memcmp(buf, v1_sig, len < V1_SIG_LEN ? len : V1_SIG_LEN) != 0)
		return -PROXY_ERR_NOT_HDR;
	if ((lf = memchr(buf, '\n', scan)) == NULL)
		return len >= PROXY_V1_MAX ? -PROXY_ERR_BAD_HDR : 0;
	line_len = (size_t)(lf - buf) + 1;
	if (line_len < V1_SIG_LEN + 2 || lf[-1] != '\r')   /* + CRLF */
		return -PROXY_ERR_BAD_HDR;
	p = (const char *)buf + V1_SIG_LEN;
	end = (const char *)lf - 1;
	if (memchr(p, '\r', (size_t)(end - p)) != NULL)
		return -PROXY_ERR_BAD_HDR;      /* a bare CR inside */
	if (next_field(&p, end, &fam, &fam_len) < 0)
		return -PROXY_ERR_BAD_HDR;
	h->version = 1;
	if (field_is(fam, fam_len, "UNKNOWN")) {
		/* the short form (HAProxy's) or with anything after it */
		h->local = 1;
		return (int)line_len;
	}
	if (field_is(fam, fam_len, "TCP4"))
		rc = v1_addresses(AF_INET, p, end, h);
	else if (field_is(fam, fam_len, "TCP6"))
		rc = v1_addresses(AF_INET6, p, end, h);
	else
		rc = -PROXY_ERR_BAD_PROTO;
	return rc < 0 ? rc : (int)line_len;
}

/* ---- parsing v2 ---- */

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Type (1 byte), length (2), value: each must fit in the block. */
static int
tlvs_ok(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t tlv_len;

		if (n < 3)
			return 0;
		tlv_len = 3 + (size_t)get16(p + 1);
		if (tlv_len > n)
			return 0;
		p += tlv_len;
		n -= tlv_len;
	}
	return 1;
}

static void
v2_inet(const unsigned char *a, struct proxy_hdr *h)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
	struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;

	s->sin_family = d->sin_family = AF_INET;
	memcpy(&s->sin_addr, a, 4);
	memcpy(&d->sin_addr, a + 4, 4);
	memcpy(&s->sin_port, a + 8, 2);         /* already network order */
	memcpy(&d->sin_port, a + 10, 2);
}

static void
v2_inet6(const unsigned char *a, struct proxy_hdr *h)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;

	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, a, 16);
	memcpy(&d->sin6_addr, a + 16, 16);
	memcpy(&s->sin6_port, a + 32, 2);
	memcpy(&d->sin6_port, a + 34, 2);
}

static void
v2_unix(const unsigned char *a, struct proxy_hdr *h)
{
	struct sockaddr_un *s = (struct sockaddr_un *)&h->src;
	struct sockaddr_un *d = (struct sockaddr_un *)&h->dst;

	s->sun_family = d->sun_family = AF_UNIX;
	memcpy(s->sun_path, a, V2_UNIX_PATH);
	memcpy(d->sun_path, a + V2_UNIX_PATH, V2_UNIX_PATH);
}

static int
parse_v2(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	static const size_t addr_len[] = { 0, 12, 36, 2 * (size_t)V2_UNIX_PATH };
	unsigned cmd, fam, transport;
	size_t total;

	if (memcmp(buf, v2_sig, len < sizeof(v2_sig) ? len :
	    sizeof(v2_sig)) != 0)
		return -PROXY_ERR_NOT_HDR;
	if (len > V2_VER_CMD && buf[V2_VER_CMD] >> 4 != 2)
		return -PROXY_ERR_NOT_HDR;
	if (len < V2_HDR_LEN)
		return 0;
	cmd = buf[V2_VER_CMD] & 0xf;
	fam = buf[V2_FAM] >> 4;
	transport = buf[V2_FAM] & 0xf;
	total = V2_HDR_LEN + (size_t)get16(buf + V2_LEN);
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return -PROXY_ERR_BAD_HDR;
	if (len < total)
		return 0;
	h->version = 2;
	if (cmd == V2_CMD_LOCAL) {
		/* the real endpoints; the block is skipped unread */
		h->local = 1;
		return (int)total;
	}
	if (fam > V2_FAM_UNIX || transport > 2)
		return -PROXY_ERR_BAD_PROTO;
	if (total - V2_HDR_LEN < addr_len[fam] ||
	    !tlvs_ok(buf + V2_HDR_LEN + addr_len[fam],
	    total - V2_HDR_LEN - addr_len[fam]))
		return -PROXY_ERR_BAD_HDR;
	if (fam == V2_FAM_INET)
		v2_inet(buf + V2_HDR_LEN, h);
	else if (fam == V2_FAM_INET6)
		v2_inet6(buf + V2_HDR_LEN, h);
	else if (fam == V2_FAM_UNIX)
		v2_unix(buf + V2_HDR_LEN, h);
	else
		h->local = 1;   /* UNSPEC */
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return 0;
	if (buf[0] == 'P')
		return parse_v1(buf, len, h);
	if (buf[0] == v2_sig[0])
		return parse_v2(buf, len, h);
	return -PROXY_ERR_NOT_HDR;
}

/* ---- receiving ---- */

/* Waits until fd has events (deadline 0: forever); 0, or -1 on timeout
 * (errno ETIMEDOUT) or a poll error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { fd, events, 0 };
		int left = -1, rc;

		if (deadline > 0) {
			int64_t ms = deadline - now_ms();
			if (ms <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			left = (int)ms;
		}
		rc = poll(&pfd, 1, left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Why reading stopped, depending on whether some header had come. */
static int
recv_error(ssize_t n, size_t have)
{
	if (n == 0)
		return have ? PROXY_ERR_TRUNCATED : PROXY_ERR_EMPTY;
	return have ? PROXY_ERR_TRUNCATED : PROXY_ERR_ABORT;
}

int
proxy_recv(int fd, int timeout_ms, struct sockaddr_storage *src,
    struct sockaddr_storage *dst)
{
	/* a child reads one header in its life: no need for the stack */
	static unsigned char buf[PROXY_V2_MAX];
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t have = 0;
	struct proxy_hdr h;

	for (;;) {
		ssize_t n;
		int rc;

		if (wait_fd(fd, POLLIN, deadline) < 0)
			return errno == ETIMEDOUT ? PROXY_ERR_TIMEOUT :
			    recv_error(-1, have);
		/* Look first, then take only what belongs to the header. */
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_PEEK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return recv_error(n, have);
		rc = proxy_parse(buf, have + (size_t)n, &h);
		if (rc < 0)
			return -rc;
		/* incomplete: every byte seen is header, take them all */
		n = recv(fd, buf + have, rc > 0 ? (size_t)rc - have : (size_t)n,
		    0);
		if (n <= 0)
			return recv_error(n, have);
		have += (size_t)n;
		if (rc > 0 && have == (size_t)rc)
			break;
	}
	if (!h.local) {
		*src = h.src;
		*dst = h.dst;
	}
	return PROXY_OK;
}

const char *
proxy_strerror(int err)
{
	switch (err) {
	case PROXY_OK:
		return "Success";
	case PROXY_ERR_EMPTY:
		return "Connection closed while waiting for PROXY protocol header";
	case PROXY_ERR_ABORT:
		return "Connection error while waiting for PROXY protocol header";
	case PROXY_ERR_TIMEOUT:
		return "Timeout while waiting for PROXY protocol header";
	case PROXY_ERR_TRUNCATED:
		return "Truncated PROXY protocol header received";
	case PROXY_ERR_NOT_HDR:
		return "Received something which does not look like a PROXY "
		    "protocol header";
	case PROXY_ERR_BAD_HDR:
		return "Received an invalid PROXY protocol header";
	case PROXY_ERR_BAD_PROTO:
		return "Received an unhandled protocol in the PROXY protocol "
		    "header";
	}
	return "Unknown PROXY protocol error";
}

/* ---- sending ---- */

static int
is_inet(const struct sockaddr_storage *ss)
{
	return ss != NULL &&
	    (ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

/* An IPv6 view of an IPv4 or IPv6 address (IPv4 mapped: ::ffff:a.b.c.d). */
static void
as_inet6(const struct sockaddr_storage *ss, struct sockaddr_in6 *out)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6) {
		memcpy(out, ss, sizeof(*out));
		return;
	}
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = in->sin_port;
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1234 80\r\n"; returns its length. */
static size_t
build_v1(char *out, size_t cap, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int n;

	if (!is_inet(src) || !is_inet(dst)) {
		n = snprintf(out, cap, "PROXY UNKNOWN\r\n");
	} else if (src->ss_family == AF_INET && dst->ss_family == AF_INET) {
		const struct sockaddr_in *si = (const struct sockaddr_in *)src;
		const struct sockaddr_in *di = (const struct sockaddr_in *)dst;
		inet_ntop(AF_INET, &si->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &di->sin_addr, d, sizeof(d));
		n = snprintf(out, cap, "PROXY TCP4 %s %s %u %u\r\n", s, d,
		    ntohs(si->sin_port), ntohs(di->sin_port));
	} else {
		struct sockaddr_in6 s6, d6;
		as_inet6(src, &s6);
		as_inet6(dst, &d6);
		inet_ntop(AF_INET6, &s6.sin6_addr, s, sizeof(s));
		inet_ntop(AF_INET6, &d6.sin6_addr, d, sizeof(d));
		n = snprintf(out, cap, "PROXY TCP6 %s %s %u %u\r\n", s, d,
		    ntohs(s6.sin6_port), ntohs(d6.sin6_port));
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The V2_HDR_LEN fixed bytes and the address block; returns the length. */
static size_t
build_v2(unsigned char *out, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	unsigned char *a = out + V2_HDR_LEN;    /* the address block */
	size_t body = 0;

	memcpy(out, v2_sig, sizeof(v2_sig));
	out[V2_VER_CMD] = 0x20 | (src != NULL ? V2_CMD_PROXY : V2_CMD_LOCAL);
	out[V2_FAM] = 0x00;                 /* UNSPEC, for LOCAL and unknowns */
	if (is_inet(src) && is_inet(dst) && src->ss_family == AF_INET &&
	    dst->ss_family == AF_INET) {
		const struct sockaddr_in *si = (const struct sockaddr_in *)src;
		const struct sockaddr_in *di = (const struct sockaddr_in *)dst;
		out[V2_FAM] = V2_FAM_INET << 4 | 0x1;       /* TCP over IPv4 */
		memcpy(a, &si->sin_addr, 4);
		memcpy(a + 4, &di->sin_addr, 4);
		memcpy(a + 8, &si->sin_port, 2);
		memcpy(a + 10, &di->sin_port, 2);
		body = 12;
	} else if (is_inet(src) && is_inet(dst)) {
		struct sockaddr_in6 s6, d6;
		as_inet6(src, &s6);
		as_inet6(dst, &d6);
		out[V2_FAM] = V2_FAM_INET6 << 4 | 0x1;      /* TCP over IPv6 */
		memcpy(a, &s6.sin6_addr, 16);
		memcpy(a + 16, &d6.sin6_addr, 16);
		memcpy(a + 32, &s6.sin6_port, 2);
		memcpy(a + 34, &d6.sin6_port, 2);
		body = 36;
	}
	out[V2_LEN] = (unsigned char)(body >> 8);
	out[V2_LEN + 1] = (unsigned char)body;
	return V2_HDR_LEN + body;
}

/* Writes all of data within the deadline; the fd may be non-blocking. */
static int
send_all(int fd, const unsigned char *data, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int
proxy_send(int fd, int version, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, int timeout_ms)
{
	unsigned char out[128];         /* v1: 107 at most, v2: 52 */
	struct sockaddr_storage own_src, own_dst;
	socklen_t slen = sizeof(own_src), dlen = sizeof(own_dst);
	size_t len;

	if (version != 1 && version != 2) {
		errno = EINVAL;
		return -1;
	}
	if (src == NULL && version == 1) {
		/* a health check tells the truth: its own connection */
		memset(&own_src, 0, sizeof(own_src));
		memset(&own_dst, 0, sizeof(own_dst));
		if (getsockname(fd, (struct sockaddr *)&own_src, &slen) < 0 ||
		    getpeername(fd, (struct sockaddr *)&own_dst, &dlen) < 0)
			return -1;
		src = &own_src;
		dst = &own_dst;
	}
	if (version == 1)
		len = build_v1((char *)out, sizeof(out), src, dst);
	else
		len = build_v2(out, src, dst);
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	return send_all(fd, out, len, timeout_ms);
}
