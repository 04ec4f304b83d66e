/*
 * flood - many WebSocket upgrades at once from many source addresses,
 * for the per-client limit tests (test/limits-load.bats) and the bench
 * of stick tables (bench/limits.sh).
 *
 * Usage: flood -p PORT [-a ADDR] [-s SRC] [-n NSRC] [-c PER] [-u PATH]
 *              [-H HOST] [-T MS] [-t SECS | -r SECS]
 *
 *   -p PORT   port to connect to (required), on ADDR (-a, 127.0.0.1)
 *   -s SRC    first source address, IPv4 (default 127.0.0.10); source i
 *             is SRC + i (127.0.0.10, 127.0.0.11, ...)
 *   -n NSRC   number of source addresses (default 1)
 *   -c PER    connections per source (default 1): NSRC * PER in all,
 *             all opened at once (non-blocking, one poll() loop)
 *   -u PATH   request target (default /), -H HOST the Host header
 *   -T MS     how long a connection may take to be answered (default
 *             10000); one that was not is counted refused and "timeout"
 *   -t SECS   hold mode: hold the served tunnels SECS seconds after the
 *             last connection was classified (without -t and -r: until
 *             stdin reaches EOF)
 *   -r SECS   repeat mode: for SECS seconds, each of the NSRC * PER slots
 *             connects, sends its upgrade, is classified, closes (also a
 *             served tunnel, at once) and starts again; the connections
 *             under way at the end are finished and counted
 *
 * Each connection is bound to its source address (port 0) before it
 * connects, then sends an HTTP/1.1 WebSocket upgrade.  It is "served"
 * when the answer is a 101 (the tunnel is then held open, hold mode),
 * "refused" on any other status, or when it is reset or closed before a
 * whole response head came.
 *
 * Output (stdout).  Hold mode: "ready served N refused M" once every
 * connection is classified (flushed: a test waits for it); when the
 * hold ends, one line per source "SRC served N refused M closed C", then
 * "total served N refused M timeout K closed C ms E": K of the refused
 * had no answer within -T, C served tunnels were closed by the other
 * side during the hold (per source: closed C of its N), E ms from the
 * start to "ready".  Repeat mode:
 * the same lines (no "ready"), counting every cycle, E the run's length.
 *
 * Exit status: 0 (whatever was refused); 1 on errors (socket, bind...);
 * 64 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define HEAD_MAX   8192         /* a longer response head: refused */
#define MAX_CONNS  100000

enum cstate {
    C_IDLE,         /* no socket (repeat mode: about to connect again) */
    C_CONNECTING,   /* connect() in progress */
    C_READING,      /* upgrade sent, waiting for the response head */
    C_SERVED,       /* 101: tunnel held open */
    C_DONE          /* classified, socket closed */
};

struct conn {
    int fd;
    int src;                /* index of its source address */
    enum cstate st;
    long long deadline;     /* C_CONNECTING, C_READING: answer by then */
    size_t in_len;
    char in[HEAD_MAX];
};

struct source {
    struct sockaddr_in addr;
    long served, refused, closed;
};

static struct {
    const char *addr, *port, *path, *host;
    struct in_addr first;
    long nsrc, per, timeout_ms, hold_s, repeat_s;
} opt = { .addr = "127.0.0.1", .path = "/", .host = "localhost", .nsrc = 1,
          .per = 1, .timeout_ms = 10000, .hold_s = -1, .repeat_s = -1 };

static struct source *g_src;
static struct conn *g_conn;
static long g_nconn;
static long g_timeouts, g_closed;
static char g_req[1024];
static size_t g_req_len;
static struct sockaddr_storage g_dst;
static socklen_t g_dst_len;

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: flood -p PORT [-a ADDR] [-s SRC] [-n NSRC] "
            "[-c PER] [-u PATH] [-H HOST] [-T MS] [-t SECS | -r SECS]\n");
    exit(64);
}

static long parse_num(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "flood: bad number: %s (allowed %ld..%ld)\n", s,
                min, max);
        usage();
    }
    return v;
}

/* As many descriptors as the hard limit allows. */
static void raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_errno("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_errno("setrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want)
        die("%ld connections need %ld descriptors, the hard limit is %ld",
            g_nconn, want, (long)rl.rlim_cur);
}

/* ------------------------------------------------------------------ */
/* One connection                                                     */
/* ------------------------------------------------------------------ */

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Classified: counted for its source; the socket is closed, except a
 * served tunnel in hold mode. */
static void conn_classify(struct conn *c, int served)
{
    if (served)
        g_src[c->src].served++;
    else
        g_src[c->src].refused++;
    if (served && opt.repeat_s < 0) {
        c->st = C_SERVED;
        return;
    }
    conn_close(c);
    c->st = C_DONE;
}

static void conn_start(struct conn *c, long long now)
{
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die_errno("socket");
#ifdef IP_BIND_ADDRESS_NO_PORT
    /* the port is picked at connect(), for the whole 4-tuple: a source
     * cycling fast (-r) does not run out of ports held in TIME_WAIT */
    (void)setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                     sizeof one);
#else
    (void)one;
#endif
    struct sockaddr_in *sa = &g_src[c->src].addr;
    if (bind(c->fd, (struct sockaddr *)sa, sizeof *sa) < 0)
        die("bind to %s: %s", inet_ntoa(sa->sin_addr), strerror(errno));
    c->in_len = 0;
    c->deadline = now + opt.timeout_ms;
    c->st = C_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&g_dst, g_dst_len) < 0 &&
        errno != EINPROGRESS) {
        if (errno == EADDRNOTAVAIL || errno == EAGAIN)
            die("connect from %s: %s", inet_ntoa(sa->sin_addr),
                strerror(errno));
        conn_classify(c, 0);    /* refused by the kernel: nobody listens */
    }
}

/* The socket is writable: the connect finished, send the upgrade (it
 * fits in any socket buffer: one send). */
static void conn_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        conn_classify(c, 0);
        return;
    }
    ssize_t n = send(c->fd, g_req, g_req_len, MSG_NOSIGNAL);
    if (n != (ssize_t)g_req_len) {
        conn_classify(c, 0);    /* reset already (or a short send) */
        return;
    }
    c->st = C_READING;
}

/* The status of a whole response head: 101 served, anything else not. */
static void conn_read_head(struct conn *c)
{
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_classify(c, 0);    /* reset or closed before the head */
        return;
    }
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    if (head_length(c->in, c->in_len) == 0) {
        if (c->in_len >= sizeof c->in - 1)
            conn_classify(c, 0);
        return;
    }
    conn_classify(c, strncmp(c->in, "HTTP/1.1 101 ", 13) == 0);
}

/* A held tunnel is readable: the echo server sends nothing unasked, so
 * this is its end (or a stray byte, ignored). */
static void conn_held_event(struct conn *c)
{
    char junk[512];
    ssize_t n = recv(c->fd, junk, sizeof junk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        return;
    g_closed++;
    g_src[c->src].closed++;
    conn_close(c);
    c->st = C_DONE;
}

/* ------------------------------------------------------------------ */
/* The loop                                                           */
/* ------------------------------------------------------------------ */

/* Runs until every connection is classified (hold mode: returns 0 then,
 * with the served tunnels still open), until stdin's EOF or -t expires
 * (stop_at, hold phase), or until the repeat deadline (stop_at too:
 * then no connection starts any more, and those under way are finished,
 * so that every connection the proxy saw is counted). */
static void run(struct pollfd *pfd, struct conn **who, long long stop_at,
                int watch_stdin)
{
    for (;;) {
        long long now = now_ms();
        nfds_t n = 0;
        int pending = 0;
        int draining = opt.repeat_s >= 0 && now >= stop_at;
        if (stop_at >= 0 && now >= stop_at && !draining)
            return;
        if (watch_stdin) {
            pfd[n].fd = 0;
            pfd[n].events = POLLIN;
            who[n++] = NULL;
        }
        for (long i = 0; i < g_nconn; i++) {
            struct conn *c = &g_conn[i];
            if (c->st == C_IDLE && opt.repeat_s >= 0 && !draining)
                conn_start(c, now);
            if ((c->st == C_CONNECTING || c->st == C_READING) &&
                now >= c->deadline) {
                g_timeouts++;
                conn_classify(c, 0);
            }
            if (c->st == C_DONE && opt.repeat_s >= 0 && !draining)
                conn_start(c, now);
            if (c->st == C_CONNECTING || c->st == C_READING)
                pending = 1;
            if (c->st == C_CONNECTING || c->st == C_READING ||
                c->st == C_SERVED) {
                pfd[n].fd = c->fd;
                pfd[n].events = c->st == C_CONNECTING ? POLLOUT : POLLIN;
                who[n++] = c;
            }
        }
        if (!pending && !watch_stdin && (stop_at < 0 || draining))
            return;     /* all classified */
        long long wait = 1000;
        if (stop_at >= 0 && !draining && stop_at - now < wait)
            wait = stop_at - now;
        int r = poll(pfd, n, (int)wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die_errno("poll");
        }
        for (nfds_t k = 0; k < n && r > 0; k++) {
            struct conn *c = who[k];
            if (!pfd[k].revents)
                continue;
            r--;
            if (c == NULL) {
                char b[512];
                ssize_t got = read(0, b, sizeof b);
                if (got == 0 || (got < 0 && errno != EINTR &&
                                 errno != EAGAIN))
                    return;     /* stdin's EOF ends the hold */
                continue;
            }
            if (c->st == C_CONNECTING)
                conn_connected(c);
            else if (c->st == C_READING)
                conn_read_head(c);
            else if (c->st == C_SERVED)
                conn_held_event(c);
        }
    }
}

static void report(long long ms)
{
    long served = 0, refused = 0;
    for (long s = 0; s < opt.nsrc; s++) {
        printf("%s served %ld refused %ld closed %ld\n",
               inet_ntoa(g_src[s].addr.sin_addr), g_src[s].served,
               g_src[s].refused, g_src[s].closed);
        served += g_src[s].served;
        refused += g_src[s].refused;
    }
    printf("total served %ld refused %ld timeout %ld closed %ld ms %lld\n",
           served, refused, g_timeouts, g_closed, ms);
    fflush(stdout);
}

static void build_request(void)
{
    int n = snprintf(g_req, sizeof g_req,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n", opt.path, opt.host);
    if (n < 0 || (size_t)n >= sizeof g_req)
        fail(64, "the request is too long");
    g_req_len = (size_t)n;
}

int main(int argc, char **argv)
{
    int c;
    util_prog = "flood";
    if (inet_pton(AF_INET, "127.0.0.10", &opt.first) != 1)
        die("inet_pton");
    while ((c = getopt(argc, argv, "p:a:s:n:c:u:H:T:t:r:")) != -1) {
        switch (c) {
        case 'p': opt.port = optarg; break;
        case 'a': opt.addr = optarg; break;
        case 's':
            if (inet_pton(AF_INET, optarg, &opt.first) != 1)
                usage();
            break;
        case 'n': opt.nsrc = parse_num(optarg, 1, 65536); break;
        case 'c': opt.per = parse_num(optarg, 1, MAX_CONNS); break;
        case 'u': opt.path = optarg; break;
        case 'H': opt.host = optarg; break;
        case 'T': opt.timeout_ms = parse_num(optarg, 1, 86400000); break;
        case 't': opt.hold_s = parse_num(optarg, 0, 86400); break;
        case 'r': opt.repeat_s = parse_num(optarg, 1, 86400); break;
        default: usage();
        }
    }
    if (!opt.port || optind != argc || (opt.hold_s >= 0 && opt.repeat_s >= 0))
        usage();
    g_nconn = opt.nsrc * opt.per;
    if (g_nconn > MAX_CONNS)
        fail(64, "at most %d connections", MAX_CONNS);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_errno("signal");
    raise_nofile(g_nconn + 16);

    struct addrinfo *ai = resolve_numeric(opt.addr, opt.port, 64);
    if (ai->ai_family != AF_INET)
        fail(64, "IPv4 only: the sources are IPv4");
    memcpy(&g_dst, ai->ai_addr, ai->ai_addrlen);
    g_dst_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    build_request();

    g_src = calloc((size_t)opt.nsrc, sizeof *g_src);
    g_conn = calloc((size_t)g_nconn, sizeof *g_conn);
    struct pollfd *pfd = calloc((size_t)g_nconn + 1, sizeof *pfd);
    struct conn **who = calloc((size_t)g_nconn + 1, sizeof *who);
    if (!g_src || !g_conn || !pfd || !who)
        die("out of memory");
    for (long s = 0; s < opt.nsrc; s++) {
        g_src[s].addr.sin_family = AF_INET;
        g_src[s].addr.sin_addr.s_addr =
            htonl(ntohl(opt.first.s_addr) + (uint32_t)s);
    }

    long long t0 = now_ms();
    /* sources interleaved: the first connection of every source, then
     * the second..., so that no source is served before the others
     * have started */
    for (long i = 0; i < g_nconn; i++) {
        g_conn[i].src = (int)(i % opt.nsrc);
        g_conn[i].fd = -1;
        g_conn[i].st = C_IDLE;
        if (opt.repeat_s < 0)
            conn_start(&g_conn[i], t0);
    }

    if (opt.repeat_s >= 0) {
        run(pfd, who, t0 + opt.repeat_s * 1000, 0);
        report(now_ms() - t0);
        return 0;
    }
    run(pfd, who, -1, 0);
    long long ready_ms = now_ms() - t0;
    long served = 0, refused = 0;
    for (long s = 0; s < opt.nsrc; s++) {
        served += g_src[s].served;
        refused += g_src[s].refused;
    }
    printf("ready served %ld refused %ld\n", served, refused);
    fflush(stdout);
    if (opt.hold_s >= 0)
        run(pfd, who, now_ms() + opt.hold_s * 1000, 0);
    else
        run(pfd, who, -1, 1);
    report(ready_ms);
    for (long i = 0; i < g_nconn; i++)
        conn_close(&g_conn[i]);
    return 0;
}
