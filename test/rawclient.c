/*
 * rawclient - send raw bytes to a TCP port, print what comes back.
 *
 * Usage: rawclient [-a ADDR] [-b SRC] -p PORT [-s] [-t MS] [-q MS] [-d MS] [-S]
 *
 *   -a ADDR  IPv4 or IPv6 literal (default 127.0.0.1; "::1" or "[::1]")
 *   -b SRC   bind the client's side to the address SRC (any port) first,
 *            e.g. 127.0.0.2, to be another client for source rules
 *   -p PORT  port (required)
 *   -s       half-close (shutdown(SHUT_WR)) after everything was sent
 *   -t MS    idle timeout (default 5000): stop when nothing arrived and
 *            nothing could be sent for MS ms
 *   -q MS    once something arrived, the idle timeout is MS instead:
 *            for an answer that comes whole on a connection the server
 *            keeps open (keep-alive), without waiting out -t after it
 *   -d MS    split stdin on "@@@" and send the pieces MS ms apart (the
 *            separators are not sent)
 *   -S       print "elapsed=<ms>" on stderr at the end (from connect to
 *            EOF or timeout)
 *
 * All of stdin is read (binary-safe) before connecting.  Everything
 * received is copied raw to stdout, also while the pieces are still being
 * sent.  An EOF from the peer ends the run at once, even if pieces remain.
 * The idle timeout does not run during the -d pauses.
 *
 * Exit status: 0 EOF; 1 other errors; 2 could not connect (refused etc.);
 * 3 idle timeout; 5 connection reset by the peer (also when the reset
 * came as the connect completed, or was taken by a write); 64 usage
 * error.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SEPARATOR "@@@"

enum { EXIT_EOF = 0, EXIT_FAIL = 1, EXIT_CONNECT = 2, EXIT_IDLE = 3,
       EXIT_RESET = 5, EXIT_USAGE = 64 };

/* Command line, set once in main(). */
static const char *g_addr = "127.0.0.1", *g_port, *g_src;
static int g_half_close, g_show_elapsed;
static long g_idle_ms = 5000, g_delay_ms = -1;   /* -1: no -d */
static long g_quiet_ms = -1;                      /* -1: no -q */
static int g_received;                            /* a byte arrived */
static int g_reset_seen;                          /* a write got ECONNRESET */

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

struct piece {
    const char *p;
    size_t len;
};

static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        fail(EXIT_FAIL, "out of memory");
    for (;;) {
        if (n == cap) {
            cap *= 2;
            if (!(buf = realloc(buf, cap)))
                fail(EXIT_FAIL, "out of memory");
        }
        ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die_errno("read stdin");
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* Without -d the whole input is one piece; with -d it is cut at every
 * separator.  Returns the number of pieces. */
static size_t split_input(const char *in, size_t len, struct piece **out)
{
    size_t n = 0, cap = 16, seplen = strlen(SEPARATOR);
    struct piece *pc = malloc(cap * sizeof *pc);
    if (!pc)
        fail(EXIT_FAIL, "out of memory");
    const char *p = in, *end = in + len;
    for (;;) {
        const char *sep = g_delay_ms >= 0 ? memmem(p, (size_t)(end - p), SEPARATOR, seplen) : NULL;
        if (n == cap) {
            cap *= 2;
            if (!(pc = realloc(pc, cap * sizeof *pc)))
                fail(EXIT_FAIL, "out of memory");
        }
        pc[n].p = p;
        pc[n].len = (size_t)((sep ? sep : end) - p);
        n++;
        if (!sep)
            break;
        p = sep + seplen;
    }
    *out = pc;
    return n;
}

/* ------------------------------------------------------------------ */
/* Connection                                                         */
/* ------------------------------------------------------------------ */

/* -b: the source address, any port. */
static void bind_source(int fd)
{
    struct addrinfo *src = resolve_numeric(g_src, "0", EXIT_USAGE);

    if (bind(fd, src->ai_addr, src->ai_addrlen) < 0)
        die_errno("bind");
    freeaddrinfo(src);
}

/* Non-blocking connect bounded by the idle timeout. */
static int connect_to(void)
{
    struct addrinfo *ai = resolve_numeric(g_addr, g_port, EXIT_USAGE);

    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die_errno("socket");
    if (g_src)
        bind_source(fd);
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int n;
            while ((n = poll(&pfd, 1, (int)g_idle_ms)) < 0 && errno == EINTR)
                ;
            if (n < 0)
                die_errno("poll");
            socklen_t elen = sizeof err;
            if (n == 0)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                die_errno("getsockopt SO_ERROR");
        }
    }
    /* Accepted, then reset before we could see it established (a
     * tcp-request connection reject): a reset, not a refusal. */
    if (err == ECONNRESET)
        fail(EXIT_RESET, "connection reset by peer");
    if (err)
        fail(EXIT_CONNECT, "connect to %s port %s: %s", g_addr, g_port, strerror(err));
    freeaddrinfo(ai);

    /* Each piece should leave as its own segment, right away. */
    set_nodelay(fd);
    return fd;
}

static void write_stdout(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die_errno("write stdout");
        p += w;
        n -= (size_t)w;
    }
}

/* Sending state: the piece being written and when the next may start. */
struct sender {
    struct piece *pieces;
    size_t npieces, next;       /* next: index of the next piece to start */
    const char *p;              /* unsent rest of the current piece */
    size_t left;
    long long next_at;          /* earliest start of pieces[next] */
    int done;                   /* everything sent (or sending gave up) */
};

/* Start the next piece when its time has come (an empty piece counts as
 * sent at once, its pause still applies); half-close after the last one.
 * Returns 1 if a piece was started. */
static int start_piece(struct sender *s, int fd, long long now)
{
    int started = 0;
    while (!s->done && s->left == 0) {
        if (s->next == s->npieces) {
            s->done = 1;
            if (g_half_close && shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
                die_errno("shutdown");
            break;
        }
        if (now < s->next_at)
            break;
        s->p = s->pieces[s->next].p;
        s->left = s->pieces[s->next].len;
        s->next++;
        started = 1;
        if (s->left == 0)
            s->next_at = now + (g_delay_ms > 0 ? g_delay_ms : 0);
    }
    return started;
}

/* Write what the socket takes.  Returns 1 if anything was written.  If
 * the peer is gone, stop sending: what it sent is still worth reading. */
static int send_some(struct sender *s, int fd, long long now)
{
    ssize_t w = write(fd, s->p, s->left);
    if (w < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        if (errno != EPIPE && errno != ECONNRESET)
            die_errno("write");
        /* The write took the reset: the read after it sees only EOF. */
        if (errno == ECONNRESET)
            g_reset_seen = 1;
        s->left = 0;
        s->done = 1;
        return 0;
    }
    s->p += w;
    s->left -= (size_t)w;
    if (s->left == 0)
        s->next_at = now + (g_delay_ms > 0 ? g_delay_ms : 0);
    return w > 0;
}

/* Copy what arrived to stdout.  Returns 1 on data, 0 if nothing yet;
 * exits on EOF or reset. */
static int receive_some(int fd, long long t0)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        write_stdout(buf, (size_t)n);
        g_received = 1;
        return 1;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0 && errno != ECONNRESET)
        die_errno("read");
    if (g_show_elapsed)
        fprintf(stderr, "elapsed=%lld\n", now_ms() - t0);
    if (n == 0 && !g_reset_seen)
        exit(EXIT_EOF);
    fail(EXIT_RESET, "connection reset by peer");
}

/* How long poll() may sleep: until the next piece is due while pausing,
 * else until the idle timeout; <= 0 means the idle timeout is over. */
static long long poll_timeout(const struct sender *s, long long now, long long last_activity)
{
    if (!s->done && s->left == 0 && s->next < s->npieces)
        return s->next_at - now > 0 ? s->next_at - now : 0;
    long long idle = g_received && g_quiet_ms >= 0 ? g_quiet_ms : g_idle_ms;
    return last_activity + idle - now;
}

static void run(int fd, struct piece *pieces, size_t npieces)
{
    long long t0 = now_ms(), last_activity = t0;
    struct sender s = { .pieces = pieces, .npieces = npieces, .next_at = t0 };

    for (;;) {
        long long now = now_ms();
        if (start_piece(&s, fd, now))
            last_activity = now;

        long long timeout = poll_timeout(&s, now, last_activity);
        if (timeout <= 0 && (s.done || s.left > 0)) {
            if (g_show_elapsed)
                fprintf(stderr, "elapsed=%lld\n", now - t0);
            exit(EXIT_IDLE);
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (s.left > 0)
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, (int)(timeout > 60000 ? 60000 : timeout));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die_errno("poll");
        now = now_ms();
        if ((pfd.revents & POLLOUT) && send_some(&s, fd, now))
            last_activity = now;
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && receive_some(fd, t0))
            last_activity = now;
    }
}

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: rawclient [-a ADDR] [-b SRC] -p PORT [-s] [-t MS] [-q MS] [-d MS] [-S]\n");
    exit(EXIT_USAGE);
}

static long parse_ms(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 86400000)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    int c;
    util_prog = "rawclient";
    while ((c = getopt(argc, argv, "a:b:p:st:q:d:S")) != -1) {
        switch (c) {
        case 'a': g_addr = optarg; break;
        case 'b': g_src = optarg; break;
        case 'p': g_port = optarg; break;
        case 's': g_half_close = 1; break;
        case 't': g_idle_ms = parse_ms(optarg); break;
        case 'q': g_quiet_ms = parse_ms(optarg); break;
        case 'd': g_delay_ms = parse_ms(optarg); break;
        case 'S': g_show_elapsed = 1; break;
        default: usage();
        }
    }
    if (!g_port || optind != argc)
        usage();
    /* A closed peer must show up as EPIPE, not kill us silently. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_errno("signal");

    size_t len;
    char *input = read_stdin(&len);
    struct piece *pieces;
    size_t npieces = split_input(input, len, &pieces);
    int fd = connect_to();
    run(fd, pieces, npieces);
}
