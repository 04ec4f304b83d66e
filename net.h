/*
 * net.h - socket addresses as the configuration writes them, listeners,
 * and non-blocking connects.
 */
#ifndef WSPROXY_NET_H
#define WSPROXY_NET_H

#include <stddef.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* How a server's port is found: fixed, the client's, or the client's +/- N. */
enum port_mode { PORT_FIXED, PORT_CLIENT, PORT_OFFSET };

/*
 * Parses one "ADDR:PORT[-PORT]" bind entry. Calls add(addr, arg) for every
 * port of the range. Returns 0, or -1 with a message in err.
 */
int net_parse_bind(const char *text, int (*add)(const struct net_addr *, void *),
    void *arg, char *err, size_t errlen);

/*
 * Parses "ADDR[:PORT]", "ADDR:+N" or "ADDR:-N" for a server, or a unix
 * socket, HAProxy's way: "/abs/path", "unix@PATH" or "abns@NAME" (no
 * port; PORT_FIXED). Unix sockets are refused by net_parse_bind().
 */
int net_parse_server(const char *text, struct net_addr *addr,
    enum port_mode *mode, int *port_offset, char *err, size_t errlen);

/* Parses a syslog target: "IPv4[:PORT]", "host[:PORT]", "[v6]:PORT", "v6:",
 * or "/path", a unix datagram socket (/dev/log). */
int net_parse_log_target(const char *text, struct net_addr *addr,
    char *err, size_t errlen);

/*
 * Parses an address with an optional /len or /mask, for ACLs. Host names
 * are resolved only with allow_dns (at configuration time, never while a
 * request waits).
 */
int net_parse_network(const char *text, struct net_addr *addr, int *prefix_len,
    int allow_dns);

int  net_listen(const struct net_addr *addr, int backlog);
int  net_connect_nonblock(const struct net_addr *addr, int *in_progress);
int  net_set_nonblock(int fd);
void net_set_nodelay(int fd);
int  net_port(const struct sockaddr_storage *ss);
void net_set_port(struct sockaddr_storage *ss, int port);
/* "1.2.3.4", "::1" (no brackets, no port) or "unix", as HAProxy logs
 * them. */
void net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len);
/* "1.2.3.4:80", "[::1]:80", "unix@/path" or "abns@name", for messages. */
void net_addr_str(const struct net_addr *addr, char *buf, size_t len);

#endif
