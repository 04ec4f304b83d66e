/*
 * wshold - hold many idle WebSocket tunnels in one process, then check
 * that each still echoes (test/keeper.bats: a thousand tunnels handed
 * over to the tunnel keepers).
 *
 * Usage: wshold -p PORT [-a ADDR] [-n N] [-u PATH] [-c PAR] [-T MS]
 *
 *   -p PORT   port to connect to (required), on ADDR (-a, 127.0.0.1)
 *   -n N      tunnels to open (default 100)
 *   -u PATH   request target (default /)
 *   -c PAR    at most PAR handshakes under way at once (default 64): the
 *             rest wait for their turn, so no SYN is dropped by a full
 *             backlog
 *   -T MS     time limit for opening them all, and for each command
 *             (default 20000)
 *
 * Every tunnel sends an RFC 6455 upgrade with a fixed key and must get
 * "HTTP/1.1 101" with the matching Sec-WebSocket-Accept.  Once all are
 * open, "ready N" is printed (and flushed); any failure before that
 * prints "FAILED ..." and exits 1.
 *
 * Then commands are read from stdin, one per line:
 *
 *   echo   every open tunnel sends one masked text frame with its own
 *          content ("tunnel-I-round-R"), and the echo of each must come
 *          back whole and equal: prints "echoed K of N" (K: those whose
 *          echo came back intact within -T; the failures, the first ten,
 *          on stderr)
 *   open   prints "open K of N": the tunnels the other side has not
 *          closed (nothing to read, or data; EOF or an error: closed)
 *
 * EOF on stdin closes every tunnel and exits 0.
 *
 * Server mode, for the half-close tests:
 *
 *   wshold -L PORT -F MS -o FILE [-P PIDFILE]
 *
 * listens on 127.0.0.1:PORT (-P: our pid there once it does) and serves
 * one connection at a time: reads a request head, answers
 * "101 Switching Protocols" (Upgrade: rawecho), MS ms later shuts its
 * sending side down (its FIN), and keeps reading: every byte after the
 * head is appended to FILE as it arrives, until EOF; then it closes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define HEAD_MAX 4096
#define KEY      "dGhlIHNhbXBsZSBub25jZQ=="
/* its Sec-WebSocket-Accept (RFC 6455 1.3) */
#define ACCEPT   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

enum st { S_WAIT, S_CONNECTING, S_READING, S_OPEN, S_CLOSED };

struct tun {
    int fd;
    enum st st;
    size_t len;             /* bytes in in[] */
    size_t want;            /* echo round: bytes of the expected frame */
    int ok;                 /* echo round: came back intact */
    unsigned char in[HEAD_MAX];
};

static struct {
    const char *addr, *port, *path;
    long n, par, timeout_ms;
} opt = { .addr = "127.0.0.1", .path = "/", .n = 100, .par = 64,
          .timeout_ms = 20000 };

static struct tun *g_t;
static struct pollfd *g_pfd;
static long *g_idx;
static struct addrinfo *g_ai;
static char g_req[1024];
static size_t g_req_len;

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: wshold -p PORT [-a ADDR] [-n N] [-u PATH] "
            "[-c PAR] [-T MS]\n"
            "       wshold -L PORT -F MS -o FILE [-P PIDFILE]\n");
    exit(64);
}

static long parse_num(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "wshold: bad number: %s (allowed %ld..%ld)\n", s,
                min, max);
        usage();
    }
    return v;
}

static void raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_errno("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_errno("setrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want)
        fail(1, "FAILED: %ld tunnels need %ld descriptors, the hard limit "
             "is %ld", opt.n, want, (long)rl.rlim_cur);
}

static void tun_start(struct tun *t)
{
    t->fd = socket(g_ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (t->fd < 0)
        die_errno("socket");
    t->len = 0;
    t->st = S_CONNECTING;
    if (connect(t->fd, g_ai->ai_addr, g_ai->ai_addrlen) < 0 &&
        errno != EINPROGRESS)
        fail(1, "FAILED: connect: %s", strerror(errno));
}

/* The response head of t is complete at in[0..hl): a 101 with our
 * accept value, or the run fails. */
static void tun_check_head(long i, struct tun *t, size_t hl)
{
    char head[HEAD_MAX + 1];
    memcpy(head, t->in, hl);
    head[hl] = 0;
    if (strncmp(head, "HTTP/1.1 101 ", 13) != 0)
        fail(1, "FAILED: tunnel %ld: expected 101, got: %.*s", i,
             (int)strcspn(head, "\r\n"), head);
    if (!strstr(head, ACCEPT))
        fail(1, "FAILED: tunnel %ld: no %s", i, ACCEPT);
    if (t->len > hl)
        fail(1, "FAILED: tunnel %ld: %zu unexpected bytes after the 101",
             i, t->len - hl);
    t->len = 0;
    t->st = S_OPEN;
}

/* Open all tunnels, at most opt.par handshakes at a time. */
static void open_all(void)
{
    long next = 0, busy = 0, open = 0;
    long long deadline = now_ms() + opt.timeout_ms;

    while (open < opt.n) {
        while (busy < opt.par && next < opt.n) {
            tun_start(&g_t[next++]);
            busy++;
        }
        long np = 0;
        for (long i = 0; i < next; i++) {
            struct tun *t = &g_t[i];
            if (t->st != S_CONNECTING && t->st != S_READING)
                continue;
            g_pfd[np].fd = t->fd;
            g_pfd[np].events = t->st == S_CONNECTING ? POLLOUT : POLLIN;
            g_pfd[np].revents = 0;
            g_idx[np++] = i;
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            fail(1, "FAILED: %ld of %ld tunnels open after %ld ms", open,
                 opt.n, opt.timeout_ms);
        int r = poll(g_pfd, (nfds_t)np, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die_errno("poll");
        }
        for (long k = 0; k < np; k++) {
            if (!g_pfd[k].revents)
                continue;
            long i = g_idx[k];
            struct tun *t = &g_t[i];
            if (t->st == S_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof err;
                if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0
                    || err)
                    fail(1, "FAILED: tunnel %ld: connect: %s", i,
                         strerror(err ? err : errno));
                if (send(t->fd, g_req, g_req_len, MSG_NOSIGNAL) !=
                    (ssize_t)g_req_len)
                    fail(1, "FAILED: tunnel %ld: send: %s", i,
                         strerror(errno));
                t->st = S_READING;
                continue;
            }
            ssize_t n = recv(t->fd, t->in + t->len,
                             sizeof t->in - t->len, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0)
                fail(1, "FAILED: tunnel %ld: %s before the 101 head", i,
                     n == 0 ? "EOF" : strerror(errno));
            t->len += (size_t)n;
            size_t hl = head_length((char *)t->in, t->len);
            if (hl) {
                tun_check_head(i, t, hl);
                busy--;
                open++;
            } else if (t->len == sizeof t->in) {
                fail(1, "FAILED: tunnel %ld: response head too long", i);
            }
        }
    }
}

static void message(long i, long round, char *out, size_t cap, size_t *len)
{
    int n = snprintf(out, cap, "tunnel-%ld-round-%ld", i, round);
    *len = (size_t)n;
}

/* One echo round: returns how many came back intact. */
static long echo_all(long round)
{
    long todo = 0, good = 0, reported = 0;
    long long deadline = now_ms() + opt.timeout_ms;

    for (long i = 0; i < opt.n; i++) {
        struct tun *t = &g_t[i];
        t->ok = 0;
        t->want = 0;
        if (t->st != S_OPEN)
            continue;
        char msg[64];
        size_t ml;
        unsigned char frame[128], mask[4];
        message(i, round, msg, sizeof msg, &ml);
        if (getrandom(mask, sizeof mask, 0) != (ssize_t)sizeof mask)
            die_errno("getrandom");
        /* FIN + text, masked, a length under 126 */
        size_t hl = 6;
        frame[0] = 0x81;
        frame[1] = (unsigned char)(0x80 | ml);
        memcpy(frame + 2, mask, 4);
        for (size_t k = 0; k < ml; k++)
            frame[hl + k] = (unsigned char)msg[k] ^ mask[k & 3];
        /* a few dozen bytes into an idle socket: one send */
        if (send(t->fd, frame, hl + ml, MSG_NOSIGNAL) != (ssize_t)(hl + ml)) {
            if (reported++ < 10)
                fprintf(stderr, "wshold: tunnel %ld: send: %s\n", i,
                        strerror(errno));
            t->st = S_CLOSED;
            continue;
        }
        t->len = 0;
        t->want = 2 + ml;       /* unmasked, under 126 bytes */
        todo++;
    }
    while (todo > 0) {
        long np = 0;
        for (long i = 0; i < opt.n; i++) {
            struct tun *t = &g_t[i];
            if (t->st != S_OPEN || !t->want || t->len >= t->want)
                continue;
            g_pfd[np].fd = t->fd;
            g_pfd[np].events = POLLIN;
            g_pfd[np].revents = 0;
            g_idx[np++] = i;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "wshold: %ld echoes missing after %ld ms\n",
                    todo, opt.timeout_ms);
            break;
        }
        int r = poll(g_pfd, (nfds_t)np, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die_errno("poll");
        }
        for (long k = 0; k < np; k++) {
            if (!g_pfd[k].revents)
                continue;
            long i = g_idx[k];
            struct tun *t = &g_t[i];
            ssize_t n = recv(t->fd, t->in + t->len, t->want - t->len, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0) {
                if (reported++ < 10)
                    fprintf(stderr, "wshold: tunnel %ld: %s before its "
                            "echo\n", i, n == 0 ? "EOF" : strerror(errno));
                t->st = S_CLOSED;
                todo--;
                continue;
            }
            t->len += (size_t)n;
            if (t->len < t->want)
                continue;
            todo--;
            char msg[64];
            size_t ml;
            message(i, round, msg, sizeof msg, &ml);
            if (t->in[0] == 0x81 && t->in[1] == ml &&
                memcmp(t->in + 2, msg, ml) == 0) {
                t->ok = 1;
                good++;
            } else if (reported++ < 10) {
                fprintf(stderr, "wshold: tunnel %ld: wrong echo\n", i);
            }
        }
    }
    return good;
}

/* Tunnels not closed by the other side. */
static long count_open(void)
{
    long open = 0;
    for (long i = 0; i < opt.n; i++) {
        struct tun *t = &g_t[i];
        if (t->st != S_OPEN)
            continue;
        unsigned char c;
        ssize_t n = recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
            open++;
        else
            t->st = S_CLOSED;
    }
    return open;
}

/* ------------------------------------------------------------------ */
/* Server mode                                                        */
/* ------------------------------------------------------------------ */

static void serve_one(int fd, long fin_ms, const char *out)
{
    static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: rawecho\r\nConnection: Upgrade\r\n\r\n";
    char in[65536];
    size_t len = 0, hl = 0;
    int of = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (of < 0)
        die_errno(out);
    while (!hl) {
        ssize_t n = recv(fd, in + len, sizeof in - len, 0);
        if (n <= 0 || (len += (size_t)n) == sizeof in) {
            close(fd);
            close(of);
            return;
        }
        hl = head_length(in, len);
    }
    if (send(fd, sw, sizeof sw - 1, MSG_NOSIGNAL) < 0)
        die_errno("send");
    if (len > hl && write(of, in + hl, len - hl) < 0)
        die_errno("write");
    /* read while we wait for the moment of our FIN */
    long long fin_at = now_ms() + fin_ms;
    int fin_sent = 0;
    for (;;) {
        int wait = -1;
        if (!fin_sent) {
            long long left = fin_at - now_ms();
            if (left <= 0) {
                if (shutdown(fd, SHUT_WR) < 0)
                    die_errno("shutdown");
                fin_sent = 1;
            } else {
                wait = (int)left;
            }
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wait);
        if (r < 0 && errno != EINTR)
            die_errno("poll");
        if (r <= 0)
            continue;
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (write(of, in, (size_t)n) < 0)
            die_errno("write");
    }
    close(of);
    close(fd);
}

static _Noreturn void server(const char *port, long fin_ms, const char *out,
                             const char *pidfile)
{
    struct sockaddr_storage ss;
    socklen_t sl = loopback_addr(&ss, 0, (uint16_t)parse_num(port, 1, 65535));
    int one = 1;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die_errno("socket");
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die_errno("setsockopt");
    if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
        die_errno("bind");
    if (listen(lfd, 16) < 0)
        die_errno("listen");
    if (pidfile)
        write_pidfile(pidfile);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die_errno("accept");
        }
        serve_one(fd, fin_ms, out);
    }
}

int main(int argc, char **argv)
{
    int c;
    const char *listen_port = NULL, *out = NULL, *pidfile = NULL;
    long fin_ms = 0;
    util_prog = "wshold";
    while ((c = getopt(argc, argv, "p:a:n:u:c:T:L:F:o:P:")) != -1) {
        switch (c) {
        case 'p': opt.port = optarg; break;
        case 'a': opt.addr = optarg; break;
        case 'n': opt.n = parse_num(optarg, 1, 100000); break;
        case 'u': opt.path = optarg; break;
        case 'c': opt.par = parse_num(optarg, 1, 100000); break;
        case 'T': opt.timeout_ms = parse_num(optarg, 1, 86400000); break;
        case 'L': listen_port = optarg; break;
        case 'F': fin_ms = parse_num(optarg, 0, 86400000); break;
        case 'o': out = optarg; break;
        case 'P': pidfile = optarg; break;
        default: usage();
        }
    }
    if (listen_port) {
        if (!out || optind != argc)
            usage();
        server(listen_port, fin_ms, out, pidfile);
    }
    if (!opt.port || optind != argc)
        usage();
    g_ai = resolve_numeric(opt.addr, opt.port, 64);
    raise_nofile(opt.n + 16);
    int n = snprintf(g_req, sizeof g_req,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", opt.path);
    if (n < 0 || (size_t)n >= sizeof g_req)
        die("path too long");
    g_req_len = (size_t)n;
    g_t = calloc((size_t)opt.n, sizeof *g_t);
    g_pfd = calloc((size_t)opt.n, sizeof *g_pfd);
    g_idx = calloc((size_t)opt.n, sizeof *g_idx);
    if (!g_t || !g_pfd || !g_idx)
        die("out of memory");
    for (long i = 0; i < opt.n; i++)
        g_t[i].fd = -1;

    open_all();
    printf("ready %ld\n", opt.n);
    fflush(stdout);

    char line[128];
    long round = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "echo") == 0)
            printf("echoed %ld of %ld\n", echo_all(++round), opt.n);
        else if (strcmp(line, "open") == 0)
            printf("open %ld of %ld\n", count_open(), opt.n);
        else if (line[0])
            fprintf(stderr, "wshold: unknown command: %s\n", line);
        fflush(stdout);
    }
    for (long i = 0; i < opt.n; i++)
        if (g_t[i].fd >= 0)
            close(g_t[i].fd);
    freeaddrinfo(g_ai);
    return 0;
}
