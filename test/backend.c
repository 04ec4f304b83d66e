/*
 * backend - HTTP/1.1 + WebSocket origin server for the wsproxy tests.
 *
 * Usage: backend -p PORT -n NAME [-l LOGFILE] [-P PIDFILE] [-6]
 *                  [-u PATH | -a NAME | -A NAME]
 *
 *   -p PORT     listen on 127.0.0.1:PORT (with -6 on [::1]:PORT)
 *   -u PATH     listen on the unix socket PATH instead of the TCP port
 *               (a stale socket file there is replaced)
 *   -a NAME     listen on the abstract unix socket NAME instead, padded
 *               with NULs to the whole sun_path as HAProxy's abns@NAME
 *   -A NAME     the same, with an address of the name's exact length
 *               (socat's ABSTRACT-LISTEN: one HAProxy 2.6 cannot reach)
 *   -n NAME     name reported in the X-Backend header and in the body
 *   -l LOGFILE  append every byte received on any connection to LOGFILE
 *   -P PIDFILE  write our pid there once listen() succeeded (readiness)
 *   -6          listen on ::1 instead of 127.0.0.1
 *
 * One child process per connection serves keep-alive HTTP/1.1 requests;
 * the request path selects a behaviour (see handle_request()).  The
 * default answer's body is
 *
 *     backend=NAME\n conn=K\n body=B\n <raw request head> <decoded body>
 *
 * so a test can see which backend answered, the K-th request on this TCP
 * connection, and exactly what the proxy forwarded.  A WebSocket upgrade
 * turns the child into an RFC 6455 echo server, "Upgrade: rawecho" into a
 * raw byte echo (for half-close tests).
 *
 * SIGTERM or SIGINT: the children are killed and reaped, then exit 0.  The
 * pid file is left in place (remove it before starting a new backend with
 * the same pid file if you use it as a readiness signal).
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on errors, 64 on usage errors.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "wshash.h"

#define MAX_HEAD     (1024 * 1024)      /* larger request heads get 431 */
#define MAX_BODY     ((size_t)1 << 30)  /* larger bodies/frames are refused */
#define READ_CHUNK   65536
#define CHUNK_SIZE   7                  /* /chunked sends 7-byte chunks */
#define DRAIN_MS     1000               /* how long a closing child drains */
#define RAW_BYE_MS   200                /* rawecho: pause between EOF and BYE */

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9,
       OP_PONG = 10 };

/* Set once in main(), read-only afterwards. */
static const char *g_name;
static const char *g_unix_name;     /* -u, -a or -A: not on TCP */
static int g_logfd = -1;

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0)
        if (errno != EINTR)
            die_errno("nanosleep");
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Is the last comma-separated item of v equal to tok (case-insensitive)? */
static int last_token_is(const char *v, size_t vlen, const char *tok)
{
    size_t end = vlen;
    while (end > 0 && (is_ows(v[end - 1]) || v[end - 1] == ','))
        end--;
    size_t start = end;
    while (start > 0 && v[start - 1] != ',')
        start--;
    while (start < end && is_ows(v[start]))
        start++;
    return end - start == strlen(tok) && strncasecmp(v + start, tok, end - start) == 0;
}

/* ------------------------------------------------------------------ */
/* Connection: buffered reading with logging, writing                 */
/* ------------------------------------------------------------------ */

struct conn {
    int fd;
    struct buf in;      /* in.p[off .. in.len) is received but unconsumed */
    size_t off;
    unsigned served;    /* requests answered on this connection */
};

static char *cur(const struct conn *c)
{
    return (char *)c->in.p + c->off;
}

static size_t avail(const struct conn *c)
{
    return c->in.len - c->off;
}

static void consume(struct conn *c, size_t n)
{
    c->off += n;
}

/* The log gets each read() chunk as one write(); O_APPEND keeps the
 * chunks of concurrent children from overwriting each other. */
static void log_bytes(const char *p, size_t n)
{
    if (g_logfd < 0 || n == 0)
        return;
    ssize_t w = write(g_logfd, p, n);
    if (w < 0)
        fprintf(stderr, "backend: write log: %s\n", strerror(errno));
    else if ((size_t)w != n)
        fprintf(stderr, "backend: short write to log\n");
}

/* A peer that went away ends the child quietly: that is routine in
 * tests where the proxy or client closes connections. */
_Noreturn static void exit_on_io_error(const char *what)
{
    if (errno == EPIPE || errno == ECONNRESET)
        exit(0);
    die_errno(what);
}

/* read() once into the buffer.  Returns the byte count, 0 on EOF.
 * Pointers into the buffer are invalid afterwards (it may move). */
static size_t conn_fill(struct conn *c)
{
    if (c->off > 0) {
        memmove(c->in.p, c->in.p + c->off, avail(c));
        c->in.len -= c->off;
        c->off = 0;
    }
    buf_reserve(&c->in, READ_CHUNK);
    for (;;) {
        ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
        if (n >= 0) {
            log_bytes((char *)c->in.p + c->in.len, (size_t)n);
            c->in.len += (size_t)n;
            return (size_t)n;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return 0;
        die_errno("read");
    }
}

/* Buffer at least n unconsumed bytes.  Returns 0, or -1 on EOF. */
static int conn_need(struct conn *c, size_t n)
{
    if (avail(c) < n)
        buf_reserve(&c->in, n - avail(c));
    while (avail(c) < n)
        if (conn_fill(c) == 0)
            return -1;
    return 0;
}

/* Consume the next line and return it without its CRLF/LF; NULL on EOF or
 * on an absurdly long line.  Valid until the next conn_fill(). */
static char *conn_line(struct conn *c, size_t *len)
{
    char *nl;
    while (!(nl = memchr(cur(c), '\n', avail(c))))
        if (avail(c) > MAX_HEAD || conn_fill(c) == 0)
            return NULL;
    char *line = cur(c);
    *len = (size_t)(nl - line);
    if (*len > 0 && line[*len - 1] == '\r')
        (*len)--;
    consume(c, (size_t)(nl - line) + 1);
    return line;
}

static void send_all(struct conn *c, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = write(c->fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            exit_on_io_error("write");
        }
        s += w;
        n -= (size_t)w;
    }
}

static void send_str(struct conn *c, const char *s)
{
    send_all(c, s, strlen(s));
}

/* Close without losing the data we just sent: closing a socket that
 * still has unread input makes the kernel send RST, and an RST can make
 * the peer discard our last response.  So: send FIN, read (and log) what
 * the peer still sends until its EOF or DRAIN_MS, then close.  Exits. */
_Noreturn static void close_gracefully(struct conn *c)
{
    char tmp[READ_CHUNK];
    long long end = now_ms() + DRAIN_MS;

    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        die_errno("shutdown");
    for (;;) {
        long long left = end - now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die_errno("poll");
        if (r == 0)
            break;
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;      /* EOF, or a reset: nothing left to wait for */
        log_bytes(tmp, (size_t)n);
    }
    if (close(c->fd) < 0)
        die_errno("close");
    exit(0);
}

/* ------------------------------------------------------------------ */
/* Request parsing                                                    */
/* ------------------------------------------------------------------ */

struct request {
    char *head;             /* copy of the raw head, NUL-terminated */
    size_t head_len;
    char method[16];
    char *path;             /* request target without query string */
    int http10;
    long long content_length;   /* -1: no Content-Length */
    int chunked;
    int bad;                /* framing we cannot honour: answer 400 */
    int conn_close, conn_keep_alive, conn_upgrade;
    int up_websocket, up_rawecho;
    int expect_continue;
    char *ws_key;           /* Sec-WebSocket-Key value, or NULL */
};

static void request_free(struct request *r)
{
    free(r->head);
    free(r->path);
    free(r->ws_key);
}

static void parse_content_length(struct request *r, const char *v, size_t vlen)
{
    long long n = 0;
    if (vlen == 0)
        r->bad = 1;
    for (size_t i = 0; i < vlen; i++) {
        if (!isdigit((unsigned char)v[i]) || n > (long long)MAX_BODY) {
            r->bad = 1;
            return;
        }
        n = n * 10 + (v[i] - '0');
    }
    if (n > (long long)MAX_BODY || (r->content_length >= 0 && r->content_length != n))
        r->bad = 1;
    r->content_length = n;
}

/* Remember what one header line means for framing and routing. */
static void note_header(struct request *r, const char *name, size_t nlen,
                        const char *v, size_t vlen)
{
#define IS(h) (nlen == strlen(h) && strncasecmp(name, h, nlen) == 0)
    if (IS("Content-Length")) {
        parse_content_length(r, v, vlen);
    } else if (IS("Transfer-Encoding")) {
        if (last_token_is(v, vlen, "chunked"))
            r->chunked = 1;
        else
            r->bad = 1;     /* RFC 9112 6.3: cannot find the body's end */
    } else if (IS("Connection")) {
        r->conn_close |= has_token(v, vlen, "close");
        r->conn_keep_alive |= has_token(v, vlen, "keep-alive");
        r->conn_upgrade |= has_token(v, vlen, "upgrade");
    } else if (IS("Upgrade")) {
        r->up_websocket |= has_token(v, vlen, "websocket");
        r->up_rawecho |= has_token(v, vlen, "rawecho");
    } else if (IS("Expect")) {
        r->expect_continue |= has_token(v, vlen, "100-continue");
    } else if (IS("Sec-WebSocket-Key")) {
        free(r->ws_key);
        r->ws_key = strndup(v, vlen);
        if (!r->ws_key)
            die("out of memory");
    }
#undef IS
}

/* Split "METHOD TARGET VERSION"; keep the path without query string.
 * An absolute-form target (http://host/path) is reduced to its path. */
static void parse_request_line(struct request *r, const char *line, size_t len)
{
    const char *sp1 = memchr(line, ' ', len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
    if (!sp1 || !sp2 || (size_t)(sp1 - line) >= sizeof r->method) {
        r->bad = 1;
        r->path = strdup("/");
        if (!r->path)
            die("out of memory");
        return;
    }
    memcpy(r->method, line, (size_t)(sp1 - line));
    r->http10 = (size_t)(line + len - (sp2 + 1)) == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;

    const char *t = sp1 + 1, *tend = sp2;
    const char *scheme = memchr(t, ':', (size_t)(tend - t));
    if (scheme && tend - scheme > 3 && memcmp(scheme, "://", 3) == 0) {
        const char *slash = memchr(scheme + 3, '/', (size_t)(tend - scheme - 3));
        t = slash ? slash : tend;
    }
    size_t plen = 0;
    while (t + plen < tend && t[plen] != '?' && t[plen] != '#')
        plen++;
    r->path = plen ? strndup(t, plen) : strdup("/");
    if (!r->path)
        die("out of memory");
}

static void parse_request(struct request *r, const char *head, size_t len)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    r->head = malloc(len + 1);      /* the exact bytes, NULs included */
    if (!r->head)
        die("out of memory");
    memcpy(r->head, head, len);
    r->head[len] = '\0';
    r->head_len = len;

    const char *p = head, *end = head + len;
    int first = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = (size_t)(nl - p);
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;                  /* the empty line ending the head */
        if (first) {
            parse_request_line(r, p, ll);
            first = 0;
        } else {
            const char *colon = memchr(p, ':', ll);
            if (colon) {            /* lines without a colon are ignored */
                const char *v = colon + 1, *vend = p + ll;
                while (v < vend && is_ows(*v))
                    v++;
                while (vend > v && is_ows(vend[-1]))
                    vend--;
                note_header(r, p, (size_t)(colon - p), v, (size_t)(vend - v));
            }
        }
        p = nl + 1;
    }
}

/* ------------------------------------------------------------------ */
/* Request reading                                                    */
/* ------------------------------------------------------------------ */

_Noreturn static void answer_error(struct conn *c, int status, const char *reason);

/* Wait for a complete request head; return its length (the head starts at
 * cur(c)), or 0 on EOF.  Empty lines before a request are skipped, as
 * RFC 9112 2.2 recommends (some clients send a CRLF after a body). */
static size_t read_head(struct conn *c)
{
    for (;;) {
        while (avail(c) > 0 && (cur(c)[0] == '\n' ||
               (avail(c) > 1 && cur(c)[0] == '\r' && cur(c)[1] == '\n')))
            consume(c, cur(c)[0] == '\n' ? 1 : 2);
        size_t n = head_length(cur(c), avail(c));
        if (n)
            return n;
        if (avail(c) > MAX_HEAD)
            answer_error(c, 431, "Request Header Fields Too Large");
        if (conn_fill(c) == 0)
            return 0;
    }
}

/* Parse a chunk-size line: hex digits, optionally followed by
 * ";extensions".  Returns the size, or -1 if malformed. */
static long long parse_chunk_size(const char *line, size_t len)
{
    long long n = 0;
    size_t i = 0;
    for (; i < len && isxdigit((unsigned char)line[i]); i++) {
        int d = isdigit((unsigned char)line[i]) ? line[i] - '0'
                                                 : tolower((unsigned char)line[i]) - 'a' + 10;
        n = n * 16 + d;
        if (n > (long long)MAX_BODY)
            return -1;
    }
    while (i < len && is_ows(line[i]))
        i++;
    if (i == 0 || (i < len && line[i] != ';'))
        return -1;
    return n;
}

/* Decode a chunked body (RFC 9112 7.1) into body, trailers discarded.
 * Returns 0, -1 on EOF, -2 on malformed framing. */
static int read_chunked(struct conn *c, struct buf *body)
{
    for (;;) {
        size_t len;
        char *line = conn_line(c, &len);
        if (!line)
            return -1;
        long long size = parse_chunk_size(line, len);
        if (size < 0 || body->len + (size_t)size > MAX_BODY)
            return -2;
        if (size == 0)
            break;
        if (conn_need(c, (size_t)size) < 0)
            return -1;
        buf_add(body, cur(c), (size_t)size);
        consume(c, (size_t)size);
        if (!(line = conn_line(c, &len)))
            return -1;
        if (len != 0)
            return -2;      /* chunk data must be followed by CRLF */
    }
    for (;;) {              /* trailer section, up to an empty line */
        size_t len;
        if (!conn_line(c, &len))
            return -1;
        if (len == 0)
            return 0;
    }
}

/* Returns 0, -1 on EOF, -2 on malformed framing. */
static int read_body(struct conn *c, const struct request *r, struct buf *body)
{
    if (r->chunked)
        return read_chunked(c, body);
    if (r->content_length > 0) {
        size_t n = (size_t)r->content_length;
        if (conn_need(c, n) < 0)
            return -1;
        buf_add(body, cur(c), n);
        consume(c, n);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* HTTP answers                                                       */
/* ------------------------------------------------------------------ */

static int is_head(const struct request *r)
{
    return strcmp(r->method, "HEAD") == 0;
}

/* HTTP/1.1 is persistent unless "Connection: close"; HTTP/1.0 only with
 * "Connection: keep-alive". */
static int wants_keep_alive(const struct request *r)
{
    if (r->conn_close)
        return 0;
    return !r->http10 || r->conn_keep_alive;
}

static void head_start(struct buf *h, int status, const char *reason)
{
    buf_printf(h, "HTTP/1.1 %d %s\r\nX-Backend: %s\r\nContent-Type: text/plain\r\n",
               status, reason, g_name);
}

/* Tell the client what happens to the connection, then end the head. */
static void head_end(struct buf *h, const struct request *r, int keep)
{
    if (!keep)
        buf_printf(h, "Connection: close\r\n");
    else if (r->http10)
        buf_printf(h, "Connection: keep-alive\r\n");
    buf_printf(h, "\r\n");
}

static void default_body(struct buf *out, const struct conn *c,
                         const struct request *r, const struct buf *body)
{
    buf_printf(out, "backend=%s\nconn=%u\nbody=%zu\n", g_name, c->served, body->len);
    buf_add(out, r->head, r->head_len);
    buf_add(out, body->p, body->len);
}

/* Answer and close: used when the request cannot be processed. */
_Noreturn static void answer_error(struct conn *c, int status, const char *reason)
{
    struct buf h = { 0 };
    head_start(&h, status, reason);
    buf_printf(&h, "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
               strlen(reason) + 1, reason);
    send_all(c, h.p, h.len);
    buf_free(&h);
    close_gracefully(c);
}

/* The default answer, with any status.  204, 304 (and 1xx) have no body
 * and no Content-Length; HEAD gets the Content-Length but no body. */
static void answer_default(struct conn *c, const struct request *r,
                           const struct buf *body, int status,
                           const char *reason, int keep)
{
    struct buf b = { 0 }, h = { 0 };
    int bodyless = status < 200 || status == 204 || status == 304;

    default_body(&b, c, r, body);
    head_start(&h, status, reason);
    if (!bodyless)
        buf_printf(&h, "Content-Length: %zu\r\n", b.len);
    head_end(&h, r, keep);
    if (!bodyless && !is_head(r))
        buf_add(&h, b.p, b.len);
    send_all(c, h.p, h.len);
    buf_free(&b);
    buf_free(&h);
}

/* The default body in CHUNK_SIZE-byte chunks, one write() per chunk so
 * the proxy sees the chunks arrive in separate segments. */
static void answer_chunked(struct conn *c, const struct request *r,
                           const struct buf *body, int keep)
{
    struct buf b = { 0 }, h = { 0 };
    default_body(&b, c, r, body);
    head_start(&h, 200, "OK");
    buf_printf(&h, "Transfer-Encoding: chunked\r\n");
    head_end(&h, r, keep);
    send_all(c, h.p, h.len);
    if (!is_head(r)) {
        for (size_t off = 0; off < b.len; off += CHUNK_SIZE) {
            size_t n = b.len - off < CHUNK_SIZE ? b.len - off : CHUNK_SIZE;
            h.len = 0;
            buf_printf(&h, "%zx\r\n", n);
            buf_add(&h, b.p + off, n);
            buf_add(&h, "\r\n", 2);
            send_all(c, h.p, h.len);
        }
        send_str(c, "0\r\n\r\n");
    }
    buf_free(&b);
    buf_free(&h);
}

/* The default body delimited by closing the connection (no length). */
static void answer_close_delimited(struct conn *c, const struct request *r,
                                   const struct buf *body)
{
    struct buf b = { 0 }, h = { 0 };
    default_body(&b, c, r, body);
    head_start(&h, 200, "OK");
    head_end(&h, r, 0);
    if (!is_head(r))
        buf_add(&h, b.p, b.len);
    send_all(c, h.p, h.len);
    buf_free(&b);
    buf_free(&h);
}

/* N bytes of 'a' + i % 26, streamed from a block whose size is a multiple
 * of 26, so every block starts with 'a'. */
static void answer_big(struct conn *c, const struct request *r,
                       unsigned long long n, int keep)
{
    static char block[26 * 2520];
    struct buf h = { 0 };

    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)('a' + i % 26);
    head_start(&h, 200, "OK");
    buf_printf(&h, "Content-Length: %llu\r\n", n);
    head_end(&h, r, keep);
    send_all(c, h.p, h.len);
    buf_free(&h);
    if (is_head(r))
        return;
    while (n > 0) {
        size_t k = n < sizeof block ? (size_t)n : sizeof block;
        send_all(c, block, k);
        n -= k;
    }
}

/* ------------------------------------------------------------------ */
/* WebSocket echo (RFC 6455) and raw echo                             */
/* ------------------------------------------------------------------ */

/* Send one unmasked frame (servers never mask). */
static void ws_send(struct conn *c, unsigned b0, const void *payload, uint64_t len)
{
    unsigned char h[14];
    struct buf f = { 0 };

    buf_add(&f, h, ws_put_header(h, b0, len, NULL));
    buf_add(&f, payload, (size_t)len);
    send_all(c, f.p, f.len);
    buf_free(&f);
}

_Noreturn static void ws_close(struct conn *c, unsigned code)
{
    unsigned char p[2] = { (unsigned char)(code >> 8), (unsigned char)code };
    ws_send(c, 0x80 | OP_CLOSE, p, 2);
    close_gracefully(c);
}

/* Read one frame header at cur(c): returns its length (mask included) and
 * sets *b0, *masked and *len; exits on EOF. */
static size_t ws_read_header(struct conn *c, unsigned *b0, int *masked, uint64_t *len)
{
    if (conn_need(c, 2) < 0)
        exit(0);
    const unsigned char *p = (unsigned char *)cur(c);
    size_t hl = (p[1] & 0x7f) == 126 ? 4 : (p[1] & 0x7f) == 127 ? 10 : 2;
    if (conn_need(c, hl) < 0)
        exit(0);
    p = (unsigned char *)cur(c);        /* the buffer may have moved */
    *b0 = p[0];
    *masked = (p[1] & 0x80) != 0;
    *len = p[1] & 0x7f;
    if (hl == 4)
        *len = (uint64_t)p[2] << 8 | p[3];
    if (hl == 10) {
        *len = 0;
        for (int i = 0; i < 8; i++)
            *len = *len << 8 | p[2 + i];
    }
    return hl + (*masked ? 4 : 0);
}

/* Echo data frames as they are (same FIN bit and opcode, so fragmented
 * messages come back fragmented), answer pings, mirror the close.  Never
 * returns. */
_Noreturn static void ws_echo(struct conn *c)
{
    for (;;) {
        unsigned b0;
        int masked;
        uint64_t len;
        size_t hl = ws_read_header(c, &b0, &masked, &len);

        if (!masked)
            ws_close(c, 1002);          /* RFC 6455 5.1: clients must mask */
        if (len > MAX_BODY)
            ws_close(c, 1009);
        if (conn_need(c, hl + (size_t)len) < 0)
            exit(0);

        unsigned char *mask = (unsigned char *)cur(c) + hl - 4;
        unsigned char *payload = (unsigned char *)cur(c) + hl;
        for (uint64_t i = 0; i < len; i++)
            payload[i] ^= mask[i & 3];

        switch (b0 & 0x0f) {
        case OP_CONT:
        case OP_TEXT:
        case OP_BINARY:
            ws_send(c, b0 & 0x8f, payload, len);
            break;
        case OP_PING:
            ws_send(c, 0x80 | OP_PONG, payload, len);
            break;
        case OP_PONG:
            break;
        case OP_CLOSE:
            ws_send(c, 0x80 | OP_CLOSE, payload, len >= 2 ? 2 : 0);
            close_gracefully(c);
            break;
        default:
            ws_close(c, 1002);
        }
        consume(c, hl + (size_t)len);
    }
}

/* 101 answer; /ws-noaccept omits the accept header and /ws-hello puts a
 * "hello" text frame into the same write() as the head. */
_Noreturn static void serve_websocket(struct conn *c, const struct request *r)
{
    struct buf h = { 0 };
    buf_printf(&h, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n");
    if (!starts_with(r->path, "/ws-noaccept")) {
        char accept[29];
        if (ws_accept_value(r->ws_key, strlen(r->ws_key), accept) < 0)
            die("Sec-WebSocket-Key too long");
        buf_printf(&h, "Sec-WebSocket-Accept: %s\r\n", accept);
    }
    buf_printf(&h, "X-Backend: %s\r\n\r\n", g_name);
    if (starts_with(r->path, "/ws-hello"))
        buf_add(&h, "\x81\x05hello", 7);
    send_all(c, h.p, h.len);
    buf_free(&h);
    ws_echo(c);
}

/* Echo bytes until EOF, then "EOF\n", a pause, "BYE\n" and close: a client
 * that half-closed must still get all of it.  Never returns. */
_Noreturn static void serve_rawecho(struct conn *c)
{
    struct buf h = { 0 };
    buf_printf(&h, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: rawecho\r\n"
                   "Connection: Upgrade\r\nX-Backend: %s\r\n\r\n", g_name);
    send_all(c, h.p, h.len);
    buf_free(&h);

    while (avail(c) > 0 || conn_fill(c) > 0) {
        send_all(c, cur(c), avail(c));
        consume(c, avail(c));
    }
    send_str(c, "EOF\n");
    sleep_ms(RAW_BYE_MS);
    send_str(c, "BYE\n");
    if (close(c->fd) < 0)
        die_errno("close");
    exit(0);
}

/* ------------------------------------------------------------------ */
/* Dispatch and per-connection loop                                   */
/* ------------------------------------------------------------------ */

static unsigned long long path_number(const char *path, const char *prefix)
{
    return strtoull(path + strlen(prefix), NULL, 10);
}

/* Answer one request.  Returns 1 to keep the connection, 0 to close it. */
static int handle_request(struct conn *c, const struct request *r,
                          const struct buf *body)
{
    const char *p = r->path;
    int keep = wants_keep_alive(r);

    if (starts_with(p, "/nothing"))
        return 0;
    if (starts_with(p, "/garbage")) {
        send_str(c, "this is not http\r\n\r\n");
        return 0;
    }
    if (starts_with(p, "/ws-refuse")) {
        answer_default(c, r, body, 403, "Forbidden", keep);
        return keep;
    }
    if (r->up_websocket && r->conn_upgrade && r->ws_key)
        serve_websocket(c, r);
    if (r->up_rawecho && r->conn_upgrade)
        serve_rawecho(c);
    if (starts_with(p, "/status/")) {
        unsigned long long st = path_number(p, "/status/");
        if (st < 100 || st > 999)
            st = 200;
        answer_default(c, r, body, (int)st, "Test", keep);
        return keep;
    }
    if (starts_with(p, "/sleep/"))
        sleep_ms((long)path_number(p, "/sleep/"));
    if (starts_with(p, "/chunked")) {
        answer_chunked(c, r, body, keep);
        return keep;
    }
    if (starts_with(p, "/close")) {
        answer_close_delimited(c, r, body);
        return 0;
    }
    if (starts_with(p, "/big/")) {
        answer_big(c, r, path_number(p, "/big/"), keep);
        return keep;
    }
    answer_default(c, r, body, 200, "OK", keep);
    return keep;
}

_Noreturn static void serve_connection(int fd)
{
    struct conn c = { .fd = fd };
    buf_reserve(&c.in, READ_CHUNK);     /* cur() is never a NULL pointer */
    for (;;) {
        size_t hlen = read_head(&c);
        if (hlen == 0)
            exit(0);

        struct request r;
        parse_request(&r, cur(&c), hlen);
        consume(&c, hlen);
        if (r.bad)
            answer_error(&c, 400, "Bad Request");

        /* The client may wait for this before it sends the body. */
        if (r.expect_continue || starts_with(r.path, "/100continue"))
            send_str(&c, "HTTP/1.1 100 Continue\r\n\r\n");

        struct buf body = { 0 };
        int rc = read_body(&c, &r, &body);
        if (rc == -1)
            exit(0);
        if (rc == -2)
            answer_error(&c, 400, "Bad Request");

        c.served++;
        int keep = handle_request(&c, &r, &body);
        buf_free(&body);
        request_free(&r);
        if (!keep)
            close_gracefully(&c);
    }
}

/* ------------------------------------------------------------------ */
/* Parent: listening, children, signals                               */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Only there so that SIGCHLD interrupts ppoll(); reaping happens in the
 * main loop. */
static void on_child(int sig)
{
    (void)sig;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    if (sigemptyset(&sa.sa_mask) < 0 || sigaction(sig, &sa, NULL) < 0)
        die_errno("sigaction");
}

/* Pids of live children, so that SIGTERM can stop and reap them all
 * (orphans would otherwise linger as zombies if init does not reap). */
static pid_t *g_kids;
static size_t g_nkids, g_capkids;

static void kids_add(pid_t pid)
{
    if (g_nkids == g_capkids) {
        g_capkids = g_capkids ? 2 * g_capkids : 64;
        g_kids = realloc(g_kids, g_capkids * sizeof *g_kids);
        if (!g_kids)
            die("out of memory");
    }
    g_kids[g_nkids++] = pid;
}

static void kids_remove(pid_t pid)
{
    for (size_t i = 0; i < g_nkids; i++)
        if (g_kids[i] == pid) {
            g_kids[i] = g_kids[--g_nkids];
            return;
        }
}

static void reap_children(void)
{
    for (;;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid > 0) {
            kids_remove(pid);
            continue;
        }
        if (pid == 0 || errno == ECHILD)
            return;
        if (errno != EINTR)
            die_errno("waitpid");
    }
}

static void stop_children(void)
{
    for (size_t i = 0; i < g_nkids; i++)
        if (kill(g_kids[i], SIGTERM) < 0 && errno != ESRCH)
            die_errno("kill");
    for (size_t i = 0; i < g_nkids; i++)
        while (waitpid(g_kids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    g_nkids = 0;
}

/* Runs in the new child: drop the parent's signal setup, die with the
 * parent (even on SIGKILL), then serve.  Never returns. */
_Noreturn static void child_main(int fd, int lfd, pid_t parent, const sigset_t *mask)
{
    if (close(lfd) < 0)
        die_errno("close");
    set_handler(SIGTERM, SIG_DFL);
    set_handler(SIGINT, SIG_DFL);
    set_handler(SIGCHLD, SIG_DFL);
    if (sigprocmask(SIG_SETMASK, mask, NULL) < 0)
        die_errno("sigprocmask");
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        die_errno("prctl");
    if (getppid() != parent)    /* the parent died before prctl() */
        exit(0);
    serve_connection(fd);
}

static void accept_one(int lfd, const sigset_t *child_mask)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        /* Transient: the connection went away, or we are out of fds
         * (then back off a little instead of spinning). */
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ||
            errno == EPROTO)
            return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            fprintf(stderr, "backend: accept: %s\n", strerror(errno));
            sleep_ms(50);
            return;
        }
        die_errno("accept");
    }
    /* Small writes (chunks, frames) go out at once instead of waiting
     * for an ACK that the peer may delay by 40 ms (TCP only: a unix
     * socket has no such delay). */
    if (g_unix_name == NULL)
        set_nodelay(fd);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_main(fd, lfd, parent, child_mask);
    if (pid < 0)
        fprintf(stderr, "backend: fork: %s\n", strerror(errno));
    else
        kids_add(pid);
    if (close(fd) < 0)
        die_errno("close");
}

/* Signals are blocked except inside ppoll(), so a SIGTERM cannot slip in
 * between the g_stop test and the wait. */
static void accept_loop(int lfd, const sigset_t *wait_mask)
{
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };
    while (!g_stop) {
        reap_children();
        int n = ppoll(&pfd, 1, NULL, wait_mask);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die_errno("ppoll");
        accept_one(lfd, wait_mask);
    }
    stop_children();
}

static int listen_on(const char *port, int ipv6)
{
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || end == port || pn < 1 || pn > 65535)
        die("bad port: %s", port);

    int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die_errno("socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die_errno("setsockopt SO_REUSEADDR");

    if (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        die_errno("setsockopt IPV6_V6ONLY");
    struct sockaddr_storage ss;
    socklen_t sslen = loopback_addr(&ss, ipv6, (uint16_t)pn);
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
        die("bind %s port %ld: %s", ipv6 ? "::1" : "127.0.0.1", pn, strerror(errno));
    if (listen(fd, SOMAXCONN) < 0)
        die_errno("listen");
    return fd;
}

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: backend -p PORT -n NAME [-l LOGFILE] [-P PIDFILE] [-6]\n"
                    "               [-u PATH | -a NAME | -A NAME]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *port = NULL, *logfile = NULL, *pidfile = NULL;
    int ipv6 = 0, opt;
    enum unix_kind unix_kind = UNIX_PATH;

    util_prog = "backend";
    util_show_pid = 1;
    while ((opt = getopt(argc, argv, "p:n:l:P:6u:a:A:")) != -1) {
        switch (opt) {
        case 'p': port = optarg; break;
        case 'n': g_name = optarg; break;
        case 'l': logfile = optarg; break;
        case 'P': pidfile = optarg; break;
        case '6': ipv6 = 1; break;
        case 'u': g_unix_name = optarg; unix_kind = UNIX_PATH; break;
        case 'a': g_unix_name = optarg; unix_kind = UNIX_ABNS; break;
        case 'A': g_unix_name = optarg; unix_kind = UNIX_ABSTRACT_EXACT; break;
        default: usage();
        }
    }
    if ((!port && !g_unix_name) || !g_name || optind != argc)
        usage();

    if (logfile) {
        g_logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (g_logfd < 0)
            die("open %s: %s", logfile, strerror(errno));
    }
    set_handler(SIGPIPE, SIG_IGN);      /* write errors come back as EPIPE */

    sigset_t block, orig, wait_mask;
    if (sigemptyset(&block) < 0 || sigaddset(&block, SIGTERM) < 0 ||
        sigaddset(&block, SIGINT) < 0 || sigaddset(&block, SIGCHLD) < 0 ||
        sigprocmask(SIG_BLOCK, &block, &orig) < 0)
        die_errno("sigprocmask");
    wait_mask = orig;
    if (sigdelset(&wait_mask, SIGTERM) < 0 || sigdelset(&wait_mask, SIGINT) < 0 ||
        sigdelset(&wait_mask, SIGCHLD) < 0)
        die_errno("sigdelset");
    set_handler(SIGTERM, on_stop);
    set_handler(SIGINT, on_stop);
    set_handler(SIGCHLD, on_child);

    int lfd = g_unix_name ? unix_listen(g_unix_name, unix_kind, SOMAXCONN)
                          : listen_on(port, ipv6);
    if (pidfile)
        write_pidfile(pidfile);     /* only now are we ready */
    accept_loop(lfd, &wait_mask);
    return 0;
}
