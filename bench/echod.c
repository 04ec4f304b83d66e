/*
 * echod - a fast backend for the wsproxy benchmark: HTTP/1.1 and
 * WebSocket echo in one epoll loop, one process, one thread.
 *
 * Usage: echod -p PORT -n NAME [-P PIDFILE]
 *
 *   -p PORT     listen on 127.0.0.1:PORT
 *   -n NAME     sent in the X-Backend header (as test/backend does), so the
 *               load generator can check where the proxy routed it
 *   -P PIDFILE  written once listen() succeeded (readiness signal)
 *
 * Why not test/backend: it forks a child per connection, and wsproxy
 * opens one server connection per request (option http-server-close), so
 * in the handshake and HTTP workloads the backend would pay a fork for
 * every request and be the bottleneck of every target alike (RESULTS.md
 * has the numbers).  echod costs a few system calls per request instead.
 *
 * Every HTTP request is answered "200 OK" with the body "backend=NAME\n";
 * a request body (Content-Length) is read and dropped, chunked bodies get
 * 501.  "Connection: close" (and HTTP/1.0 without keep-alive) closes after
 * the answer.  A WebSocket upgrade (Upgrade: websocket, Connection:
 * upgrade, Sec-WebSocket-Key) gets 101 and the connection becomes an RFC
 * 6455 echo: data frames come back unmasked with the same FIN bit and
 * opcode, pings get pongs, a close is answered with a close.
 *
 * Closing is graceful: we send FIN, then read until the peer's EOF (at
 * most DRAIN_MS) before close(), so unread input never turns our last
 * answer into an RST.  That also puts TIME_WAIT on our side, not on the
 * client's ephemeral ports.
 *
 * SIGTERM/SIGINT: exit 0.  Exit 1 on errors, 64 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../test/util.h"   /* die, has_token, head_length, write_pidfile */
#include "wsutil.h"

#define IN_START   4096                 /* first input buffer; grows */
#define MAX_HEAD   65536                /* larger request heads: 431 */
#define MAX_FRAME  ((uint64_t)16 << 20) /* larger frames: close 1009 */
#define OUT_HIGH   (4u << 20)           /* stop reading above this backlog */
#define DRAIN_MS   2000                 /* how long a closing conn waits */
#define MAX_EVENTS 256

enum state { ST_HTTP, ST_WS, ST_DRAIN };

struct conn {
    int fd;
    enum state st;
    int close_after;        /* shut down once out is written */
    uint32_t events;        /* what epoll watches now */
    uint64_t drain_until;   /* ST_DRAIN: give up waiting for EOF then */
    unsigned char *in;      /* in[0 .. in_len) received, unconsumed */
    size_t in_len, in_cap;
    unsigned char *out;     /* out[out_off .. out_len) still to write */
    size_t out_off, out_len, out_cap;
    struct conn *next_drain, *prev_drain;   /* ST_DRAIN list */
};

static const char *g_name;
static size_t g_name_len;
static int g_ep = -1;
static volatile sig_atomic_t g_stop;
static struct conn *g_drain;           /* connections in ST_DRAIN */
static int g_listen_tag;               /* its address marks the listener */

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ------------------------------------------------------------------ */
/* Buffers                                                            */
/* ------------------------------------------------------------------ */

/* Grow *p (capacity *cap) to hold need bytes; 0, or -1 out of memory
 * (the connection is dropped then, the server goes on). */
static int grow(unsigned char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : IN_START;
    while (c < need)
        c *= 2;
    unsigned char *np = realloc(*p, c);
    if (!np)
        return -1;
    *p = np;
    *cap = c;
    return 0;
}

static int out_add(struct conn *c, const void *p, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (grow(&c->out, &c->out_cap, c->out_len + n) < 0)
        return -1;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Connections                                                        */
/* ------------------------------------------------------------------ */

static void watch(struct conn *c, uint32_t events)
{
    if (events == c->events)
        return;
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl MOD: %s", strerror(errno));
    c->events = events;
}

static void drain_unlink(struct conn *c)
{
    if (c->prev_drain)
        c->prev_drain->next_drain = c->next_drain;
    else if (g_drain == c)
        g_drain = c->next_drain;
    if (c->next_drain)
        c->next_drain->prev_drain = c->prev_drain;
    c->next_drain = c->prev_drain = NULL;
}

static void conn_free(struct conn *c)
{
    if (c->st == ST_DRAIN)
        drain_unlink(c);
    /* close() also removes the fd from the epoll set. */
    if (close(c->fd) < 0 && errno != EINTR)
        fprintf(stderr, "echod: close: %s\n", strerror(errno));
    free(c->in);
    free(c->out);
    free(c);
}

/* All written: half-close and wait for the peer's EOF. */
static void start_drain(struct conn *c)
{
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
        conn_free(c);
        return;
    }
    c->st = ST_DRAIN;
    c->in_len = 0;
    c->drain_until = mono_ns() + (uint64_t)DRAIN_MS * 1000000u;
    c->next_drain = g_drain;
    c->prev_drain = NULL;
    if (g_drain)
        g_drain->prev_drain = c;
    g_drain = c;
    watch(c, EPOLLIN);
}

/* Write what is pending; returns -1 if the connection was freed. */
static int flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                watch(c, c->out_len - c->out_off > OUT_HIGH ? EPOLLOUT
                                                            : EPOLLIN | EPOLLOUT);
                return 0;
            }
            conn_free(c);       /* EPIPE, ECONNRESET: the peer is gone */
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->close_after) {
        start_drain(c);
        return c->st == ST_DRAIN ? 0 : -1;
    }
    watch(c, EPOLLIN);
    return 0;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                               */
/* ------------------------------------------------------------------ */

struct req {
    int http10, conn_close, conn_keep, conn_upgrade, up_ws, chunked, bad;
    long long clen;
    const char *key;
    size_t key_len;
};

static void parse_head(struct req *r, const char *p, size_t n)
{
    const char *end = p + n;
    int first = 1;

    memset(r, 0, sizeof *r);
    r->clen = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = (size_t)(nl - p);
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;
        if (first) {
            first = 0;
            r->http10 = ll >= 8 && memcmp(p + ll - 8, "HTTP/1.0", 8) == 0;
            if (!memchr(p, ' ', ll))
                r->bad = 1;
        } else {
            const char *colon = memchr(p, ':', ll);
            if (colon) {
                const char *v = colon + 1;
                size_t nl2 = (size_t)(colon - p);
                size_t vl = ll - nl2 - 1;
                while (vl > 0 && is_ows(*v)) {
                    v++;
                    vl--;
                }
                while (vl > 0 && is_ows(v[vl - 1]))
                    vl--;
#define IS(h) (nl2 == sizeof(h) - 1 && strncasecmp(p, h, nl2) == 0)
                if (IS("Content-Length")) {
                    /* digits only (strtoll would take signs, blanks) */
                    long long cl = 0;
                    size_t i = 0;
                    for (; i < vl && i < 16 && v[i] >= '0' && v[i] <= '9'; i++)
                        cl = cl * 10 + (v[i] - '0');
                    if (i == 0 || i != vl)
                        r->bad = 1;     /* empty, too long, or not digits */
                    if (r->clen >= 0 && r->clen != cl)
                        r->bad = 1;     /* two different lengths */
                    r->clen = cl;
                } else if (IS("Transfer-Encoding")) {
                    r->chunked = 1;
                } else if (IS("Connection")) {
                    r->conn_close |= has_token(v, vl, "close");
                    r->conn_keep |= has_token(v, vl, "keep-alive");
                    r->conn_upgrade |= has_token(v, vl, "upgrade");
                } else if (IS("Upgrade")) {
                    r->up_ws |= has_token(v, vl, "websocket");
                } else if (IS("Sec-WebSocket-Key")) {
                    r->key = v;
                    r->key_len = vl;
                }
#undef IS
            }
        }
        p = nl + 1;
    }
}

/* A short answer that closes the connection. */
static int answer_and_close(struct conn *c, const char *status)
{
    char h[256];
    int n = snprintf(h, sizeof h, "HTTP/1.1 %s\r\nX-Backend: %s\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n",
                     status, g_name);
    c->close_after = 1;
    if (n < 0 || (size_t)n >= sizeof h || out_add(c, h, (size_t)n) < 0)
        return -1;
    return 1;
}

/* One request from c->in.  Returns bytes consumed, 0 if incomplete, -1
 * to drop the connection. */
static long http_one(struct conn *c)
{
    size_t hl = head_length((const char *)c->in, c->in_len);
    struct req r;
    char h[512];
    int n;

    if (hl == 0) {
        if (c->in_len > MAX_HEAD)
            return answer_and_close(c, "431 Request Header Fields Too Large") < 0
                   ? -1 : (long)c->in_len;
        return 0;
    }
    parse_head(&r, (const char *)c->in, hl);
    if (r.bad)
        return answer_and_close(c, "400 Bad Request") < 0 ? -1 : (long)c->in_len;
    if (r.chunked)
        return answer_and_close(c, "501 Not Implemented") < 0 ? -1 : (long)c->in_len;

    if (r.up_ws && r.conn_upgrade && r.key) {
        char acc[29];
        if (ws_accept_value(r.key, r.key_len, acc) < 0)
            return answer_and_close(c, "400 Bad Request") < 0 ? -1 : (long)c->in_len;
        n = snprintf(h, sizeof h, "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\nX-Backend: %s\r\n\r\n",
                     acc, g_name);
        if (n < 0 || (size_t)n >= sizeof h || out_add(c, h, (size_t)n) < 0)
            return -1;
        c->st = ST_WS;
        return (long)hl;        /* frames may follow in the same buffer */
    }

    /* The body, if any, must be all here before we answer and drop it. */
    size_t blen = r.clen > 0 ? (size_t)r.clen : 0;
    if (blen > MAX_FRAME)
        return answer_and_close(c, "413 Content Too Large") < 0 ? -1 : (long)c->in_len;
    if (c->in_len < hl + blen) {
        if (grow(&c->in, &c->in_cap, hl + blen) < 0)
            return -1;
        return 0;
    }
    int keep = !r.conn_close && (!r.http10 || r.conn_keep);
    n = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
                 "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n"
                 "backend=%s\n", g_name, g_name_len + 9,
                 !keep ? "Connection: close\r\n"
                       : r.http10 ? "Connection: keep-alive\r\n" : "",
                 g_name);
    if (n < 0 || (size_t)n >= sizeof h || out_add(c, h, (size_t)n) < 0)
        return -1;
    if (!keep)
        c->close_after = 1;
    return (long)(hl + blen);
}

/* ------------------------------------------------------------------ */
/* WebSocket echo                                                     */
/* ------------------------------------------------------------------ */

static int ws_send(struct conn *c, unsigned b0, const unsigned char *p, uint64_t len)
{
    unsigned char h[14];
    size_t hl = ws_put_header(h, b0, len, NULL);
    if (out_add(c, h, hl) < 0 || out_add(c, p, (size_t)len) < 0)
        return -1;
    return 0;
}

static int ws_close_with(struct conn *c, unsigned code)
{
    unsigned char p[2] = { (unsigned char)(code >> 8), (unsigned char)code };
    c->close_after = 1;
    return ws_send(c, 0x80 | WS_OP_CLOSE, p, 2);
}

/* One frame from c->in, unmasked in place and echoed.  Returns bytes
 * consumed, 0 if incomplete, -1 to drop the connection. */
static long ws_one(struct conn *c)
{
    unsigned b0;
    int masked;
    uint64_t len;
    size_t hl = ws_frame_header(c->in, c->in_len, &b0, &masked, &len);

    if (hl == 0)
        return 0;
    if (!masked || (b0 & 0x70))     /* RFC 6455 5.1, 5.2 */
        return ws_close_with(c, 1002) < 0 ? -1 : (long)c->in_len;
    if (len > MAX_FRAME)
        return ws_close_with(c, 1009) < 0 ? -1 : (long)c->in_len;
    if (c->in_len < hl + len) {
        if (grow(&c->in, &c->in_cap, hl + (size_t)len) < 0)
            return -1;
        return 0;
    }
    unsigned char *payload = c->in + hl;
    ws_mask_copy(payload, payload, (size_t)len, c->in + hl - 4);
    switch (b0 & 0x0f) {
    case WS_OP_CONT:
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (ws_send(c, b0 & 0x8f, payload, len) < 0)
            return -1;
        break;
    case WS_OP_PING:
        if (ws_send(c, 0x80 | WS_OP_PONG, payload, len) < 0)
            return -1;
        break;
    case WS_OP_PONG:
        break;
    case WS_OP_CLOSE:
        c->close_after = 1;
        if (ws_send(c, 0x80 | WS_OP_CLOSE, payload, len >= 2 ? 2 : 0) < 0)
            return -1;
        return (long)c->in_len;     /* nothing after a close counts */
    default:
        return ws_close_with(c, 1002) < 0 ? -1 : (long)c->in_len;
    }
    return (long)(hl + len);
}

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

/* Read what is there, answer every complete request or frame, write. */
static void on_readable(struct conn *c)
{
    if (c->st == ST_DRAIN) {
        unsigned char tmp[16384];
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            conn_free(c);
        return;
    }
    for (;;) {
        if (c->in_cap - c->in_len < IN_START / 2 &&
            grow(&c->in, &c->in_cap, c->in_len + IN_START) < 0) {
            conn_free(c);
            return;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {           /* EOF or reset: nothing more to answer */
            conn_free(c);
            return;
        }
        c->in_len += (size_t)n;
        if (c->in_len < c->in_cap)
            break;              /* the socket is very probably empty */
    }

    size_t off = 0;
    while (!c->close_after && off < c->in_len) {
        /* Parse from the front: move the rest down first (cheap: in the
         * echo loop the buffer holds one message). */
        if (off) {
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= off;
            off = 0;
        }
        long used = c->st == ST_HTTP ? http_one(c) : ws_one(c);
        if (used < 0) {
            conn_free(c);
            return;
        }
        if (used == 0)
            break;
        off = (size_t)used;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    if (c->close_after)
        c->in_len = 0;          /* ignored: we answered and close */
    (void)flush(c);
}

static void on_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* Out of descriptors: back off instead of spinning on a
                 * listener that stays readable. */
                fprintf(stderr, "echod: accept: %s\n", strerror(errno));
                usleep(10000);
                return;
            }
            die("accept: %s", strerror(errno));
        }
        /* Echoes and answers are small writes: send them now, not after
         * the peer's delayed ACK. */
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            die("setsockopt TCP_NODELAY: %s", strerror(errno));
        struct conn *c = calloc(1, sizeof *c);
        if (!c || grow(&c->in, &c->in_cap, IN_START) < 0) {
            fprintf(stderr, "echod: out of memory, connection dropped\n");
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->st = ST_HTTP;
        c->events = EPOLLIN;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl ADD: %s", strerror(errno));
    }
}

/* Connections whose peer never sent EOF are closed after DRAIN_MS. */
static void expire_drains(void)
{
    uint64_t now = mono_ns();
    struct conn *c = g_drain, *next;
    for (; c; c = next) {
        next = c->next_drain;
        if (now >= c->drain_until)
            conn_free(c);
    }
}

static int listen_on(const char *port)
{
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || end == port || pn < 1 || pn > 65535)
        die("bad port: %s", port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt SO_REUSEADDR: %s", strerror(errno));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)pn);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind 127.0.0.1:%ld: %s", pn, strerror(errno));
    /* The handshake workloads connect in bursts: the kernel caps this
     * at net.core.somaxconn. */
    if (listen(fd, 4096) < 0)
        die("listen: %s", strerror(errno));
    return fd;
}

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: echod -p PORT -n NAME [-P PIDFILE]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *port = NULL, *pidfile = NULL;
    int opt;

    util_prog = "echod";
    while ((opt = getopt(argc, argv, "p:n:P:")) != -1) {
        switch (opt) {
        case 'p': port = optarg; break;
        case 'n': g_name = optarg; break;
        case 'P': pidfile = optarg; break;
        default: usage();
        }
    }
    if (!port || !g_name || optind != argc || strlen(g_name) > 100)
        usage();
    g_name_len = strlen(g_name);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;            /* write errors come back as EPIPE */
    if (sigemptyset(&sa.sa_mask) < 0 || sigaction(SIGPIPE, &sa, NULL) < 0)
        die("sigaction: %s", strerror(errno));
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction: %s", strerror(errno));
    /* Signals only get through inside epoll_pwait(), so a SIGTERM cannot
     * land between the g_stop test and the wait and be slept through. */
    sigset_t block, waitmask;
    if (sigemptyset(&block) < 0 || sigaddset(&block, SIGTERM) < 0 ||
        sigaddset(&block, SIGINT) < 0 ||
        sigprocmask(SIG_BLOCK, &block, &waitmask) < 0 ||
        sigdelset(&waitmask, SIGTERM) < 0 || sigdelset(&waitmask, SIGINT) < 0)
        die("sigprocmask: %s", strerror(errno));

    int lfd = listen_on(port);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0)
        die("epoll_create1: %s", strerror(errno));
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = &g_listen_tag };
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
        die("epoll_ctl ADD: %s", strerror(errno));
    if (pidfile)
        write_pidfile(pidfile);

    struct epoll_event evs[MAX_EVENTS];
    while (!g_stop) {
        /* Draining connections need a timer; otherwise sleep. */
        int n = epoll_pwait(g_ep, evs, MAX_EVENTS, g_drain ? 100 : -1, &waitmask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &g_listen_tag) {
                on_accept(lfd);
                continue;
            }
            struct conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT) {
                if (flush(c) < 0)
                    continue;
                if (c->out_off < c->out_len)
                    continue;   /* still blocked: reading waits */
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c);
        }
        if (g_drain)
            expire_drains();
    }
    return 0;
}
