/*
 * wsclient - WebSocket (RFC 6455) test client for the wsproxy tests.
 *
 * Usage: wsclient -p PORT [-a ADDR] [-H HOST] [-u PATH] [-e 'Name: value']...
 *                 [-n COUNT] [-s SIZE] [-b | -t] [-f FRAGS] [-c CONC]
 *                 [-w MS] [-W MS] [-g TEXT] [-T MS] [-q] [-S SRC]
 *
 *   -p PORT   port to connect to (required)
 *   -a ADDR   IPv4 or IPv6 literal (default 127.0.0.1; "::1" or "[::1]")
 *   -H HOST   Host header value (default "localhost")
 *   -u PATH   request target (default "/")
 *   -e LINE   extra raw header line, repeatable; a line naming Host,
 *             Connection, Upgrade, Sec-WebSocket-Key or
 *             Sec-WebSocket-Version replaces the default header
 *   -n COUNT  messages to send (default 3)
 *   -s SIZE   bytes per message (default 32)
 *   -b        binary messages (default: text, letters and digits)
 *   -t        alternate text (1st, 3rd, ...) and binary messages
 *   -f FRAGS  send each message as FRAGS frames (default 1)
 *   -c CONC   run CONC clients in parallel processes
 *   -w MS     idle MS ms after the handshake, before sending
 *   -W MS     idle MS ms after the exchange, before the close frame
 *   -g TEXT   expect the server to send the text message TEXT right after
 *             the handshake, before we send anything (e.g. /ws-hello)
 *   -T MS     timeout for the whole run (default 10000), idle times
 *             of -w/-W are added on top
 *   -q        do not print the response head
 *   -S SRC    connect from the address SRC (e.g. 127.0.0.7: the stick
 *             table tests' clients)
 *
 * Output (stdout): the response head as received, "backend=<X-Backend>",
 * "ok N messages".  With -c only "ok CONC clients" or "FAILED K of CONC
 * clients" (the children's stdout is discarded, their errors are not).
 *
 * Every message is echoed by the server and compared byte by byte with
 * what was sent (same opcode, reassembled from fragments).  Then a close
 * frame (1000) is sent and the close answer awaited for up to 2 s; a
 * missing answer is only reported on stderr.
 *
 * Exit status: 0 ok; 1 mismatch, unexpected close/EOF, connect failure;
 * 2 no 101 or bad Sec-WebSocket-Accept; 3 closed by the peer during -w/-W
 * ("closed after idle T ms" on stdout); 4 timeout; 64 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "wshash.h"

#define MAX_HEAD      65536
#define MAX_FRAME     ((uint64_t)1 << 31)
#define QUEUE_LIMIT   (1024 * 1024)     /* stop queueing messages beyond */
#define CLOSE_WAIT_MS 2000

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9,
       OP_PONG = 10 };

enum { EXIT_FAIL = 1, EXIT_HANDSHAKE = 2, EXIT_CLOSED = 3, EXIT_TIMEOUT = 4,
       EXIT_USAGE = 64 };

/* Command line, set once in main(). */
static struct {
    const char *addr, *port, *host, *path, *greeting, *source;
    const char **extra;
    int nextra;
    long count, frags, conc, idle_before, idle_after, timeout_ms;
    size_t size;
    int binary, alternate, quiet;
} opt = { .addr = "127.0.0.1", .host = "localhost", .path = "/", .count = 3,
          .frags = 1, .conc = 0, .timeout_ms = 10000, .size = 32 };

static char g_prog[32] = "wsclient";   /* "wsclient[N]" in -c children */
static const char *g_phase = "starting"; /* for timeout messages */

/* ------------------------------------------------------------------ */
/* Random numbers                                                     */
/* ------------------------------------------------------------------ */

/* xorshift64*: fast, and good enough for masks and message contents. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void random_bytes(void *p, size_t n)
{
    ssize_t got = getrandom(p, n, 0);
    if (got < 0)
        die_errno("getrandom");
    if ((size_t)got != n)
        fail(EXIT_FAIL, "getrandom: short read");
}

/* ------------------------------------------------------------------ */
/* Messages: reproducible content, so the echo can be checked          */
/* ------------------------------------------------------------------ */

static int msg_opcode(long idx)
{
    if (opt.alternate)
        return idx % 2 == 0 ? OP_TEXT : OP_BINARY;
    return opt.binary ? OP_BINARY : OP_TEXT;
}

/* Message idx (0-based) of opt.size bytes, seeded by its index.  Text
 * messages use letters and digits only, which is valid UTF-8. */
static void gen_message(long idx, unsigned char *p)
{
    static const char alnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t s = ((uint64_t)idx + 1) * 0x9E3779B97F4A7C15ULL;   /* never 0 */
    int text = msg_opcode(idx) == OP_TEXT;
    for (size_t i = 0; i < opt.size; i++) {
        uint64_t r = rng_next(&s);
        p[i] = text ? (unsigned char)alnum[r % 62] : (unsigned char)(r >> 56);
    }
}

/* ------------------------------------------------------------------ */
/* The connection                                                     */
/* ------------------------------------------------------------------ */

struct client {
    int fd;
    struct buf in;          /* received, in.p[in_off ..) not parsed yet */
    size_t in_off;
    struct buf out;         /* queued for sending, out.p[out_off ..) */
    size_t out_off;
    int eof;                /* the peer closed or reset the connection */
    long long deadline;     /* end of the whole run, CLOCK_MONOTONIC ms */
    uint64_t rng;           /* for masks */
};

static size_t pending(const struct client *cl)
{
    return cl->out.len - cl->out_off;
}

/* Write as much of the queue as the socket takes now. */
static void flush_some(struct client *cl)
{
    while (pending(cl) > 0) {
        ssize_t n = write(cl->fd, cl->out.p + cl->out_off, pending(cl));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            /* The peer is gone; what it sent before is still readable. */
            cl->out_off = cl->out.len;
            return;
        }
        if (n < 0)
            die_errno("write");
        cl->out_off += (size_t)n;
    }
    cl->out.len = cl->out_off = 0;
}

/* Read what has arrived; a reset counts as EOF. */
static void read_some(struct client *cl)
{
    if (cl->in_off > 0) {
        buf_shift(&cl->in, cl->in_off);
        cl->in_off = 0;
    }
    for (;;) {
        buf_reserve(&cl->in, 65536);
        ssize_t n = read(cl->fd, cl->in.p + cl->in.len, cl->in.cap - cl->in.len);
        if (n > 0) {
            cl->in.len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n == 0 || errno == ECONNRESET) {
            cl->eof = 1;
            return;
        }
        die_errno("read");
    }
}

/* Wait up to timeout_ms for the socket, then send and receive what can be
 * sent and received without blocking. */
static void pump(struct client *cl, long long timeout_ms)
{
    struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
    if (pending(cl) > 0)
        pfd.events |= POLLOUT;
    if (cl->eof)
        pfd.events &= ~POLLIN;      /* EOF would be "readable" forever */
    if (timeout_ms > 60000)
        timeout_ms = 60000;
    int n = poll(&pfd, 1, (int)timeout_ms);
    if (n < 0 && errno == EINTR)
        return;
    if (n < 0)
        die_errno("poll");
    if (pfd.revents & POLLOUT)
        flush_some(cl);
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        read_some(cl);
}

/* pump() until the run's deadline; past it, give up. */
static void wait_io(struct client *cl)
{
    long long left = cl->deadline - now_ms();
    if (left <= 0)
        fail(EXIT_TIMEOUT, "timeout (%s)", g_phase);
    pump(cl, left);
}

/* Queue one masked frame (clients must mask, RFC 6455 5.3). */
static void queue_frame(struct client *cl, unsigned b0, const void *payload, size_t len)
{
    unsigned char h[14];
    uint64_t r = rng_next(&cl->rng);
    unsigned char mask[4] = { (unsigned char)r, (unsigned char)(r >> 8),
                              (unsigned char)(r >> 16), (unsigned char)(r >> 24) };

    size_t hl = ws_put_header(h, b0, len, mask);

    /* Reclaim the sent part of the queue once it is the larger half. */
    if (cl->out_off > 0 && cl->out_off >= cl->out.len / 2) {
        buf_shift(&cl->out, cl->out_off);
        cl->out_off = 0;
    }
    buf_add(&cl->out, h, hl);
    size_t start = cl->out.len;
    buf_add(&cl->out, payload, len);
    for (size_t i = 0; i < len; i++)
        cl->out.p[start + i] ^= mask[i & 3];
}

struct frame {
    int fin, opcode;
    const unsigned char *payload;   /* points into cl->in */
    size_t len;
};

/* Parse the frame at p[0..n).  Returns its total length, 0 if it is not
 * complete yet.  Fails on frames a server must not send. */
static size_t parse_frame(const unsigned char *p, size_t n, struct frame *f)
{
    if (n < 2)
        return 0;
    if (p[1] & 0x80)
        fail(EXIT_FAIL, "masked frame from the server (%s)", g_phase);
    size_t hl = (p[1] & 0x7f) == 126 ? 4 : (p[1] & 0x7f) == 127 ? 10 : 2;
    if (n < hl)
        return 0;
    uint64_t len = p[1] & 0x7f;
    if (hl == 4)
        len = (uint64_t)p[2] << 8 | p[3];
    if (hl == 10) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
    }
    if (len > MAX_FRAME)
        fail(EXIT_FAIL, "frame of %llu bytes from the server (%s)",
             (unsigned long long)len, g_phase);
    if (n - hl < len)
        return 0;
    f->fin = (p[0] & 0x80) != 0;
    f->opcode = p[0] & 0x0f;
    f->payload = p + hl;
    f->len = (size_t)len;
    return hl + (size_t)len;
}

/* Take the next complete frame out of the input.  Returns 0 if there is
 * none yet.  f->payload stays valid until the next read_some(). */
static int next_frame(struct client *cl, struct frame *f)
{
    size_t n = parse_frame(cl->in.p + cl->in_off, cl->in.len - cl->in_off, f);
    cl->in_off += n;
    return n > 0;
}

/* Is there a close frame among the complete frames received so far?
 * (Looks without consuming: the frames before it are still wanted.) */
static int close_frame_received(const struct client *cl)
{
    size_t off = cl->in_off;
    struct frame f;
    size_t n;
    while ((n = parse_frame(cl->in.p + off, cl->in.len - off, &f)) > 0) {
        if (f.opcode == OP_CLOSE)
            return 1;
        off += n;
    }
    return 0;
}

static unsigned close_code(const struct frame *f)
{
    return f->len >= 2 ? (unsigned)f->payload[0] << 8 | f->payload[1] : 1005;
}

/* Receive one complete data message into msg, reassembling fragments;
 * pings are answered, pongs ignored.  *opcode gets text or binary. */
static void read_message(struct client *cl, long msgno, int *opcode, struct buf *msg)
{
    int started = 0;
    msg->len = 0;
    buf_reserve(msg, 1);        /* msg->p is never NULL, even when empty */
    for (;;) {
        struct frame f;
        while (!next_frame(cl, &f)) {
            if (cl->eof)
                fail(EXIT_FAIL, "unexpected EOF at message %ld", msgno);
            wait_io(cl);
        }
        switch (f.opcode) {
        case OP_PING:
            queue_frame(cl, 0x80 | OP_PONG, f.payload, f.len);
            continue;
        case OP_PONG:
            continue;
        case OP_CLOSE:
            fail(EXIT_FAIL, "unexpected close frame (code %u) at message %ld",
                 close_code(&f), msgno);
        case OP_TEXT:
        case OP_BINARY:
            if (started)
                fail(EXIT_FAIL, "new message inside fragmented message %ld", msgno);
            started = 1;
            *opcode = f.opcode;
            break;
        case OP_CONT:
            if (!started)
                fail(EXIT_FAIL, "continuation frame without a start at message %ld", msgno);
            break;
        default:
            fail(EXIT_FAIL, "unknown opcode %d at message %ld", f.opcode, msgno);
        }
        buf_add(msg, f.payload, f.len);
        if (f.fin)
            return;
    }
}

/* ------------------------------------------------------------------ */
/* Connecting and the opening handshake                               */
/* ------------------------------------------------------------------ */

/* Non-blocking connect, so that the run's deadline also covers it. */
static int connect_to(const char *addr, const char *port, long long deadline)
{
    struct addrinfo *ai = resolve_numeric(addr, port, EXIT_USAGE);

    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die_errno("socket");
    if (opt.source != NULL) {
        struct addrinfo *src = resolve_numeric(opt.source, "0", EXIT_USAGE);
        if (bind(fd, src->ai_addr, src->ai_addrlen) < 0)
            fail(EXIT_FAIL, "bind to %s: %s", opt.source, strerror(errno));
        freeaddrinfo(src);
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS)
            fail(EXIT_FAIL, "connect to %s port %s: %s", addr, port, strerror(errno));
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        long long left;
        int n;
        do {
            left = deadline - now_ms();
            if (left <= 0)
                fail(EXIT_TIMEOUT, "timeout (connecting)");
            n = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
        } while (n == 0 || (n < 0 && errno == EINTR));
        if (n < 0)
            die_errno("poll");
        int err;
        socklen_t elen = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            die_errno("getsockopt SO_ERROR");
        if (err)
            fail(EXIT_FAIL, "connect to %s port %s: %s", addr, port, strerror(err));
    }
    freeaddrinfo(ai);

    /* Small frames go out at once instead of waiting for delayed ACKs. */
    set_nodelay(fd);
    return fd;
}

/* Length of the header name in a "Name: value" line. */
static size_t name_len(const char *line)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    return n;
}

/* The last -e line naming header `name`, or NULL. */
static const char *extra_header(const char *name)
{
    const char *found = NULL;
    for (int i = 0; i < opt.nextra; i++)
        if (name_len(opt.extra[i]) == strlen(name) &&
            strncasecmp(opt.extra[i], name, strlen(name)) == 0)
            found = opt.extra[i];
    return found;
}

/* Trimmed value of a "Name: value" line; *len gets its length. */
static const char *line_value(const char *line, size_t *len)
{
    const char *v = strchr(line, ':');
    v = v ? v + 1 : line + strlen(line);
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *len = n;
    return v;
}

/* Queue the upgrade request.  key/keylen get the Sec-WebSocket-Key that
 * is actually sent (a -e line may replace ours). */
static void queue_request(struct client *cl, const char **key, size_t *keylen)
{
    static char ourkey[25];
    unsigned char raw[16];
    random_bytes(raw, sizeof raw);
    ws_base64(raw, sizeof raw, ourkey);

    const char *defaults[][2] = {
        { "Host", opt.host },
        { "Upgrade", "websocket" },
        { "Connection", "Upgrade" },
        { "Sec-WebSocket-Key", ourkey },
        { "Sec-WebSocket-Version", "13" },
    };
    buf_printf(&cl->out, "GET %s HTTP/1.1\r\n", opt.path);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!extra_header(defaults[i][0]))
            buf_printf(&cl->out, "%s: %s\r\n", defaults[i][0], defaults[i][1]);
    for (int i = 0; i < opt.nextra; i++)
        buf_printf(&cl->out, "%s\r\n", opt.extra[i]);
    buf_printf(&cl->out, "\r\n");

    const char *k = extra_header("Sec-WebSocket-Key");
    if (k) {
        *key = line_value(k, keylen);
    } else {
        *key = ourkey;
        *keylen = strlen(ourkey);
    }
}

/* Find header `name` in a response head; returns the trimmed value (and
 * its length in *vlen) or NULL.  The status line is skipped. */
static const char *find_header(const char *head, size_t len, const char *name, size_t *vlen)
{
    const char *p = memchr(head, '\n', len), *end = head + len;
    size_t nlen = strlen(name);
    while (p && ++p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p && le[-1] == '\r')
            le--;
        if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == ' ' || le[-1] == '\t'))
                le--;
            *vlen = (size_t)(le - v);
            return v;
        }
        p = nl;
    }
    return NULL;
}

/* Require "HTTP/1.x 101" and the right Sec-WebSocket-Accept. */
static void check_response(const char *head, size_t len, const char *key, size_t keylen)
{
    size_t sl = strcspn(head, "\r\n");
    if (sl < 12 || strncmp(head, "HTTP/1.", 7) != 0 || strncmp(head + 8, " 101", 4) != 0 ||
        (sl > 12 && head[12] != ' '))
        fail(EXIT_HANDSHAKE, "expected 101, got: %.*s", (int)sl, head);

    char want[29];
    size_t vlen;
    const char *got = find_header(head, len, "Sec-WebSocket-Accept", &vlen);
    if (ws_accept_value(key, keylen, want) < 0)
        fail(EXIT_FAIL, "Sec-WebSocket-Key too long");
    if (!got || vlen != strlen(want) || memcmp(got, want, vlen) != 0)
        fail(EXIT_HANDSHAKE, "bad Sec-WebSocket-Accept");
}

static void handshake(struct client *cl)
{
    const char *key;
    size_t keylen, hlen;

    queue_request(cl, &key, &keylen);
    g_phase = "waiting for the response head";
    while ((hlen = head_length((char *)cl->in.p, cl->in.len)) == 0) {
        if (cl->eof)
            fail(EXIT_FAIL, "EOF before the end of the response head (%zu bytes received)",
                 cl->in.len);
        if (cl->in.len > MAX_HEAD)
            fail(EXIT_FAIL, "response head too large");
        wait_io(cl);
    }

    /* NUL-terminated copy, so that string functions cannot run off. */
    char *head = malloc(hlen + 1);
    if (!head)
        fail(EXIT_FAIL, "out of memory");
    memcpy(head, cl->in.p, hlen);
    head[hlen] = '\0';
    cl->in_off = hlen;          /* what follows are already frames */

    if (!opt.quiet)
        fwrite(head, 1, hlen, stdout);
    check_response(head, hlen, key, keylen);

    size_t blen = 0;
    const char *backend = find_header(head, hlen, "X-Backend", &blen);
    printf("backend=%.*s\n", (int)blen, backend ? backend : "");
    fflush(stdout);
    free(head);
}

/* ------------------------------------------------------------------ */
/* After the handshake                                                */
/* ------------------------------------------------------------------ */

/* Stay idle for ms milliseconds; exit 3 if the peer closes meanwhile
 * (EOF, reset or a close frame). */
static void idle(struct client *cl, long ms)
{
    long long start = now_ms(), end = start + ms;
    for (;;) {
        if (cl->eof || close_frame_received(cl)) {
            printf("closed after idle %lld ms\n", now_ms() - start);
            exit(EXIT_CLOSED);
        }
        long long left = end - now_ms();
        if (left <= 0)
            return;
        pump(cl, left);
    }
}

static void expect_greeting(struct client *cl)
{
    struct buf msg = { 0 };
    int opcode;
    g_phase = "waiting for the greeting";
    read_message(cl, 0, &opcode, &msg);
    if (opcode != OP_TEXT || msg.len != strlen(opt.greeting) ||
        memcmp(msg.p, opt.greeting, msg.len) != 0)
        fail(EXIT_FAIL, "greeting: got %s message \"%.*s\", expected text \"%s\"",
             opcode == OP_TEXT ? "text" : "binary", (int)msg.len, (char *)msg.p,
             opt.greeting);
    free(msg.p);
}

/* Queue message idx as opt.frags frames: the first carries the opcode,
 * the others are continuations, only the last has FIN. */
static void queue_message(struct client *cl, long idx, unsigned char *scratch)
{
    size_t per = opt.size / (size_t)opt.frags, off = 0;
    gen_message(idx, scratch);
    for (long k = 0; k < opt.frags; k++) {
        int last = k == opt.frags - 1;
        size_t n = last ? opt.size - off : per;
        unsigned b0 = (k == 0 ? (unsigned)msg_opcode(idx) : OP_CONT) | (last ? 0x80u : 0);
        queue_frame(cl, b0, scratch + off, n);
        off += n;
    }
}

static void check_echo(long idx, int opcode, const struct buf *msg, unsigned char *want)
{
    if (opcode != msg_opcode(idx))
        fail(EXIT_FAIL, "message %ld: got opcode %d, expected %d", idx + 1, opcode,
             msg_opcode(idx));
    if (msg->len != opt.size)
        fail(EXIT_FAIL, "message %ld: got %zu bytes, expected %zu", idx + 1, msg->len,
             opt.size);
    gen_message(idx, want);
    for (size_t i = 0; i < opt.size; i++)
        if (msg->p[i] != want[i])
            fail(EXIT_FAIL, "message %ld: content differs at byte %zu", idx + 1, i);
}

/* Send all messages and check each echo.  Sending runs ahead of the
 * echoes (up to QUEUE_LIMIT bytes queued) and both directions progress
 * together, so big messages cannot deadlock against the echo. */
static void exchange(struct client *cl)
{
    unsigned char *scratch = malloc(opt.size ? opt.size : 1);
    struct buf msg = { 0 };
    char phase[64];
    long queued = 0;
    if (!scratch)
        fail(EXIT_FAIL, "out of memory");

    for (long i = 0; i < opt.count; i++) {
        while (queued < opt.count && (queued <= i || pending(cl) < QUEUE_LIMIT))
            queue_message(cl, queued++, scratch);
        snprintf(phase, sizeof phase, "waiting for the echo of message %ld", i + 1);
        g_phase = phase;
        int opcode;
        read_message(cl, i + 1, &opcode, &msg);
        check_echo(i, opcode, &msg, scratch);
    }
    g_phase = "exchange done";
    free(scratch);
    free(msg.p);
}

/* Send close 1000 and wait up to CLOSE_WAIT_MS for the answer. */
static void close_handshake(struct client *cl)
{
    unsigned char code[2] = { 1000 >> 8, 1000 & 0xff };
    long long until = now_ms() + CLOSE_WAIT_MS;
    if (until > cl->deadline)
        until = cl->deadline;

    queue_frame(cl, 0x80 | OP_CLOSE, code, sizeof code);
    for (;;) {
        struct frame f;
        while (next_frame(cl, &f))
            if (f.opcode == OP_CLOSE)
                return;
        if (cl->eof) {
            fprintf(stderr, "%s: EOF instead of a close answer\n", g_prog);
            return;
        }
        long long left = until - now_ms();
        if (left <= 0) {
            fprintf(stderr, "%s: no close answer within %d ms\n", g_prog, CLOSE_WAIT_MS);
            return;
        }
        pump(cl, left);
    }
}

/* One complete client run.  Returns only on success. */
static void run_client(void)
{
    struct client cl;
    memset(&cl, 0, sizeof cl);
    cl.deadline = now_ms() + opt.timeout_ms + opt.idle_before + opt.idle_after;
    random_bytes(&cl.rng, sizeof cl.rng);
    cl.rng |= 1;                /* xorshift must not start at 0 */
    buf_reserve(&cl.in, 65536); /* never parse from a NULL pointer */

    g_phase = "connecting";
    cl.fd = connect_to(opt.addr, opt.port, cl.deadline);
    handshake(&cl);
    if (opt.greeting)
        expect_greeting(&cl);
    if (opt.idle_before)
        idle(&cl, opt.idle_before);
    exchange(&cl);
    printf("ok %ld messages\n", opt.count);
    fflush(stdout);
    if (opt.idle_after)
        idle(&cl, opt.idle_after);
    close_handshake(&cl);
    if (close(cl.fd) < 0)
        die_errno("close");
    free(cl.in.p);
    free(cl.out.p);
}

/* -c: fork n clients, wait for all of them, report how many failed. */
static int run_concurrent(long n)
{
    long failed = 0, started = 0;
    fflush(NULL);               /* or children would repeat buffered output */
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "wsclient: fork: %s\n", strerror(errno));
            failed += n - i;
            break;
        }
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
                die_errno("redirect stdout");
            snprintf(g_prog, sizeof g_prog, "wsclient[%ld]", i + 1);
            run_client();
            exit(0);
        }
        started++;
    }
    while (started > 0) {
        int st;
        pid_t pid = wait(&st);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            die_errno("wait");
        started--;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    if (failed) {
        printf("FAILED %ld of %ld clients\n", failed, n);
        return EXIT_FAIL;
    }
    printf("ok %ld clients\n", n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                       */
/* ------------------------------------------------------------------ */

_Noreturn static void usage(void)
{
    fprintf(stderr,
            "usage: wsclient -p PORT [-a ADDR] [-H HOST] [-u PATH] [-e 'Name: value']...\n"
            "                [-n COUNT] [-s SIZE] [-b | -t] [-f FRAGS] [-c CONC]\n"
            "                [-w MS] [-W MS] [-g TEXT] [-T MS] [-q]\n");
    exit(EXIT_USAGE);
}

static long parse_num(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "wsclient: bad number: %s (allowed %ld..%ld)\n", s, min, max);
        usage();
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    int c;
    opt.extra = calloc((size_t)argc, sizeof *opt.extra);
    if (!opt.extra)
        fail(EXIT_FAIL, "out of memory");
    while ((c = getopt(argc, argv, "p:a:H:u:e:n:s:btf:c:w:W:g:T:qS:")) != -1) {
        switch (c) {
        case 'p': opt.port = optarg; break;
        case 'a': opt.addr = optarg; break;
        case 'H': opt.host = optarg; break;
        case 'u': opt.path = optarg; break;
        case 'e': opt.extra[opt.nextra++] = optarg; break;
        case 'n': opt.count = parse_num(optarg, 0, 1000000000); break;
        case 's': opt.size = (size_t)parse_num(optarg, 0, 1L << 30); break;
        case 'b': opt.binary = 1; break;
        case 't': opt.alternate = 1; break;
        case 'f': opt.frags = parse_num(optarg, 1, 1000000); break;
        case 'c': opt.conc = parse_num(optarg, 1, 100000); break;
        case 'w': opt.idle_before = parse_num(optarg, 0, 86400000); break;
        case 'W': opt.idle_after = parse_num(optarg, 0, 86400000); break;
        case 'g': opt.greeting = optarg; break;
        case 'T': opt.timeout_ms = parse_num(optarg, 1, 86400000); break;
        case 'q': opt.quiet = 1; break;
        case 'S': opt.source = optarg; break;
        default: usage();
        }
    }
    if (!opt.port || optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    util_prog = g_prog;     /* renamed in -c children */
    parse_args(argc, argv);
    /* A dead peer must show up as EPIPE, not kill us silently. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_errno("signal");
    if (opt.conc)
        return run_concurrent(opt.conc);
    run_client();
    return 0;
}
