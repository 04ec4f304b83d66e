/*
 * net.c - parsing of the address forms HAProxy accepts, listening sockets
 * and non-blocking connects.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"

#define PORT_MAX 65535
#define SYSLOG_PORT 514         /* a log target without a port */
/* The longest prefix of each family: its address in bits. */
#define IPV4_BITS ((int)(8 * sizeof(struct in_addr)))
#define IPV6_BITS ((int)(8 * sizeof(struct in6_addr)))

/*
 * Unix sockets are written as HAProxy 2.6 writes them: "/abs/path",
 * "unix@PATH" (PATH may be relative: the kernel resolves it against the
 * working directory at connect time) and "abns@NAME" (Linux's abstract
 * namespace). A path leaves room for the ".<pid>.tmp" that HAProxy adds
 * when it binds one, so its limit is 2.6's, 97 bytes, for servers too. An
 * abstract address is a NUL, the name, then NULs to the end of sun_path,
 * and the whole struct is its length, exactly as 2.6 does it: a peer
 * bound to the name's exact length is another address, one 2.6 does not
 * reach either.
 */
#define UNIX_PREFIX "unix@"
#define ABNS_PREFIX "abns@"
#define SUN_PATH_LEN ((int)sizeof(((struct sockaddr_un *)0)->sun_path))
#define BIND_SUFFIX_LEN 10      /* ".<pid>.tmp": 1 + 5 digits + 4 */
#define UNIX_PATH_MAX (SUN_PATH_LEN - 1 - BIND_SUFFIX_LEN)
#define ABNS_NAME_MAX (SUN_PATH_LEN - 1)

/* Is text a unix socket address, and where does its path or name start? */
static const char *
unix_name(const char *text, int *abstract)
{
	*abstract = 0;
	if (strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return text + strlen(UNIX_PREFIX);
	if (strncmp(text, ABNS_PREFIX, strlen(ABNS_PREFIX)) == 0) {
		*abstract = 1;
		return text + strlen(ABNS_PREFIX);
	}
	return text[0] == '/' ? text : NULL;
}

/*
 * Fills addr with the socket that name (within text, for messages) is a
 * path or, with abstract, an abstract name of. 0, or -1 with err set.
 */
static int
unix_addr(const char *text, const char *name, int abstract,
    struct net_addr *addr, char *err, size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&addr->ss;
	size_t len = strlen(name);
	int max = abstract ? ABNS_NAME_MAX : UNIX_PATH_MAX;

	if (len == 0) {
		snprintf(err, errlen, "empty socket %s in '%s'",
		    abstract ? "name" : "path", text);
		return -1;
	}
	if (len > (size_t)max) {
		snprintf(err, errlen, "socket path '%s' too long (max %d)",
		    text, max);
		return -1;
	}
	memset(addr, 0, sizeof(*addr));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path + abstract, name, len);
	addr->len = sizeof(*un);
	return 0;
}

/* Splits "host:port", "[v6]:port" or "v6:port" at the port separator. */
static int
split_host_port(const char *text, char *host, size_t hostlen,
    const char **port)
{
	const char *colon;
	size_t n;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL)
			return -1;
		n = (size_t)(end - text - 1);
		if (n >= hostlen)
			return -1;
		memcpy(host, text + 1, n);
		host[n] = '\0';
		if (end[1] == '\0') {
			*port = NULL;
			return 0;
		}
		if (end[1] != ':')
			return -1;
		*port = end + 2;
		return 0;
	}
	colon = strrchr(text, ':');
	n = colon ? (size_t)(colon - text) : strlen(text);
	if (n >= hostlen)
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	*port = colon ? colon + 1 : NULL;
	return 0;
}

/* Resolves a host part: empty or "*" is IPv4 any, "::" IPv6 any. */
static int
resolve_host(const char *host, struct net_addr *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
	struct addrinfo hints, *res;

	memset(addr, 0, sizeof(*addr));
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		addr->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		addr->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		addr->len = sizeof(*sin6);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	memcpy(&addr->ss, res->ai_addr, res->ai_addrlen);
	addr->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Parses a decimal port 0..PORT_MAX; returns -1 if not all digits. */
static long
parse_port(const char *s, const char **end)
{
	long v = 0;

	*end = s;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++)
		if (v <= PORT_MAX)      /* larger is invalid: stop growing */
			v = v * 10 + (*s - '0');
	*end = s;
	return v;
}

int
net_parse_bind(const char *text, int (*add)(const struct net_addr *, void *),
    void *arg, char *err, size_t errlen)
{
	char host[256];
	const char *port, *end;
	struct net_addr addr;
	long lo, hi;
	int abstract;

	if (unix_name(text, &abstract) != NULL) {
		snprintf(err, errlen, "'%s' is a unix socket, and wsproxy "
		    "listens on TCP only: bind an IPv4 or IPv6 address and a "
		    "port", text);
		return -1;
	}
	if (split_host_port(text, host, sizeof(host), &port) < 0 ||
	    port == NULL || *port == '\0') {
		snprintf(err, errlen, "missing port specification in '%s'", text);
		return -1;
	}
	lo = parse_port(port, &end);
	hi = lo;
	if (lo >= 0 && *end == '-')
		hi = parse_port(end + 1, &end);
	if (lo < 0 || hi < 0 || *end != '\0') {
		snprintf(err, errlen, "invalid port '%s'", port);
		return -1;
	}
	if (lo < 1 || lo > PORT_MAX || hi < 1 || hi > PORT_MAX) {
		snprintf(err, errlen, "invalid port '%s'", port);
		return -1;
	}
	if (lo > hi) {
		snprintf(err, errlen, "invalid port range '%s'", port);
		return -1;
	}
	if (resolve_host(host, &addr) < 0) {
		snprintf(err, errlen, "cannot resolve address '%s'", host);
		return -1;
	}
	for (long p = lo; p <= hi; p++) {
		net_set_port(&addr.ss, (int)p);
		if (add(&addr, arg) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

int
net_parse_server(const char *text, struct net_addr *addr,
    enum port_mode *mode, int *port_offset, char *err, size_t errlen)
{
	char host[256];
	const char *port, *end;
	long p;
	const char *name;
	int sign = 0, abstract;

	*mode = PORT_FIXED;
	*port_offset = 0;
	/* no port: in "/run/be.sock:80" the ":80" is part of the path */
	if ((name = unix_name(text, &abstract)) != NULL)
		return unix_addr(text, name, abstract, addr, err, errlen);
	if (split_host_port(text, host, sizeof(host), &port) < 0 ||
	    host[0] == '\0') {
		snprintf(err, errlen, "invalid address '%s'", text);
		return -1;
	}
	if (resolve_host(host, addr) < 0) {
		/* "be.sock" is a host name, in HAProxy too */
		snprintf(err, errlen, "could not resolve address '%s'%s", host,
		    strchr(host, '/') != NULL || strstr(host, ".sock") != NULL ?
		    " (a unix socket is written /path, unix@path or abns@name)" :
		    "");
		return -1;
	}
	if (port == NULL || *port == '\0') {
		*mode = PORT_CLIENT;
		return 0;
	}
	if (*port == '+' || *port == '-')
		sign = *port++ == '+' ? 1 : -1;
	p = parse_port(port, &end);
	if (p < 0 || *end != '\0' || p > PORT_MAX) {
		snprintf(err, errlen, "invalid port '%s'", port);
		return -1;
	}
	if (sign != 0) {
		*mode = PORT_OFFSET;
		*port_offset = sign * (int)p;
	} else if (p == 0) {
		*mode = PORT_CLIENT;
	}
	net_set_port(&addr->ss, (int)p);
	return 0;
}

int
net_parse_log_target(const char *text, struct net_addr *addr,
    char *err, size_t errlen)
{
	char host[256];
	const char *port = NULL, *end;
	long p = SYSLOG_PORT;
	struct in6_addr probe;

	/* "/path": a unix datagram socket, as syslog's /dev/log */
	if (text[0] == '/')
		return unix_addr(text, text, 0, addr, err, errlen);
	/* A bare IPv6 address is ambiguous: HAProxy wants "::1:" or "[::1]". */
	if (text[0] != '[' && inet_pton(AF_INET6, text, &probe) == 1) {
		snprintf(err, errlen, "invalid address: '%s' (write IPv6 as "
		    "[addr]:port or addr:)", text);
		return -1;
	}
	if (split_host_port(text, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "invalid address '%s'", text);
		return -1;
	}
	if (port != NULL && *port != '\0') {
		p = parse_port(port, &end);
		if (p < 0 || *end != '\0' || p > PORT_MAX) {
			snprintf(err, errlen, "invalid port '%s'", port);
			return -1;
		}
		if (p == 0)
			p = SYSLOG_PORT;
	}
	if (host[0] == '\0' || resolve_host(host, addr) < 0) {
		snprintf(err, errlen, "invalid address '%s'", text);
		return -1;
	}
	net_set_port(&addr->ss, (int)p);
	return 0;
}

int
net_parse_network(const char *text, struct net_addr *addr, int *prefix_len,
    int allow_dns)
{
	char host[128];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
	int maxlen;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	memset(addr, 0, sizeof(*addr));
	/* inet_aton accepts HAProxy's short forms: "127.1", "10.12". */
	if (strchr(host, ':') == NULL && inet_aton(host, &sin->sin_addr)) {
		sin->sin_family = AF_INET;
		addr->len = sizeof(*sin);
		maxlen = IPV4_BITS;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		addr->len = sizeof(*sin6);
		maxlen = IPV6_BITS;
	} else if (allow_dns && resolve_host(host, addr) == 0 &&
	    addr->ss.ss_family == AF_INET) {
		maxlen = IPV4_BITS;
	} else {
		return -1;
	}
	*prefix_len = maxlen;
	if (slash == NULL)
		return 0;
	slash++;
	if (maxlen == IPV4_BITS && strchr(slash, '.') != NULL) {
		struct in_addr mask;
		uint32_t m;
		int bits = 0;
		if (inet_pton(AF_INET, slash, &mask) != 1)
			return -1;
		m = ntohl(mask.s_addr);
		while (m & 0x80000000u) {
			bits++;
			m <<= 1;
		}
		if (m != 0)
			return -1;  /* not a contiguous mask */
		*prefix_len = bits;
		return 0;
	}
	{
		char *end;
		long v = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || v < 0 || v > maxlen)
			return -1;
		*prefix_len = (int)v;
	}
	return 0;
}

int
net_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	if (flags & O_NONBLOCK)
		return 0;       /* fds 0 and 1 are often one socket */
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void
net_set_nodelay(int fd)
{
	int one = 1;

	/* Fails harmlessly on pipes (inetd mode) and UNIX sockets. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_listen(const struct net_addr *addr, int backlog)
{
	int fd, one = 1;

	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto err;
	/* So that "*:80" and ":::80" can both be bound. */
	if (addr->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		goto err;
	/* Accepted sockets inherit it (Linux), so a child need not set it. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto err;
	if (listen(fd, backlog) < 0)
		goto err;
	if (net_set_nonblock(fd) < 0)
		goto err;
	return fd;
err:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

int
net_connect_nonblock(const struct net_addr *addr, int *in_progress)
{
	int fd;

	*in_progress = 0;
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		*in_progress = 1;
		return fd;
	}
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

int
net_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

void
net_set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

void
net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *src;

	if (ss->ss_family == AF_UNIX) {
		snprintf(buf, len, "unix");     /* HAProxy's %si, %bi */
		return;
	}
	if (ss->ss_family == AF_INET)
		src = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else {
		snprintf(buf, len, "unknown");
		return;
	}
	if (inet_ntop(ss->ss_family, src, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "unknown");
}

void
net_addr_str(const struct net_addr *addr, char *buf, size_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&addr->ss;
	char host[INET6_ADDRSTRLEN];

	if (addr->ss.ss_family == AF_UNIX) {
		/* sun_path need not end with a NUL: bound the copy */
		if (un->sun_path[0] == '\0')
			snprintf(buf, len, ABNS_PREFIX "%.*s", SUN_PATH_LEN - 1,
			    un->sun_path + 1);
		else
			snprintf(buf, len, UNIX_PREFIX "%.*s", SUN_PATH_LEN,
			    un->sun_path);
		return;
	}
	net_ntop(&addr->ss, host, sizeof(host));
	if (addr->ss.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", host, net_port(&addr->ss));
	else
		snprintf(buf, len, "%s:%d", host, net_port(&addr->ss));
}
