/*
 * ppeer - a PROXY protocol peer for the wsproxy tests, written from
 * HAProxy's proxy-protocol.txt on its own (it shares no code with
 * proxyproto.c, so the two check each other).
 *
 * Client: ppeer -c -p PORT [-a ADDR] [-v 1|2] [-T] [-t MS] FAMILY [SRC DST SPORT DPORT]
 *
 *   Connects to ADDR:PORT (default 127.0.0.1; "::1" for IPv6), sends a
 *   PROXY header, then all of stdin, and copies what comes back to stdout
 *   until EOF or MS ms (default 5000) of silence.  FAMILY is TCP4, TCP6,
 *   UNKNOWN (v1) or LOCAL (v2; UNKNOWN with -v 2 sends PROXY/UNSPEC).
 *   -T appends two TLVs to a v2 header (NOOP, AUTHORITY) that the
 *   receiver has to skip.
 *
 * Server: ppeer -l {-p PORT [-6] | -u PATH | -a NAME} -o FILE [-P PIDFILE]
 *
 *   Listens on 127.0.0.1:PORT (or [::1]), on the unix socket PATH (a
 *   stale file there is replaced), or on the abstract unix socket NAME
 *   padded with NULs as HAProxy's abns@NAME; for each connection (one
 *   child each) reads a PROXY header, v1 or v2, byte-exactly, and appends
 *   one line to FILE:
 *
 *     hex=<the header's bytes> v=1 cmd=PROXY fam=TCP4 src=A dst=B sport=N dport=M
 *     hex=... v=2 cmd=LOCAL fam=UNSPEC
 *     bad=<reason> hex=<what was read>
 *
 *   then reads an HTTP request head and answers 200 with that line as the
 *   body (Connection: close).  PIDFILE is written once listening.
 *
 * Exit status: 0 EOF (client) or SIGTERM (server); 1 errors; 2 could not
 * connect; 3 idle timeout; 64 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static const unsigned char SIG[12] = {
    '\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
};

_Noreturn static void usage(void)
{
    fprintf(stderr,
        "usage: ppeer -c -p PORT [-a ADDR] [-v 1|2] [-T] [-t MS] FAMILY [SRC DST SPORT DPORT]\n"
        "       ppeer -l {-p PORT [-6] | -u PATH | -a NAME} -o FILE [-P PIDFILE]\n");
    exit(64);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Encoder                                                            */
/* ------------------------------------------------------------------ */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* An address of the given family, or exit. */
static void addr_bytes(int af, const char *text, unsigned char *out)
{
    if (inet_pton(af, text, out) != 1) {
        fprintf(stderr, "ppeer: bad address %s\n", text);
        exit(64);
    }
}

static size_t encode_v1(unsigned char *out, size_t cap, char **a, int na,
                        const char *fam)
{
    int n;
    if (strcmp(fam, "UNKNOWN") == 0 || strcmp(fam, "LOCAL") == 0)
        n = snprintf((char *)out, cap, "PROXY UNKNOWN\r\n");
    else if (na == 4)
        n = snprintf((char *)out, cap, "PROXY %s %s %s %s %s\r\n", fam,
                     a[0], a[1], a[2], a[3]);
    else
        usage();
    return (size_t)n;
}

static size_t encode_v2(unsigned char *out, char **a, int na,
                        const char *fam, int tlvs)
{
    size_t len = 0;
    memcpy(out, SIG, 12);
    out[12] = 0x21;                 /* version 2, PROXY */
    out[13] = 0x00;
    if (strcmp(fam, "LOCAL") == 0) {
        out[12] = 0x20;
    } else if (strcmp(fam, "TCP4") == 0 && na == 4) {
        out[13] = 0x11;
        addr_bytes(AF_INET, a[0], out + 16);
        addr_bytes(AF_INET, a[1], out + 20);
        put16(out + 24, (unsigned)atoi(a[2]));
        put16(out + 26, (unsigned)atoi(a[3]));
        len = 12;
    } else if (strcmp(fam, "TCP6") == 0 && na == 4) {
        out[13] = 0x21;
        addr_bytes(AF_INET6, a[0], out + 16);
        addr_bytes(AF_INET6, a[1], out + 32);
        put16(out + 48, (unsigned)atoi(a[2]));
        put16(out + 50, (unsigned)atoi(a[3]));
        len = 36;
    } else if (strcmp(fam, "UNKNOWN") != 0) {
        usage();
    }
    if (tlvs) {
        static const unsigned char t[] = {
            0x04, 0x00, 0x03, 'x', 'y', 'z',                  /* NOOP */
            0x02, 0x00, 0x09, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'h'
        };
        memcpy(out + 16 + len, t, sizeof(t));
        len += sizeof(t);
    }
    put16(out + 14, (unsigned)len);
    return 16 + len;
}

/* ------------------------------------------------------------------ */
/* Client                                                             */
/* ------------------------------------------------------------------ */

static int connect_to(const char *addr, int port)
{
    struct sockaddr_in6 s6 = { 0 };
    struct sockaddr_in s4 = { 0 };
    int fd;
    if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons((uint16_t)port);
        fd = socket(AF_INET6, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0)
            exit(2);
        return fd;
    }
    s4.sin_family = AF_INET;
    s4.sin_port = htons((uint16_t)port);
    addr_bytes(AF_INET, addr, (unsigned char *)&s4.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0)
        exit(2);
    return fd;
}

static int run_client(const char *addr, int port, int version, int tlvs,
                      int idle_ms, char **args, int nargs)
{
    unsigned char hdr[512];
    char buf[65536];
    size_t hlen;
    int fd;
    ssize_t n;

    if (nargs < 1)
        usage();
    if (version == 1)
        hlen = encode_v1(hdr, sizeof(hdr), args + 1, nargs - 1, args[0]);
    else
        hlen = encode_v2(hdr, args + 1, nargs - 1, args[0], tlvs);
    fd = connect_to(addr, port);
    if (write_all(fd, hdr, hlen) < 0)
        die_errno("send header");
    while ((n = read(0, buf, sizeof(buf))) > 0)
        if (write_all(fd, buf, (size_t)n) < 0)
            break;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        int rc = poll(&p, 1, idle_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return 3;
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return 0;
        if (write_all(1, buf, (size_t)n) < 0)
            return 1;
    }
}

/* ------------------------------------------------------------------ */
/* Decoder                                                            */
/* ------------------------------------------------------------------ */

struct got {
    unsigned char b[16 + 65536];
    size_t n;
};

/* Reads exactly n more bytes; 0, or -1 at EOF/error. */
static int read_n(int fd, struct got *g, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, g->b + g->n, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        g->n += (size_t)r;
        n -= (size_t)r;
    }
    return 0;
}

static void hex(const struct got *g, char *out)
{
    for (size_t i = 0; i < g->n; i++)
        sprintf(out + 2 * i, "%02x", g->b[i]);
    out[2 * g->n] = '\0';
}

/* v1: byte by byte up to LF (at most 107), then split on single spaces. */
static const char *decode_v1(int fd, struct got *g, char *out, size_t cap)
{
    char line[108], *f[7];
    int nf = 0;
    while (g->n < 107 && (g->n == 0 || g->b[g->n - 1] != '\n'))
        if (read_n(fd, g, 1) < 0)
            return "truncated";
    if (g->b[g->n - 1] != '\n' || g->n < 2 || g->b[g->n - 2] != '\r')
        return "no CRLF";
    memcpy(line, g->b, g->n - 2);
    line[g->n - 2] = '\0';
    for (char *p = line; nf < 7; nf++) {
        f[nf] = p;
        p = strchr(p, ' ');
        if (p == NULL) {
            nf++;
            break;
        }
        *p++ = '\0';
    }
    if (strcmp(f[0], "PROXY") != 0)
        return "not PROXY";
    if (nf == 2 && strcmp(f[1], "UNKNOWN") == 0) {
        snprintf(out, cap, "v=1 cmd=PROXY fam=UNKNOWN");
        return NULL;
    }
    if (nf != 6 || (strcmp(f[1], "TCP4") != 0 && strcmp(f[1], "TCP6") != 0))
        return "bad v1 fields";
    snprintf(out, cap, "v=1 cmd=PROXY fam=%s src=%s dst=%s sport=%s dport=%s",
             f[1], f[2], f[3], f[4], f[5]);
    return NULL;
}

static const char *decode_v2(int fd, struct got *g, char *out, size_t cap)
{
    static const char *const fams[] = { "UNSPEC", "TCP4", "TCP6", "UNIX" };
    char s[64], d[64];
    size_t len;
    const unsigned char *a = g->b + 16;
    int fam;

    if (read_n(fd, g, 16 - g->n) < 0)
        return "truncated";
    if (memcmp(g->b, SIG, 12) != 0 || (g->b[12] >> 4) != 2)
        return "bad signature";
    len = (size_t)g->b[14] << 8 | g->b[15];
    if (read_n(fd, g, len) < 0)
        return "truncated";
    fam = g->b[13] >> 4;
    if ((g->b[12] & 0xf) == 0 || fam == 0 || fam > 2) {
        snprintf(out, cap, "v=2 cmd=%s fam=%s",
                 (g->b[12] & 0xf) == 0 ? "LOCAL" : "PROXY",
                 fam <= 3 ? fams[fam] : "?");
        return NULL;
    }
    if (len < (fam == 1 ? 12u : 36u))
        return "short address block";
    inet_ntop(fam == 1 ? AF_INET : AF_INET6, a, s, sizeof(s));
    inet_ntop(fam == 1 ? AF_INET : AF_INET6, a + (fam == 1 ? 4 : 16), d,
              sizeof(d));
    a += fam == 1 ? 8 : 32;
    snprintf(out, cap, "v=2 cmd=PROXY fam=%s src=%s dst=%s sport=%u dport=%u",
             fams[fam], s, d, (unsigned)a[0] << 8 | a[1],
             (unsigned)a[2] << 8 | a[3]);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Server                                                             */
/* ------------------------------------------------------------------ */

static void serve_one(int fd, int logfd)
{
    static struct got g;
    static char hx[2 * sizeof(g.b) + 1];
    char desc[256], line[1024], resp[1400], head[8192];
    const char *bad;
    size_t hn = 0;
    int n;

    alarm(10);
    g.n = 0;
    if (read_n(fd, &g, 1) < 0)
        bad = "empty";
    else if (g.b[0] == 'P')
        bad = decode_v1(fd, &g, desc, sizeof(desc));
    else
        bad = decode_v2(fd, &g, desc, sizeof(desc));
    if (g.n > 256)
        g.n = 256;      /* the log line stays readable */
    hex(&g, hx);
    if (bad)
        n = snprintf(line, sizeof(line), "bad=%s hex=%s\n", bad, hx);
    else
        n = snprintf(line, sizeof(line), "hex=%s %s\n", hx, desc);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    if (write_all(logfd, line, (size_t)n) < 0)
        die_errno("log");
    if (bad)
        return;
    /* the request head, then our answer */
    while (hn < sizeof(head) - 1) {
        ssize_t r = read(fd, head + hn, sizeof(head) - 1 - hn);
        if (r <= 0)
            return;
        hn += (size_t)r;
        head[hn] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL)
            break;
    }
    n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                 "Connection: close\r\n\r\n%s", (int)strlen(line), line);
    (void)write_all(fd, resp, (size_t)n);
}

static int listen_tcp(int port, int ipv6)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int one = 1, lfd;

    lfd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die_errno("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sslen = loopback_addr(&ss, ipv6, (uint16_t)port);
    if (bind(lfd, (struct sockaddr *)&ss, sslen) < 0)
        die_errno("bind");
    if (listen(lfd, 64) < 0)
        die_errno("listen");
    return lfd;
}

/* unix_name: NULL for TCP; the listener is blocking (accept waits). */
static int run_server(int port, const char *unix_name, enum unix_kind kind,
                      const char *logfile, const char *pidfile, int ipv6)
{
    int lfd, logfd, flags;

    logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (logfd < 0)
        die_errno(logfile);
    if (unix_name == NULL) {
        lfd = listen_tcp(port, ipv6);
    } else {
        lfd = unix_listen(unix_name, kind, 64);
        if ((flags = fcntl(lfd, F_GETFL)) < 0 ||
            fcntl(lfd, F_SETFL, flags & ~O_NONBLOCK) < 0)
            die_errno("fcntl");
    }
    signal(SIGCHLD, SIG_IGN);       /* children reap themselves */
    if (pidfile)
        write_pidfile(pidfile);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die_errno("accept");
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(lfd);
            serve_one(fd, logfd);
            _exit(0);
        }
        close(fd);
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *logfile = NULL, *pidfile = NULL;
    const char *unix_name = NULL, *a_opt = NULL;
    enum unix_kind unix_kind = UNIX_PATH;
    int client = 0, server = 0, port = 0, version = 1, tlvs = 0, ipv6 = 0;
    int idle_ms = 5000, opt;

    util_prog = "ppeer";
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "clp:a:v:Tt:o:P:6u:")) != -1) {
        switch (opt) {
        case 'c': client = 1; break;
        case 'l': server = 1; break;
        case 'p': port = atoi(optarg); break;
        case 'a': addr = a_opt = optarg; break;
        case 'u': unix_name = optarg; break;
        case 'v': version = atoi(optarg); break;
        case 'T': tlvs = 1; break;
        case 't': idle_ms = atoi(optarg); break;
        case 'o': logfile = optarg; break;
        case 'P': pidfile = optarg; break;
        case '6': ipv6 = 1; break;
        default: usage();
        }
    }
    if (client == server || (version != 1 && version != 2))
        usage();
    if (client && port <= 0)
        usage();
    if (client)
        return run_client(addr, port, version, tlvs, idle_ms, argv + optind,
                          argc - optind);
    if (unix_name == NULL && a_opt != NULL) {   /* -a: abstract, here */
        unix_name = a_opt;
        unix_kind = UNIX_ABNS;
    }
    if (logfile == NULL || (port <= 0 && unix_name == NULL))
        usage();
    return run_server(port, unix_name, unix_kind, logfile, pidfile, ipv6);
}
