/*
 * udpsink - a syslog receiver for tests: append every UDP datagram to a file.
 *
 * Usage: udpsink -p PORT -o FILE [-P PIDFILE] [-6]
 *        udpsink -u PATH -o FILE [-P PIDFILE]
 *
 *   -p PORT     receive on 127.0.0.1:PORT (with -6 on [::1]:PORT)
 *   -u PATH     receive on a unix datagram socket at PATH instead, as
 *               syslog's /dev/log (a file already there is removed first)
 *   -o FILE     append each datagram to FILE exactly as received: one
 *               write() per datagram, O_APPEND, no separator added (syslog
 *               datagrams carry their own '\n', or none); empty datagrams
 *               add nothing
 *   -P PIDFILE  write our pid there once the socket is bound (readiness:
 *               from then on datagrams are queued for us)
 *   -6          use ::1 instead of 127.0.0.1
 *
 * SIGTERM or SIGINT: the datagrams already queued on the socket are still
 * written, then exit 0, so "send, kill, wait, read FILE" loses nothing
 * (on loopback a datagram is queued by the time sendto() returns).  The
 * pid file is left in place.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on errors, 64 on usage errors
 * (a bad PORT included).
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
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* Larger than any UDP payload short of IPv6 jumbograms (65507 bytes over
 * IPv4, 65527 over IPv6), so no datagram is ever cut. */
#define DGRAM_MAX 65536

static volatile sig_atomic_t g_stop;

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: udpsink -p PORT -o FILE [-P PIDFILE] [-6]\n"
                    "       udpsink -u PATH -o FILE [-P PIDFILE]\n");
    exit(64);
}

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    if (sigemptyset(&sa.sa_mask) < 0 || sigaction(sig, &sa, NULL) < 0)
        die_errno("sigaction");
}

/* Blocks SIGTERM and SIGINT everywhere but inside ppoll(), so a signal
 * cannot slip in between the g_stop test and the wait; *wait_mask gets
 * the mask to wait with. */
static void setup_signals(sigset_t *wait_mask)
{
    sigset_t block, orig;
    if (sigemptyset(&block) < 0 || sigaddset(&block, SIGTERM) < 0 ||
        sigaddset(&block, SIGINT) < 0 ||
        sigprocmask(SIG_BLOCK, &block, &orig) < 0)
        die_errno("sigprocmask");
    *wait_mask = orig;
    if (sigdelset(wait_mask, SIGTERM) < 0 || sigdelset(wait_mask, SIGINT) < 0)
        die_errno("sigdelset");
    set_handler(SIGTERM, on_stop);
    set_handler(SIGINT, on_stop);
}

/* A bad PORT is a usage error (64), like a missing option. */
static uint16_t parse_port(const char *s)
{
    char *end;
    errno = 0;
    long pn = strtol(s, &end, 10);
    if (errno || *end || end == s || pn < 1 || pn > 65535) {
        fprintf(stderr, "udpsink: bad port: %s\n", s);
        usage();
    }
    return (uint16_t)pn;
}

/* No SO_REUSEADDR: UDP has no TIME_WAIT to step over, and on Linux it lets
 * two UDP sockets that both set it share a port, which would hide a busy
 * port from a test instead of failing the bind. */
static int bind_udp(uint16_t pn, int ipv6)
{
    int fd = socket(ipv6 ? AF_INET6 : AF_INET,
                    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die_errno("socket");

    struct sockaddr_storage ss;
    socklen_t sslen = loopback_addr(&ss, ipv6, pn);
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
        die("bind %s port %u: %s", ipv6 ? "::1" : "127.0.0.1", (unsigned)pn,
            strerror(errno));
    return fd;
}

static int bind_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path)
        die("socket path too long: %s", path);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die_errno("socket");
    if (unlink(path) < 0 && errno != ENOENT)
        die("unlink %s: %s", path, strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
        die("bind %s: %s", path, strerror(errno));
    return fd;
}

/* Appends every datagram queued on sock to out, until none is left. */
static void drain(int sock, int out)
{
    static char buf[DGRAM_MAX];

    for (;;) {
        ssize_t n = recv(sock, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0)
            die_errno("recv");
        if (n == 0)
            continue;               /* an empty datagram: nothing to add */
        /* One write() per datagram: with O_APPEND it lands in one piece. */
        ssize_t w = write(out, buf, (size_t)n);
        if (w < 0)
            die_errno("write");
        if (w != n)
            die("short write: %zd of %zd bytes", w, n);
    }
}

static void receive_loop(int sock, int out, const sigset_t *wait_mask)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    while (!g_stop) {
        int n = ppoll(&pfd, 1, NULL, wait_mask);
        if (n < 0 && errno != EINTR)
            die_errno("ppoll");
        drain(sock, out);
    }
}

int main(int argc, char **argv)
{
    const char *port = NULL, *path = NULL, *file = NULL, *pidfile = NULL;
    int ipv6 = 0, opt;

    util_prog = "udpsink";
    while ((opt = getopt(argc, argv, "p:u:o:P:6")) != -1) {
        switch (opt) {
        case 'p': port = optarg; break;
        case 'u': path = optarg; break;
        case 'o': file = optarg; break;
        case 'P': pidfile = optarg; break;
        case '6': ipv6 = 1; break;
        default: usage();
        }
    }
    if (!port == !path || !file || optind != argc || (path && ipv6))
        usage();

    int out = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0)
        die("open %s: %s", file, strerror(errno));
    sigset_t wait_mask;
    setup_signals(&wait_mask);
    int sock = path ? bind_unix(path) : bind_udp(parse_port(port), ipv6);
    if (pidfile)
        write_pidfile(pidfile);     /* only now are datagrams kept */
    receive_loop(sock, out, &wait_mask);
    if (close(out) < 0)
        die_errno("close");
    return 0;
}
