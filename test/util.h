/*
 * util.h - what the test helpers (and bench/echod) share: error exits
 * with the program's name in front, a monotonic millisecond clock, a
 * growable byte buffer, pid files, loopback addresses and the header
 * tokens of HTTP.
 */
#ifndef WSPROXY_TEST_UTIL_H
#define WSPROXY_TEST_UTIL_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Set by main(): messages read "PROG: ...", or "PROG[PID]: ..." with
 * util_show_pid (the pid of the process that fails, so a forked child
 * names itself). */
extern const char *util_prog;
extern int util_show_pid;

/* Print "PROG: message" on stderr (after flushing stdout), exit(code). */
_Noreturn void fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* fail(1, ...) */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fail(1, "WHAT: strerror(errno)") */
_Noreturn void die_errno(const char *what);

/* CLOCK_MONOTONIC in milliseconds. */
long long now_ms(void);

struct buf {
    unsigned char *p;
    size_t len, cap;
};

/* Room for extra more bytes; the buffer starts at 4096 and doubles. */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
/* Appends the formatted text (a NUL follows it but is not counted). */
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void buf_shift(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* Writes our pid to path through a temporary name and rename(), so a
 * test polling for the file never reads it half-written. */
void write_pidfile(const char *path);

/* Fills ss with 127.0.0.1 (or ::1) and port; returns its length. */
socklen_t loopback_addr(struct sockaddr_storage *ss, int ipv6, uint16_t port);

/* Unix socket listeners: a path (a stale file there is removed first;
 * the file stays when we exit, as a crashed server's would), an abstract
 * name NUL-padded to the whole sun_path as HAProxy 2.6's abns@ addresses
 * are, or an abstract name of its exact length (which 2.6 cannot reach).
 * Returns the listening socket, non-blocking, or dies. */
enum unix_kind { UNIX_PATH, UNIX_ABNS, UNIX_ABSTRACT_EXACT };
int unix_listen(const char *name, enum unix_kind kind, int backlog);

/* The addrinfo of a numeric address ("127.0.0.1", "::1" or "[::1]") and
 * port; fails with code on a bad one.  freeaddrinfo() it. */
struct addrinfo *resolve_numeric(const char *addr, const char *port, int code);

/* TCP_NODELAY on fd, or die. */
void set_nodelay(int fd);

/* Is tok one of the comma-separated items of the header value v[0..n)?
 * Items are compared case-insensitively, surrounding blanks ignored. */
int has_token(const char *v, size_t n, const char *tok);
int is_ows(int ch);

/* Length of the head at p[0..n) up to and including its terminating
 * empty line, or 0 if that line has not arrived yet.  Lines may end in
 * CRLF or in a bare LF, so "\r\n\r\n", "\n\n" and mixtures all end a
 * head. */
size_t head_length(const char *p, size_t n);

#endif
