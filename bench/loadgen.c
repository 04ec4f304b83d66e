/*
 * loadgen - the load generator of the wsproxy benchmark: one process,
 * one thread, one epoll loop, closed-loop connections.
 *
 * Usage: loadgen MODE [options]
 *
 * Modes:
 *   ws         C WebSocket connections, each sending an S-byte masked
 *              binary message and waiting for its echo before the next;
 *              every echoed byte is compared with what was sent
 *   hs         handshake rate: C slots, each looping connect, upgrade
 *              (101 and Sec-WebSocket-Accept checked), close handshake
 *              (close frame both ways, then the server's FIN), close
 *   http       GET requests on C kept-alive connections
 *   httpclose  GET requests with "Connection: close", one per connection
 *   idle       open C WebSocket tunnels (-i at a time), hold them -d
 *              seconds, measure memory, then echo one S-byte message on
 *              each (still alive?) and close them
 *   fork       this machine's bare fork()+_exit() rate (no network)
 *
 * Options:
 *   -a ADDR    server address (127.0.0.1)      -p PORT  server port
 *   -H HOST    Host header (example.com)       -u PATH  request path
 *              (/websockets for ws, hs, idle; / for http, httpclose)
 *   -e NAME    the X-Backend value every answer must carry (routing check)
 *   -c N       connections (50)                -s S     message size (64)
 *   -d SECS    measured seconds (5)            -w SECS  warm-up seconds (1)
 *   -i N       idle: handshakes in flight while opening (50)
 *   -T SECS    per-operation timeout (10): a slower operation is an error
 *   -P PID     the proxy: its process tree's CPU over the measured
 *              window (children included); idle: its memory (Pss, and
 *              Pss + page tables + kernel stacks)
 *   -B PID     the backend: its CPU over the measured window
 *
 * Output: one line "RESULT mode=... key=value ..." on stdout (the bench
 * script parses it); the first few errors are described on stderr.
 * Latencies are in microseconds, MB/s is 10^6 payload bytes per second
 * in each direction, CPU is user+system seconds from /proc/PID/stat.
 *
 * Exit status: 0 (even with errors counted: the script reports them),
 * 1 on a setup failure (nothing measured), 64 on usage errors.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wsutil.h"

#define MAX_EVENTS   512
#define MAX_CONNS    100000
#define MAX_SIZE     (16u << 20)    /* largest message (-s) */
#define PAT_SLACK    256            /* pattern offsets vary over this */
#define HEAD_MAX     16384          /* larger response heads: error */
#define RETRY_NS     10000000u      /* back-off after a failed connection */
#define DRAIN_NS     5000000000u    /* end: in-flight work gets this long */
#define SETTLE_NS    1000000000u    /* idle: wait before sampling memory */
#define MAX_PROCS    65536          /* /proc scan capacity */
#define ERR_SHOWN    5              /* errors described on stderr */

/* ------------------------------------------------------------------ */
/* Configuration, state                                               */
/* ------------------------------------------------------------------ */

enum mode { M_WS, M_HS, M_HTTP, M_HTTPCLOSE, M_IDLE, M_FORK };

enum cstate {
    C_FREE,         /* no socket: not started, dead, or waiting to retry */
    C_CONNECTING,   /* connect() in progress */
    C_WS_HS,        /* upgrade request sent, waiting for 101 */
    C_WS_OPEN,      /* tunnel up; busy: a message awaits its echo */
    C_WS_CLOSING,   /* close frame sent; waiting for its answer and FIN */
    C_HTTP,         /* request sent, waiting for the response */
    C_HTTP_EOF      /* httpclose: response read, waiting for the FIN */
};

enum phase { PH_SETUP, PH_WARM, PH_MEASURE, PH_HOLD, PH_VERIFY, PH_DRAIN,
             PH_DONE };

struct conn {
    int fd;
    unsigned gen;           /* epoll events of an older socket are stale */
    enum cstate st;
    int busy, got_close, dead, verified;
    uint32_t events;
    uint64_t t_cycle;       /* this connection's connect() */
    uint64_t t_op;          /* this message / request was sent */
    uint64_t retry_at;      /* C_FREE: restart then (0: do not) */
    uint64_t seq;           /* messages sent on this connection */
    unsigned char *out;     /* out[out_off .. out_len) still to write */
    size_t out_off, out_len, out_cap;
    unsigned char *in;      /* in[0 .. in_len) received, unconsumed */
    size_t in_len, in_cap;
    char accept[29];        /* the Sec-WebSocket-Accept we expect */
};

struct hist {
    uint64_t n, max;
    uint64_t b[64 + 58 * 64];
};

static struct {
    enum mode mode;
    const char *addr, *host, *path, *expect;
    int port, conns, inflight;
    size_t size;
    double secs, warm, op_timeout;
    pid_t proxy, backend;
} g_opt = { .addr = "127.0.0.1", .host = "example.com", .conns = 50,
            .inflight = 50, .size = 64, .secs = 5, .warm = 1,
            .op_timeout = 10 };

static struct conn *g_c;
static int g_ep = -1;
static struct sockaddr_in g_sa;
static unsigned char *g_pat;        /* random bytes messages are cut from */
static uint64_t g_rng;
static enum phase g_phase;
static uint64_t g_t_warm_end, g_t_start, g_t_end, g_t_drain_end;
static uint64_t g_t_open_start, g_t_open_end;
static int g_next_open, g_opening, g_active, g_retrying;
static uint64_t g_ops, g_errors, g_reconnects;
static struct hist g_lat, g_cyc;
static char g_req[1024];
static size_t g_req_len;

/* ------------------------------------------------------------------ */
/* Errors, small helpers                                              */
/* ------------------------------------------------------------------ */

_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "loadgen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Errors are counted, not fatal: a benchmark should report that a
 * proxy dropped 3 of 100000 messages, not stop at the first. */
static void count_error(const struct conn *c, const char *fmt, ...)
{
    va_list ap;
    g_errors++;
    if (g_errors > ERR_SHOWN)
        return;
    fprintf(stderr, "loadgen: conn %ld: ", c ? (long)(c - g_c) : -1L);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (g_errors == ERR_SHOWN)
        fprintf(stderr, "loadgen: (further errors only counted)\n");
}

/* xorshift64*: masks, keys and pattern bytes need to be unpredictable to
 * nobody, just different from each other. */
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory");
    return p;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        die("getrusage: %s", strerror(errno));
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------ */
/* Latency histogram: 64 exact buckets, then 64 per power of two (1.6%) */
/* ------------------------------------------------------------------ */

static size_t hist_index(uint64_t v)
{
    if (v < 64)
        return (size_t)v;
    int e = 63 - __builtin_clzll(v);        /* 6 .. 63 */
    size_t i = 64 + (size_t)(e - 6) * 64 + (size_t)((v >> (e - 6)) & 63);
    size_t last = sizeof g_lat.b / sizeof g_lat.b[0] - 1;
    return i < last ? i : last;
}

/* The middle of bucket i, in the unit recorded (ns). */
static double hist_value(size_t i)
{
    if (i < 64)
        return (double)i;
    size_t e = (i - 64) / 64 + 6, sub = (i - 64) % 64;
    double lo = (double)(1ull << e) + (double)sub * (double)(1ull << (e - 6));
    return lo + (double)(1ull << (e - 6)) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

/* p-th percentile in microseconds; the max is exact, the rest are
 * bucket middles (and never above the max). */
static double hist_pct_us(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < sizeof h->b / sizeof h->b[0]; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return (v > (double)h->max ? (double)h->max : v) / 1000.0;
        }
    }
    return (double)h->max / 1000.0;
}

/* ------------------------------------------------------------------ */
/* /proc: a process tree's CPU and memory                             */
/* ------------------------------------------------------------------ */

/* Reads /proc/PID/stat; fills ppid and the CPU ticks (utime + stime +
 * cutime + cstime: the process, all its threads, and the children it has
 * reaped).  -1 if the process is gone. */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name is in parentheses and may hold anything. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    char state;
    long pp;
    unsigned long long f[4];
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime */
    if (sscanf(p + 1, " %c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
               "%llu %llu %llu %llu", &state, &pp, &f[0], &f[1], &f[2],
               &f[3]) != 6)
        return -1;
    *ppid = (pid_t)pp;
    *ticks = f[0] + f[1] + f[2] + f[3];
    return 0;
}

/* The pids of root's process tree (root first); returns their count.
 * One pass over /proc collects every (pid, ppid), then the tree is
 * grown breadth-first, so grandchildren count too. */
static size_t tree_pids(pid_t root, pid_t *out, size_t max,
                        unsigned long long *ticks_out)
{
    static pid_t pid[MAX_PROCS], ppid[MAX_PROCS];
    static unsigned long long tk[MAX_PROCS];
    size_t n = 0, nout = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;

    if (!d)
        die("opendir /proc: %s", strerror(errno));
    while ((de = readdir(d)) != NULL && n < MAX_PROCS) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t p = (pid_t)atol(de->d_name);
        if (read_stat(p, &ppid[n], &tk[n]) == 0)
            pid[n++] = p;
    }
    closedir(d);

    if (ticks_out)
        *ticks_out = 0;
    for (size_t i = 0; i < n; i++)
        if (pid[i] == root) {
            out[nout++] = root;
            if (ticks_out)
                *ticks_out += tk[i];
        }
    for (size_t k = 0; k < nout; k++)           /* out[] is the BFS queue */
        for (size_t i = 0; i < n && nout < max; i++)
            if (ppid[i] == out[k] && pid[i] != root) {
                out[nout++] = pid[i];
                if (ticks_out)
                    *ticks_out += tk[i];
            }
    return nout;
}

/* CPU seconds of the tree: its live members' times plus what they have
 * reaped.  A child reaped between two reads of this scan can be counted
 * twice or not at all; that is one child's few hundred microseconds. */
static double tree_cpu_s(pid_t root, size_t *nprocs)
{
    static pid_t pids[MAX_PROCS];
    unsigned long long ticks;
    size_t n = tree_pids(root, pids, MAX_PROCS, &ticks);
    long hz = sysconf(_SC_CLK_TCK);
    if (nprocs)
        *nprocs = n;
    if (hz <= 0)
        die("sysconf(_SC_CLK_TCK) failed");
    return n ? (double)ticks / (double)hz : -1;
}

/* "Key: N kB" from a /proc file; -1 if absent. */
static long long proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "re");
    char line[256];
    size_t kl = strlen(key);
    long long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* A kernel stack per thread: THREAD_SIZE, 16 KiB on x86-64 and arm64
 * (32 with KASAN).  Not in any /proc figure of a process. */
#define KSTACK_KB    16

/* What the proxy's process tree holds, in kB.  pss: the sum of Pss, where
 * shared pages (the forked children share most of the parent's) are split
 * between their sharers, so the sum is what the tree really costs in user
 * memory.  pte: its page tables (VmPTE); threads: its threads, each with
 * a kernel stack.  Sockets, task and mm structures are not in these: see
 * MemAvailable, which has everything but is the whole machine's. */
struct tree_mem {
    long long pss, pte, threads;
    size_t procs;
};

static void tree_mem(pid_t root, struct tree_mem *m)
{
    static pid_t pids[MAX_PROCS];
    size_t n = tree_pids(root, pids, MAX_PROCS, NULL);
    m->pss = m->pte = m->threads = 0;
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", (long)pids[i]);
        long long v = proc_kb(path, "Pss");
        if (v > 0)
            m->pss += v;
        snprintf(path, sizeof path, "/proc/%ld/status", (long)pids[i]);
        v = proc_kb(path, "VmPTE");
        if (v > 0)
            m->pte += v;
        v = proc_kb(path, "Threads");   /* "Threads:\t1": no unit */
        if (v > 0)
            m->threads += v;
    }
    m->procs = n;
    if (n == 0)
        m->pss = m->pte = m->threads = -1;
}

/* Pss + page tables + kernel stacks */
static long long tree_mem_est_kb(const struct tree_mem *m)
{
    return m->pss + m->pte + m->threads * KSTACK_KB;
}

static long long mem_available_kb(void)
{
    long long v = proc_kb("/proc/meminfo", "MemAvailable");
    if (v < 0)
        die("no MemAvailable in /proc/meminfo");
    return v;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                            */
/* ------------------------------------------------------------------ */

static uint64_t tag(const struct conn *c)
{
    return (uint64_t)c->gen << 32 | (uint64_t)(c - g_c);
}

static void watch(struct conn *c, uint32_t events)
{
    if (events == c->events)
        return;
    struct epoll_event ev = { .events = events, .data.u64 = tag(c) };
    if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl MOD: %s", strerror(errno));
    c->events = events;
}

static int in_window(uint64_t now)
{
    return g_phase == PH_MEASURE && now >= g_t_start && now < g_t_end;
}

/* Does this mode start the slot over once it is finished or failed?
 * All but idle do, so that a failure costs an error, not concurrency;
 * idle counts tunnels, so a failed one stays failed. */
static int restarts(void)
{
    return g_opt.mode != M_IDLE &&
           (g_phase == PH_SETUP || g_phase == PH_WARM || g_phase == PH_MEASURE);
}

/* Close the socket; the slot restarts now (ok) or after a back-off. */
static void slot_end(struct conn *c, int ok)
{
    if (c->fd >= 0) {
        /* close() also takes the fd out of the epoll set */
        if (close(c->fd) < 0 && errno != EINTR)
            die("close: %s", strerror(errno));
        c->fd = -1;
        g_active--;
    }
    if ((c->st == C_CONNECTING || c->st == C_WS_HS) && g_opt.mode == M_IDLE)
        g_opening--;            /* a handshake that will not finish */
    c->st = C_FREE;
    c->busy = c->got_close = 0;
    c->in_len = c->out_len = c->out_off = 0;
    c->retry_at = 0;
    if (!restarts()) {
        c->dead = 1;
        return;
    }
    c->retry_at = mono_ns() + (ok ? 0 : RETRY_NS);
    g_retrying++;
}

static void fail(struct conn *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    count_error(c, "%s", msg);
    slot_end(c, 0);
}

/* Non-blocking connect; the result comes as EPOLLOUT. */
static void slot_start(struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            fail(c, "socket: %s", strerror(errno));
            return;
        }
        die("socket: %s", strerror(errno));
    }
    /* Messages are small and each waits for its answer: no Nagle. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt TCP_NODELAY: %s", strerror(errno));
    c->fd = fd;
    c->gen++;
    g_active++;
    c->st = C_CONNECTING;
    c->t_cycle = mono_ns();
    c->in_len = c->out_len = c->out_off = 0;
    c->busy = c->got_close = 0;
    if (connect(fd, (struct sockaddr *)&g_sa, sizeof g_sa) < 0 &&
        errno != EINPROGRESS) {
        fail(c, "connect: %s", strerror(errno));
        return;
    }
    c->events = EPOLLOUT;
    struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = tag(c) };
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl ADD: %s", strerror(errno));
}

/* Write what is pending.  0: all written or waiting for EPOLLOUT; -1:
 * the connection failed (and was ended). */
static int flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                watch(c, EPOLLIN | EPOLLOUT);
                return 0;
            }
            fail(c, "write: %s", strerror(errno));
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    watch(c, EPOLLIN);
    return 0;
}

static int send_bytes(struct conn *c, const void *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_len + n;
        unsigned char *np = realloc(c->out, cap);
        if (!np)
            die("out of memory");
        c->out = np;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    c->t_op = mono_ns();
    return flush(c);
}

/* ------------------------------------------------------------------ */
/* HTTP responses                                                     */
/* ------------------------------------------------------------------ */

struct resp {
    int status, conn_close, up_ws, chunked;
    long long clen;                 /* -1: none */
    const char *backend, *accept;   /* header values, not NUL-terminated */
    size_t backend_len, accept_len;
};

/* Parses the response head at p[0..n); returns its length, 0 if
 * incomplete, -1 if it is no HTTP/1.x response. */
static long parse_resp(const char *p, size_t n, struct resp *r)
{
    const char *end = NULL;
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' &&
            p[i - 3] == '\r') {
            end = p + i + 1;
            break;
        }
    if (!end)
        return n > HEAD_MAX ? -1 : 0;
    memset(r, 0, sizeof *r);
    r->clen = -1;
    if (end - p < 12 || (memcmp(p, "HTTP/1.1 ", 9) && memcmp(p, "HTTP/1.0 ", 9)))
        return -1;
    r->status = atoi(p + 9);
    const char *l = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
    while (l < end) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t ll = (size_t)(nl - l);
        if (ll > 0 && l[ll - 1] == '\r')
            ll--;
        const char *colon = memchr(l, ':', ll);
        if (colon) {
            size_t kl = (size_t)(colon - l);
            const char *v = colon + 1, *ve = l + ll;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t vl = (size_t)(ve - v);
#define IS(h) (kl == sizeof(h) - 1 && strncasecmp(l, h, kl) == 0)
            if (IS("Content-Length"))
                r->clen = atoll(v);
            else if (IS("Transfer-Encoding"))
                r->chunked = 1;
            else if (IS("Connection"))
                r->conn_close |= vl >= 5 && strncasecmp(v, "close", 5) == 0;
            else if (IS("Upgrade"))
                r->up_ws = vl == 9 && strncasecmp(v, "websocket", 9) == 0;
            else if (IS("X-Backend")) {
                r->backend = v;
                r->backend_len = vl;
            } else if (IS("Sec-WebSocket-Accept")) {
                r->accept = v;
                r->accept_len = vl;
            }
#undef IS
        }
        l = nl + 1;
    }
    return end - p;
}

static int backend_ok(const struct resp *r)
{
    return !g_opt.expect || (r->backend &&
           r->backend_len == strlen(g_opt.expect) &&
           memcmp(r->backend, g_opt.expect, r->backend_len) == 0);
}

/* ------------------------------------------------------------------ */
/* WebSocket                                                          */
/* ------------------------------------------------------------------ */

static void ws_send_upgrade(struct conn *c)
{
    unsigned char raw[16];
    char key[25], req[1024];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rnd();
        memcpy(raw + i, &r, 8);
    }
    ws_base64(raw, sizeof raw, key);
    if (ws_accept_value(key, strlen(key), c->accept) < 0)
        die("ws_accept_value failed");
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "\r\n", g_opt.path, g_opt.host, key);
    if (n < 0 || (size_t)n >= sizeof req)
        die("request too long");
    c->st = C_WS_HS;
    (void)send_bytes(c, req, (size_t)n);
}

/* Message k of connection i is the pattern from an offset of its own,
 * so an echo that went to the wrong connection, or an old echo, fails
 * the comparison just as a corrupted byte does. */
static const unsigned char *ws_expected(const struct conn *c, uint64_t seq)
{
    return g_pat + (((uint64_t)(c - g_c) * 37 + seq * 13) % PAT_SLACK);
}

static void ws_send_msg(struct conn *c)
{
    unsigned char mask[4];
    uint32_t m = (uint32_t)rnd();
    memcpy(mask, &m, 4);
    if (c->out_cap < g_opt.size + 14) {
        unsigned char *np = realloc(c->out, g_opt.size + 14);
        if (!np)
            die("out of memory");
        c->out = np;
        c->out_cap = g_opt.size + 14;
    }
    /* A closed loop: the output buffer is empty here. */
    size_t hl = ws_put_header(c->out, 0x80 | WS_OP_BINARY, g_opt.size, mask);
    ws_mask_copy(c->out + hl, ws_expected(c, c->seq), g_opt.size, mask);
    c->out_off = 0;
    c->out_len = hl + g_opt.size;
    c->busy = 1;
    c->t_op = mono_ns();
    (void)flush(c);
}

static void ws_send_close(struct conn *c)
{
    unsigned char f[8], mask[4];
    uint32_t m = (uint32_t)rnd();
    const unsigned char code[2] = { 1000 >> 8, 1000 & 0xff };
    memcpy(mask, &m, 4);
    size_t hl = ws_put_header(f, 0x80 | WS_OP_CLOSE, 2, mask);
    ws_mask_copy(f + hl, code, 2, mask);
    c->st = C_WS_CLOSING;
    c->busy = 0;
    (void)send_bytes(c, f, hl + 2);
}

/* What an open tunnel does next, now that it has nothing in flight. */
static void ws_next(struct conn *c)
{
    if (g_opt.mode == M_HS || g_phase == PH_DRAIN)
        ws_send_close(c);
    else if (g_opt.mode == M_WS)
        ws_send_msg(c);
    else if (g_opt.mode == M_IDLE && g_phase == PH_VERIFY) {
        if (c->verified)
            ws_send_close(c);
        else
            ws_send_msg(c);
    }
    /* idle mode while opening or holding: stay quiet */
}

/* The 101 answer: checked, then the tunnel is open. */
static void ws_on_head(struct conn *c)
{
    struct resp r;
    long hl = parse_resp((const char *)c->in, c->in_len, &r);
    if (hl == 0)
        return;
    if (hl < 0) {
        fail(c, "upgrade: no HTTP response");
        return;
    }
    if (r.status != 101) {
        fail(c, "upgrade: status %d", r.status);
        return;
    }
    if (!r.up_ws || r.accept_len != 28 || memcmp(r.accept, c->accept, 28)) {
        fail(c, "upgrade: no or bad Sec-WebSocket-Accept/Upgrade");
        return;
    }
    if (!backend_ok(&r)) {
        fail(c, "upgrade: wrong X-Backend (routing)");
        return;
    }
    uint64_t now = mono_ns();
    if (g_opt.mode == M_HS && in_window(now))
        hist_add(&g_lat, now - c->t_cycle);
    memmove(c->in, c->in + hl, c->in_len - (size_t)hl);
    c->in_len -= (size_t)hl;
    c->st = C_WS_OPEN;
    if (g_opt.mode == M_IDLE)
        g_opening--;
    ws_next(c);
}

/* Frames from the server: echoes, the close answer.  -1 if c ended. */
static int ws_on_frames(struct conn *c)
{
    for (;;) {
        unsigned b0;
        int masked;
        uint64_t len;
        size_t hl = ws_frame_header(c->in, c->in_len, &b0, &masked, &len);
        if (hl == 0)
            return 0;
        if (masked || len > MAX_SIZE) {
            fail(c, "bad frame from server (masked or %llu bytes)",
                 (unsigned long long)len);
            return -1;
        }
        if (c->in_len < hl + len) {
            if (c->in_cap < hl + len) {
                unsigned char *np = realloc(c->in, hl + (size_t)len);
                if (!np)
                    die("out of memory");
                c->in = np;
                c->in_cap = hl + (size_t)len;
            }
            return 0;
        }
        unsigned op = b0 & 0x0f;
        if (op == WS_OP_CLOSE) {
            if (c->st != C_WS_CLOSING) {
                fail(c, "server closed the tunnel");
                return -1;
            }
            c->got_close = 1;
        } else if (c->st == C_WS_OPEN && c->busy) {
            if (b0 != (0x80 | WS_OP_BINARY) || len != g_opt.size ||
                memcmp(c->in + hl, ws_expected(c, c->seq), g_opt.size)) {
                fail(c, "echo %llu differs from the message sent",
                     (unsigned long long)c->seq);
                return -1;
            }
            uint64_t now = mono_ns();
            if (in_window(now)) {
                hist_add(&g_lat, now - c->t_op);
                g_ops++;
            }
            c->seq++;
            c->busy = 0;
            if (g_opt.mode == M_IDLE)
                c->verified = 1;
        } else if (c->st != C_WS_CLOSING) {
            /* closing: an echo still in flight may arrive; ignore it */
            fail(c, "unexpected frame (opcode %u)", op);
            return -1;
        }
        memmove(c->in, c->in + hl + len, c->in_len - hl - (size_t)len);
        c->in_len -= hl + (size_t)len;
        if (c->st == C_WS_OPEN && !c->busy)
            ws_next(c);
        if (c->fd < 0)
            return -1;
    }
}

/* ------------------------------------------------------------------ */
/* HTTP                                                               */
/* ------------------------------------------------------------------ */

static void http_send(struct conn *c)
{
    c->st = C_HTTP;
    c->busy = 1;
    (void)send_bytes(c, g_req, g_req_len);
}

static void http_on_data(struct conn *c)
{
    struct resp r;
    if (c->st == C_HTTP_EOF) {
        fail(c, "data after a Connection: close response");
        return;
    }
    long hl = parse_resp((const char *)c->in, c->in_len, &r);
    if (hl == 0)
        return;
    if (hl < 0) {
        fail(c, "no HTTP response");
        return;
    }
    if (r.status != 200 || r.chunked || r.clen < 0 || !backend_ok(&r)) {
        fail(c, "response: status %d, %s, X-Backend %s", r.status,
             r.chunked ? "chunked" : r.clen < 0 ? "no length" : "length ok",
             backend_ok(&r) ? "ok" : "wrong (routing)");
        return;
    }
    if (c->in_len < (size_t)hl + (size_t)r.clen)
        return;                     /* the body is still coming */
    if (c->in_len > (size_t)hl + (size_t)r.clen) {
        fail(c, "bytes after the response");
        return;
    }
    uint64_t now = mono_ns();
    if (in_window(now)) {
        hist_add(&g_lat, now - c->t_op);
        hist_add(&g_cyc, now - c->t_cycle);
        g_ops++;
    }
    c->in_len = 0;
    c->busy = 0;
    if (g_opt.mode == M_HTTPCLOSE) {
        if (!r.conn_close) {
            fail(c, "no Connection: close in the answer");
            return;
        }
        c->st = C_HTTP_EOF;         /* the server closes first */
        return;
    }
    if (r.conn_close) {             /* the server ended keep-alive */
        g_reconnects++;
        slot_end(c, 1);
        return;
    }
    if (g_phase == PH_DRAIN)
        slot_end(c, 1);
    else
        http_send(c);
}

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        die("getsockopt SO_ERROR: %s", strerror(errno));
    if (err) {
        fail(c, "connect: %s", strerror(err));
        return;
    }
    watch(c, EPOLLIN);
    if (g_opt.mode == M_HTTP || g_opt.mode == M_HTTPCLOSE)
        http_send(c);
    else
        ws_send_upgrade(c);
}

static void on_eof(struct conn *c)
{
    uint64_t now = mono_ns();
    if (c->st == C_WS_CLOSING && c->got_close) {
        if (g_opt.mode == M_HS && in_window(now)) {
            g_ops++;
            hist_add(&g_cyc, now - c->t_cycle);
        }
        slot_end(c, 1);
    } else if (c->st == C_HTTP_EOF) {
        slot_end(c, 1);
    } else if (c->st == C_HTTP && !c->busy) {
        g_reconnects++;             /* idle keep-alive closed by server */
        slot_end(c, 1);
    } else {
        fail(c, "connection closed early (state %d)", (int)c->st);
    }
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 1024) {
            size_t cap = c->in_cap * 2;
            unsigned char *np = realloc(c->in, cap);
            if (!np)
                die("out of memory");
            c->in = np;
            c->in_cap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            fail(c, "read: %s", strerror(errno));
            return;
        }
        if (n == 0) {
            on_eof(c);
            return;
        }
        c->in_len += (size_t)n;
        switch (c->st) {
        case C_WS_HS:
            ws_on_head(c);
            if (c->st == C_WS_OPEN || c->st == C_WS_CLOSING)
                if (ws_on_frames(c) < 0)
                    return;
            break;
        case C_WS_OPEN:
        case C_WS_CLOSING:
            if (ws_on_frames(c) < 0)
                return;
            break;
        case C_HTTP:
        case C_HTTP_EOF:
            http_on_data(c);
            break;
        default:
            fail(c, "data in state %d", (int)c->st);
            return;
        }
        if (c->fd < 0)
            return;
        /* A short read emptied the socket; a full one may have left
         * more, and reading again is cheaper than another epoll_wait. */
        if ((size_t)n < 1024)
            return;
    }
}

static void on_event(struct conn *c, uint32_t ev)
{
    if (c->st == C_CONNECTING) {
        on_connected(c);
        return;
    }
    if ((ev & EPOLLOUT) && flush(c) < 0)
        return;
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
}

/* ------------------------------------------------------------------ */
/* The run                                                            */
/* ------------------------------------------------------------------ */

static double ns_s(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* Operations older than the timeout fail: a stuck proxy must show up as
 * errors, not as a benchmark that never ends. */
static void check_timeouts(uint64_t now)
{
    uint64_t limit = (uint64_t)(g_opt.op_timeout * 1e9);
    for (int i = 0; i < g_opt.conns; i++) {
        struct conn *c = &g_c[i];
        if (c->fd < 0)
            continue;
        int waiting = c->st == C_CONNECTING || c->st == C_WS_HS ||
                      c->st == C_WS_CLOSING || c->st == C_HTTP_EOF ||
                      c->busy;
        uint64_t since = c->st == C_CONNECTING || c->st == C_WS_HS
                         ? c->t_cycle : c->t_op;
        /* since can be after now: a slot restarted in this round */
        if (waiting && now > since && now - since > limit)
            fail(c, "timeout in state %d", (int)c->st);
    }
}

static void restart_due(uint64_t now)
{
    for (int i = 0; i < g_opt.conns && g_retrying > 0; i++) {
        struct conn *c = &g_c[i];
        if (c->st != C_FREE || c->fd >= 0 || c->retry_at == 0 ||
            c->retry_at > now)
            continue;
        c->retry_at = 0;
        g_retrying--;
        if (restarts())
            slot_start(c);
    }
}

/* Idle mode opens at most -i handshakes at a time. */
static void open_more(void)
{
    while (g_next_open < g_opt.conns && g_opening < g_opt.inflight) {
        g_opening++;
        slot_start(&g_c[g_next_open++]);
    }
}

static int setup_done(void)
{
    if (g_opt.mode == M_HS || g_opt.mode == M_HTTPCLOSE)
        return 1;               /* every cycle is set-up: nothing to wait for */
    for (int i = 0; i < g_opt.conns; i++) {
        const struct conn *c = &g_c[i];
        if (c->dead)
            continue;
        if (g_opt.mode == M_IDLE ? c->st != C_WS_OPEN
            : (c->st == C_CONNECTING || c->st == C_WS_HS))
            return 0;
    }
    return g_opt.mode != M_IDLE || g_next_open == g_opt.conns;
}

/* Begin the end: no new work, in-flight work finishes, tunnels close. */
static void start_drain(uint64_t now)
{
    g_phase = PH_DRAIN;
    g_t_drain_end = now + DRAIN_NS;
    for (int i = 0; i < g_opt.conns; i++) {
        struct conn *c = &g_c[i];
        if (c->st == C_FREE && c->retry_at) {
            c->retry_at = 0;
            g_retrying--;
        }
        if (c->fd < 0)
            continue;
        if (c->st == C_WS_OPEN && !c->busy)
            ws_send_close(c);
        else if (c->st == C_HTTP && !c->busy)
            slot_end(c, 1);
    }
}

/* Free pages parked on the per-CPU lists (the "count:" lines of the
 * pagesets in /proc/zoneinfo), in kB.  MemAvailable leaves them out, and
 * since Linux 6.7 the kernel lets those lists grow to tens of MB under
 * heavy alloc/free churn (1000 processes exiting is that) and shrinks
 * them back only over tens of seconds: without this, the memory of the
 * previous run's processes would look "used" for that long. */
static long long pcp_free_kb(void)
{
    FILE *f = fopen("/proc/zoneinfo", "re");
    char line[256];
    long long pages = 0;
    long psz = sysconf(_SC_PAGESIZE);
    if (!f)
        die("open /proc/zoneinfo: %s", strerror(errno));
    if (psz <= 0)
        die("sysconf(_SC_PAGESIZE) failed");
    while (fgets(line, sizeof line, f)) {
        const char *p = line + strspn(line, " ");
        if (strncmp(p, "count:", 6) == 0)
            pages += strtoll(p + 6, NULL, 10);
    }
    fclose(f);
    return pages * (psz / 1024);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) < 0)
        if (errno != EINTR)
            die("nanosleep: %s", strerror(errno));
}

/* MemAvailable and the same plus the per-CPU free pages, the baseline
 * once the latter holds still (under 1 MB of change in half a second,
 * at most 15 s), so that memory still being freed after the previous run
 * is not credited to the tunnels. */
static void stable_mem_available_kb(long long *avail, long long *with_pcp,
                                    double *waited_s)
{
    uint64_t t0 = mono_ns();
    long long prev = mem_available_kb() + pcp_free_kb(), cur = prev;
    for (int i = 0; i < 30; i++) {
        sleep_ns(500000000u);
        *avail = mem_available_kb();
        cur = *avail + pcp_free_kb();
        if (llabs(cur - prev) < 1024)
            break;
        prev = cur;
    }
    *with_pcp = cur;
    *waited_s = ns_s(mono_ns() - t0);
}

struct sample {
    double self, proxy, backend;
    unsigned long long busy, nice, total;   /* machine, /proc/stat ticks */
};

/* The whole machine's busy and total CPU ticks (all CPUs), so the report
 * can say whether the run used the CPUs up.  Niced time is not "busy":
 * background jobs run niced (the fuzzers here do), and they soak up
 * whatever CPU a latency-bound run leaves; their share is reported
 * apart, as a warning that the run did not have the machine alone. */
static void machine_ticks(unsigned long long *busy, unsigned long long *nice,
                          unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "re");
    unsigned long long t[8] = { 0 };
    if (!f)
        die("open /proc/stat: %s", strerror(errno));
    /* cpu  user nice system idle iowait irq softirq steal */
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0],
                   &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7]);
    fclose(f);
    if (n != 8)
        die("unexpected /proc/stat");
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += t[i];
    *nice = t[1];
    *busy = *total - t[1] - t[3] - t[4];
}

static void take_sample(struct sample *s)
{
    machine_ticks(&s->busy, &s->nice, &s->total);
    s->self = cpu_self_s();
    s->proxy = g_opt.proxy ? tree_cpu_s(g_opt.proxy, NULL) : -1;
    s->backend = g_opt.backend ? tree_cpu_s(g_opt.backend, NULL) : -1;
}

static void run(void)
{
    struct epoll_event evs[MAX_EVENTS];
    struct sample s0 = { 0 }, s1 = { 0 };
    struct tree_mem tm0 = { -1, -1, -1, 0 }, tm1 = { -1, -1, -1, 0 };
    long long ma0 = 0, ma1 = 0;
    long long mp0 = 0, mp1 = 0;     /* MemAvailable + per-CPU free pages */
    double settle_s = 0;
    uint64_t last_check = mono_ns();

    if (g_opt.mode == M_IDLE) {
        /* The baseline, before any connection exists. */
        if (g_opt.proxy)
            tree_mem(g_opt.proxy, &tm0);
        stable_mem_available_kb(&ma0, &mp0, &settle_s);
        g_t_open_start = mono_ns();
        open_more();
    } else {
        for (int i = 0; i < g_opt.conns; i++)
            slot_start(&g_c[i]);
    }
    g_phase = PH_SETUP;
    uint64_t setup_deadline = mono_ns() +
        (uint64_t)((g_opt.op_timeout + 0.01 * g_opt.conns) * 1e9);

    while (g_phase != PH_DONE) {
        uint64_t now = mono_ns();
        switch (g_phase) {
        case PH_SETUP:
            if (setup_done() || now > setup_deadline) {
                if (now > setup_deadline)
                    count_error(NULL, "setup did not finish in time");
                if (g_opt.mode == M_IDLE) {
                    g_t_open_end = now;
                    g_phase = PH_HOLD;
                    g_t_end = now + (uint64_t)(g_opt.secs * 1e9);
                } else {
                    g_phase = PH_WARM;
                    g_t_warm_end = now + (uint64_t)(g_opt.warm * 1e9);
                }
            }
            break;
        case PH_WARM:
            if (now >= g_t_warm_end) {
                take_sample(&s0);
                g_t_start = mono_ns();
                g_t_end = g_t_start + (uint64_t)(g_opt.secs * 1e9);
                g_phase = PH_MEASURE;
            }
            break;
        case PH_MEASURE:
            if (now >= g_t_end) {
                take_sample(&s1);
                start_drain(mono_ns());
            }
            break;
        case PH_HOLD:
            if (now >= g_t_end && now >= g_t_open_end + SETTLE_NS) {
                if (g_opt.proxy)
                    tree_mem(g_opt.proxy, &tm1);
                ma1 = mem_available_kb();
                mp1 = ma1 + pcp_free_kb();
                g_phase = PH_VERIFY;
                g_t_drain_end = mono_ns() + DRAIN_NS +
                    (uint64_t)(g_opt.op_timeout * 1e9);
                for (int i = 0; i < g_opt.conns; i++)
                    if (g_c[i].st == C_WS_OPEN)
                        ws_next(&g_c[i]);
            }
            break;
        case PH_VERIFY:
        case PH_DRAIN:
            if (g_active == 0 || now >= g_t_drain_end) {
                for (int i = 0; i < g_opt.conns; i++)
                    if (g_c[i].fd >= 0)
                        fail(&g_c[i], "still open at the end (state %d)",
                             (int)g_c[i].st);
                g_phase = PH_DONE;
                continue;
            }
            break;
        case PH_DONE:
            break;
        }
        if (g_phase == PH_SETUP && g_opt.mode == M_IDLE)
            open_more();
        if (g_retrying)
            restart_due(now);
        if (now - last_check > 100000000u) {
            check_timeouts(now);
            last_check = now;
        }

        int timeout = g_retrying ? 1 : 10;
        int n = epoll_wait(g_ep, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            uint32_t idx = (uint32_t)evs[i].data.u64;
            struct conn *c = &g_c[idx];
            if ((unsigned)(evs[i].data.u64 >> 32) != c->gen || c->fd < 0)
                continue;       /* an event of a socket since closed */
            on_event(c, evs[i].events);
        }
    }


    /* The report: one line of key=value for the script. */
    printf("RESULT mode=%s conns=%d",
           (const char *[]){ "ws", "hs", "http", "httpclose", "idle",
                             "fork" }[g_opt.mode], g_opt.conns);
    if (g_opt.mode == M_IDLE) {
        double open_s = ns_s(g_t_open_end - g_t_open_start);
        size_t ok = 0;
        for (int i = 0; i < g_opt.conns; i++)
            ok += g_c[i].verified;
        printf(" size=%zu open_s=%.3f open_rate=%.1f verified=%zu "
               "settle_s=%.1f memavail_drop_kb=%lld memavail_per_conn_kb=%.1f "
               "avail_pcp_drop_kb=%lld avail_pcp_per_conn_kb=%.1f",
               g_opt.size, open_s, open_s > 0 ? g_opt.conns / open_s : 0, ok,
               settle_s, ma0 - ma1, (double)(ma0 - ma1) / g_opt.conns,
               mp0 - mp1, (double)(mp0 - mp1) / g_opt.conns);
        if (g_opt.proxy)
            printf(" procs=%zu pss_base_kb=%lld pss_kb=%lld "
                   "pss_per_conn_kb=%.1f pte_base_kb=%lld pte_kb=%lld "
                   "threads_base=%lld threads=%lld est_base_kb=%lld "
                   "est_kb=%lld est_per_conn_kb=%.1f", tm1.procs, tm0.pss,
                   tm1.pss, (double)(tm1.pss - tm0.pss) / g_opt.conns,
                   tm0.pte, tm1.pte, tm0.threads, tm1.threads,
                   tree_mem_est_kb(&tm0), tree_mem_est_kb(&tm1),
                   (double)(tree_mem_est_kb(&tm1) - tree_mem_est_kb(&tm0)) /
                       g_opt.conns);
        printf(" errors=%llu\n", (unsigned long long)g_errors);
        return;
    }
    double secs = ns_s(g_t_end - g_t_start);
    double ops = (double)g_ops;
    printf(" size=%zu secs=%.3f ops=%llu rate=%.1f", g_opt.size, secs,
           (unsigned long long)g_ops, ops / secs);
    if (g_opt.mode == M_WS)
        printf(" mb_s=%.2f", ops * (double)g_opt.size / secs / 1e6);
    printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f",
           hist_pct_us(&g_lat, 50), hist_pct_us(&g_lat, 90),
           hist_pct_us(&g_lat, 99), (double)g_lat.max / 1000.0);
    if (g_opt.mode == M_HS || g_opt.mode == M_HTTPCLOSE)
        printf(" cyc_p50_us=%.1f cyc_p99_us=%.1f", hist_pct_us(&g_cyc, 50),
               hist_pct_us(&g_cyc, 99));
    printf(" self_cpu_s=%.3f self_cpu_pct=%.1f", s1.self - s0.self,
           100 * (s1.self - s0.self) / secs);
    if (g_opt.proxy) {
        double cpu = s1.proxy - s0.proxy;
        printf(" proxy_cpu_s=%.3f proxy_cpu_pct=%.1f proxy_us_per_op=%.2f",
               cpu, 100 * cpu / secs, ops > 0 ? cpu * 1e6 / ops : 0);
    }
    if (g_opt.backend)
        printf(" backend_cpu_s=%.3f backend_cpu_pct=%.1f",
               s1.backend - s0.backend, 100 * (s1.backend - s0.backend) / secs);
    if (s1.total > s0.total) {
        /* Busy time that none of the three of us used: other processes
         * (a CI run, say) sharing the machine during the measurement. */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        double ticks = (double)(s1.total - s0.total);
        double busy = 100.0 * (double)(s1.busy - s0.busy) / ticks;
        double ours = (s1.self - s0.self) +
                      (g_opt.proxy ? s1.proxy - s0.proxy : 0) +
                      (g_opt.backend ? s1.backend - s0.backend : 0);
        printf(" machine_busy_pct=%.1f machine_nice_pct=%.1f", busy,
               100.0 * (double)(s1.nice - s0.nice) / ticks);
        if (ncpu > 0)
            printf(" other_cpu_pct=%.1f",
                   busy - 100.0 * ours / (secs * (double)ncpu));
    }
    printf(" reconnects=%llu errors=%llu\n", (unsigned long long)g_reconnects,
           (unsigned long long)g_errors);
}

/* ------------------------------------------------------------------ */
/* fork mode                                                          */
/* ------------------------------------------------------------------ */

/* fork() of this small process, the child _exit()s at once: what a
 * fork-per-connection server pays before it does anything.  Serial:
 * fork, wait, repeat (one at a time, parent and child alternate).
 * Pipelined: keep up to 64 children unreaped, as an accept loop that
 * reaps on SIGCHLD does, so parent and children can use both cores. */
static double fork_rate(double secs, int pipelined)
{
    uint64_t t0 = mono_ns(), end = t0 + (uint64_t)(secs * 1e9);
    unsigned long n = 0;
    int live = 0;

    while (mono_ns() < end) {
        for (int k = 0; k < 16; k++) {      /* check the clock less often */
            pid_t pid = fork();
            if (pid < 0)
                die("fork: %s", strerror(errno));
            if (pid == 0)
                _exit(0);
            n++;
            live++;
            while (live > (pipelined ? 64 : 0)) {
                if (waitpid(pipelined ? -1 : pid, NULL, 0) < 0) {
                    if (errno == EINTR)
                        continue;
                    die("waitpid: %s", strerror(errno));
                }
                live--;
            }
        }
    }
    while (live > 0) {
        if (waitpid(-1, NULL, 0) >= 0)
            live--;
        else if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    }
    return (double)n / ns_s(mono_ns() - t0);
}

/* ------------------------------------------------------------------ */
/* main                                                               */
/* ------------------------------------------------------------------ */

_Noreturn static void usage(void)
{
    fprintf(stderr,
        "usage: loadgen ws|hs|http|httpclose|idle -p PORT [-a ADDR] [-H HOST]\n"
        "               [-u PATH] [-e NAME] [-c N] [-s BYTES] [-d SECS]\n"
        "               [-w SECS] [-i N] [-T SECS] [-P PID] [-B PID]\n"
        "       loadgen fork [-d SECS]\n");
    exit(64);
}

static double num(const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "loadgen: bad number: %s\n", s);
        usage();
    }
    return v;
}

static int parse_mode(const char *m)
{
    static const char *names[] = { "ws", "hs", "http", "httpclose", "idle",
                                   "fork" };
    for (int i = 0; i < 6; i++)
        if (strcmp(m, names[i]) == 0)
            return i;
    usage();
}

/* Descriptors: one per connection, and 1000 idle tunnels are over the
 * usual soft limit of 1024, so take what the hard limit allows. */
static void raise_nofile(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur >= (rlim_t)need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need)
        die("%d connections need %d descriptors; the hard limit is %lu",
            g_opt.conns, need, (unsigned long)rl.rlim_max);
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("setrlimit: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    int opt;

    if (argc < 2)
        usage();
    g_opt.mode = (enum mode)parse_mode(argv[1]);
    optind = 2;
    while ((opt = getopt(argc, argv, "a:p:H:u:e:c:s:d:w:i:T:P:B:")) != -1) {
        switch (opt) {
        case 'a': g_opt.addr = optarg; break;
        case 'p': g_opt.port = (int)num(optarg, 1, 65535); break;
        case 'H': g_opt.host = optarg; break;
        case 'u': g_opt.path = optarg; break;
        case 'e': g_opt.expect = optarg; break;
        case 'c': g_opt.conns = (int)num(optarg, 1, MAX_CONNS); break;
        case 's': g_opt.size = (size_t)num(optarg, 1, MAX_SIZE); break;
        case 'd': g_opt.secs = num(optarg, 0.1, 3600); break;
        case 'w': g_opt.warm = num(optarg, 0, 3600); break;
        case 'i': g_opt.inflight = (int)num(optarg, 1, MAX_CONNS); break;
        case 'T': g_opt.op_timeout = num(optarg, 0.1, 3600); break;
        case 'P': g_opt.proxy = (pid_t)num(optarg, 1, 1e9); break;
        case 'B': g_opt.backend = (pid_t)num(optarg, 1, 1e9); break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (g_opt.mode == M_FORK) {
        double serial = fork_rate(g_opt.secs / 2, 0);
        double piped = fork_rate(g_opt.secs / 2, 1);
        printf("RESULT mode=fork secs=%.3f serial_forks_s=%.1f "
               "serial_us=%.2f pipelined_forks_s=%.1f\n", g_opt.secs,
               serial, 1e6 / serial, piped);
        return 0;
    }
    if (!g_opt.port)
        usage();
    if (!g_opt.path)
        g_opt.path = g_opt.mode == M_HTTP || g_opt.mode == M_HTTPCLOSE
                     ? "/" : "/websockets";
    if (strlen(g_opt.path) > 256 || strlen(g_opt.host) > 256)
        die("path or host too long");
    raise_nofile(g_opt.conns + 64);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;            /* write errors come back as EPIPE */
    if (sigemptyset(&sa.sa_mask) < 0 || sigaction(SIGPIPE, &sa, NULL) < 0)
        die("sigaction: %s", strerror(errno));

    memset(&g_sa, 0, sizeof g_sa);
    g_sa.sin_family = AF_INET;
    g_sa.sin_port = htons((uint16_t)g_opt.port);
    if (inet_pton(AF_INET, g_opt.addr, &g_sa.sin_addr) != 1)
        die("bad IPv4 address: %s", g_opt.addr);

    g_rng = mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
    g_pat = xmalloc(g_opt.size + PAT_SLACK);
    for (size_t i = 0; i < g_opt.size + PAT_SLACK; i++)
        g_pat[i] = (unsigned char)(rnd() >> 56);

    int n = snprintf(g_req, sizeof g_req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
                     g_opt.path, g_opt.host,
                     g_opt.mode == M_HTTPCLOSE ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof g_req)
        die("request too long");
    g_req_len = (size_t)n;

    g_c = calloc((size_t)g_opt.conns, sizeof *g_c);
    if (!g_c)
        die("out of memory");
    for (int i = 0; i < g_opt.conns; i++) {
        g_c[i].fd = -1;
        g_c[i].in_cap = g_opt.mode == M_WS || g_opt.mode == M_IDLE
                        ? g_opt.size + 4096 : 4096;
        g_c[i].in = xmalloc(g_c[i].in_cap);
    }
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0)
        die("epoll_create1: %s", strerror(errno));
    run();
    return 0;
}
