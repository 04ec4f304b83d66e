/*
 * sdlaunch - start a program the way systemd socket activation does.
 *
 * Usage: sdlaunch [-P PIDFILE] ADDR:PORT [ADDR:PORT...] -- PROGRAM [ARGS...]
 *
 *   ADDR:PORT   127.0.0.1:8080 or [::1]:8080 (IPv4 or bracketed IPv6
 *               literal, no host names, no scope ids; PORT 1..65535)
 *   -P PIDFILE  write our pid there before exec (it is PROGRAM's pid too)
 *
 * Each address is bound (SO_REUSEADDR; IPV6_V6ONLY=1 for IPv6) and put to
 * listen (backlog 128) in the order given, and the sockets end up on fds
 * 3, 4, 5..., without FD_CLOEXEC, in blocking mode as systemd passes them.
 * Then LISTEN_FDS=<count>, LISTEN_PID=<our pid> and
 * LISTEN_FDNAMES=sock0:sock1:... are set and PROGRAM is execvp()ed, so it
 * keeps our pid and LISTEN_PID names it, as under systemd.
 *
 * The pid file appears once every socket listens: connections made from
 * then on wait in the backlog until PROGRAM accepts them, which is the
 * point of socket activation.  It is not a sign that PROGRAM is running.
 * If the exec fails, the pid file is removed again.
 *
 * Exit status (only when PROGRAM was not started): 1 system error,
 * 64 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define SD_LISTEN_FDS_START 3     /* fixed by the sd_listen_fds() protocol */
#define MAX_SOCKS 64
#define BACKLOG 128

struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    const char *text;             /* as given, for messages */
};

_Noreturn static void usage(const char *why)
{
    if (why)
        fprintf(stderr, "sdlaunch: %s\n", why);
    fprintf(stderr, "usage: sdlaunch [-P PIDFILE] ADDR:PORT [ADDR:PORT...]"
            " -- PROGRAM [ARGS...]\n"
            "       ADDR is an IPv4 literal or a bracketed IPv6 literal\n");
    exit(64);
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    long pn = strtol(s, &end, 10);
    if (errno || *end || end == s || pn < 1 || pn > 65535)
        return -1;
    *port = htons((uint16_t)pn);
    return 0;
}

/* Splits "1.2.3.4:80" or "[::1]:80" into *a; 0 on success, -1 if malformed. */
static int parse_addr(const char *arg, struct listen_addr *a)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon, *start = arg;
    int v6 = arg[0] == '[';

    if (v6) {
        colon = strchr(arg, ']');
        if (!colon || colon[1] != ':')
            return -1;
        start = arg + 1;
        colon++;
    } else if (!(colon = strrchr(arg, ':'))) {
        return -1;
    }
    size_t hlen = (size_t)(colon - start) - (v6 ? 1 : 0);
    if (hlen == 0 || hlen >= sizeof host)
        return -1;
    memcpy(host, start, hlen);
    host[hlen] = '\0';

    memset(a, 0, sizeof *a);
    a->text = arg;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        s6->sin6_family = AF_INET6;
        a->len = sizeof *s6;
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        return parse_port(colon + 1, &s6->sin6_port);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    s4->sin_family = AF_INET;
    a->len = sizeof *s4;
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -1;
    return parse_port(colon + 1, &s4->sin_port);
}

/* Everything is parsed before the first socket is made, so a usage error
 * never leaves a half-done launch behind.  Returns the number of
 * addresses; *prog gets the index of PROGRAM in argv. */
static int parse_args(int argc, char **argv, const char **pidfile,
                      struct listen_addr *addrs, int *prog)
{
    int opt, n = 0;

    /* '+': stop at the first address, so PROGRAM's options stay its own. */
    while ((opt = getopt(argc, argv, "+P:")) != -1) {
        if (opt != 'P')
            usage(NULL);
        *pidfile = optarg;
    }
    int i = optind;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (n == MAX_SOCKS)
            usage("too many addresses");
        if (parse_addr(argv[i], &addrs[n++]) < 0) {
            fprintf(stderr, "sdlaunch: bad address: %s\n", argv[i]);
            usage(NULL);
        }
    }
    if (n == 0)
        usage("no address");
    if (i + 1 >= argc)
        usage("no '--' and PROGRAM");
    *prog = i + 1;
    return n;
}

static int listen_on(const struct listen_addr *a)
{
    int one = 1;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket for %s: %s", a->text, strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt SO_REUSEADDR: %s", strerror(errno));
    /* So that [::]:P leaves 0.0.0.0:P free, as BindIPv6Only=ipv6-only. */
    if (a->ss.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        die("setsockopt IPV6_V6ONLY: %s", strerror(errno));
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
        die("bind %s: %s", a->text, strerror(errno));
    if (listen(fd, BACKLOG) < 0)
        die("listen %s: %s", a->text, strerror(errno));
    return fd;
}

/* Puts fds[i] on SD_LISTEN_FDS_START + i.  All sockets are first lifted
 * above the target range, so no dup2() can close a socket that has not
 * been moved yet (or a stray fd of ours that a target number held). */
static void move_to_listen_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        int hi = fcntl(fds[i], F_DUPFD_CLOEXEC, SD_LISTEN_FDS_START + n);
        if (hi < 0)
            die("fcntl F_DUPFD: %s", strerror(errno));
        if (close(fds[i]) < 0)
            die("close: %s", strerror(errno));
        fds[i] = hi;
    }
    for (int i = 0; i < n; i++) {
        int want = SD_LISTEN_FDS_START + i;
        if (dup2(fds[i], want) < 0)
            die("dup2 to fd %d: %s", want, strerror(errno));
        if (close(fds[i]) < 0)
            die("close: %s", strerror(errno));
        /* dup2() clears FD_CLOEXEC already; inheriting is the whole point,
         * so make sure of it rather than rely on that detail. */
        int flags = fcntl(want, F_GETFD);
        if (flags < 0 || fcntl(want, F_SETFD, flags & ~FD_CLOEXEC) < 0)
            die("fcntl F_SETFD fd %d: %s", want, strerror(errno));
    }
}

static void set_env(int n)
{
    char num[32], names[MAX_SOCKS * 8];
    size_t used = 0;

    for (int i = 0; i < n; i++) {
        int k = snprintf(names + used, sizeof names - used, "%ssock%d",
                         i ? ":" : "", i);
        if (k < 0 || (size_t)k >= sizeof names - used)
            die("LISTEN_FDNAMES too long");
        used += (size_t)k;
    }
    if (setenv("LISTEN_FDNAMES", names, 1) < 0)
        die("setenv: %s", strerror(errno));
    snprintf(num, sizeof num, "%d", n);
    if (setenv("LISTEN_FDS", num, 1) < 0)
        die("setenv: %s", strerror(errno));
    snprintf(num, sizeof num, "%ld", (long)getpid());
    if (setenv("LISTEN_PID", num, 1) < 0)
        die("setenv: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    static struct listen_addr addrs[MAX_SOCKS];
    int fds[MAX_SOCKS];
    const char *pidfile = NULL;
    int prog;

    util_prog = "sdlaunch";
    int n = parse_args(argc, argv, &pidfile, addrs, &prog);
    for (int i = 0; i < n; i++)
        fds[i] = listen_on(&addrs[i]);
    move_to_listen_fds(fds, n);
    set_env(n);
    if (pidfile)
        write_pidfile(pidfile);

    execvp(argv[prog], argv + prog);
    int err = errno;
    /* We exit now: a pid file naming a dead pid would mislead a test. */
    if (pidfile && unlink(pidfile) < 0)
        fprintf(stderr, "sdlaunch: unlink %s: %s\n", pidfile, strerror(errno));
    die("exec %s: %s", argv[prog], strerror(err));
}
