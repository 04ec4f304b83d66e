/*
 * util.c - the pieces the test helpers share (util.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <strings.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const char *util_prog = "?";
int util_show_pid;

/* ------------------------------------------------------------------ */
/* Errors, time                                                       */
/* ------------------------------------------------------------------ */

static _Noreturn void vfail(int code, const char *fmt, va_list ap)
{
    fflush(stdout);
    if (util_show_pid)
        fprintf(stderr, "%s[%ld]: ", util_prog, (long)getpid());
    else
        fprintf(stderr, "%s: ", util_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    exit(code);
}

_Noreturn void fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(code, fmt, ap);
}

_Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(1, fmt, ap);
}

_Noreturn void die_errno(const char *what)
{
    fail(1, "%s: %s", what, strerror(errno));
}

long long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die_errno("clock_gettime");
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Growable byte buffer                                               */
/* ------------------------------------------------------------------ */

void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        die("out of memory");
    b->p = p;
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    buf_reserve(b, (size_t)n + 1);   /* +1: vsnprintf writes a NUL */
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_shift(struct buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ */
/* Pid files, addresses                                               */
/* ------------------------------------------------------------------ */

void write_pidfile(const char *path)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        die("pid file name too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open %s: %s", tmp, strerror(errno));
    if (dprintf(fd, "%ld\n", (long)getpid()) < 0)
        die("write %s: %s", tmp, strerror(errno));
    if (close(fd) < 0)
        die("close %s: %s", tmp, strerror(errno));
    if (rename(tmp, path) < 0)
        die("rename %s: %s", path, strerror(errno));
}

socklen_t loopback_addr(struct sockaddr_storage *ss, int ipv6, uint16_t port)
{
    memset(ss, 0, sizeof *ss);
    if (ipv6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons(port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s4->sin_port = htons(port);
    return sizeof *s4;
}

int unix_listen(const char *name, enum unix_kind kind, int backlog)
{
    struct sockaddr_un sun;
    size_t len = strlen(name), off = kind == UNIX_PATH ? 0 : 1;
    socklen_t slen;

    if (len + off >= sizeof sun.sun_path)
        die("unix socket name too long: %s", name);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path + off, name, len);
    if (kind == UNIX_ABNS)
        slen = sizeof sun;
    else
        slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + off + len +
                           (kind == UNIX_PATH));
    if (kind == UNIX_PATH && unlink(name) < 0 && errno != ENOENT)
        die("unlink %s: %s", name, strerror(errno));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die_errno("socket");
    if (bind(fd, (struct sockaddr *)&sun, slen) < 0)
        die("bind %s%s: %s", kind == UNIX_PATH ? "" : "@", name, strerror(errno));
    if (listen(fd, backlog) < 0)
        die_errno("listen");
    return fd;
}

struct addrinfo *resolve_numeric(const char *addr, const char *port, int code)
{
    char host[256];
    size_t alen = strlen(addr);
    if (alen >= sizeof host)
        fail(code, "address too long: %s", addr);
    if (addr[0] == '[' && alen > 2 && addr[alen - 1] == ']') {   /* [::1] */
        memcpy(host, addr + 1, alen - 2);
        host[alen - 2] = '\0';
    } else {
        memcpy(host, addr, alen + 1);
    }

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        fail(code, "bad address %s port %s: %s", addr, port, gai_strerror(rc));
    return ai;
}

void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die_errno("setsockopt TCP_NODELAY");
}

/* ------------------------------------------------------------------ */
/* HTTP heads                                                         */
/* ------------------------------------------------------------------ */

int is_ows(int ch)
{
    return ch == ' ' || ch == '\t';
}

int has_token(const char *v, size_t n, const char *tok)
{
    size_t tlen = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_ows(v[end - 1]))
            end--;
        if (end - start == tlen && strncasecmp(v + start, tok, tlen) == 0)
            return 1;
    }
    return 0;
}

size_t head_length(const char *p, size_t n)
{
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        if (!nl)
            return 0;
        size_t linelen = (size_t)(nl - (p + pos));
        if (linelen == 0 || (linelen == 1 && p[pos] == '\r'))
            return (size_t)(nl - p) + 1;
        pos = (size_t)(nl - p) + 1;
    }
}
