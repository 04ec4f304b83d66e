/*
 * freeport - print free TCP ports on 127.0.0.1, one per line.
 *
 * Usage: freeport [N]          (default N = 1, at most 1000)
 *
 * The N sockets are all bound at the same time, so the N ports are
 * distinct.  They are closed again before exiting: a printed port is only
 * "very probably free", another process could take it before the caller
 * binds it.  Linux picks bind(port 0) ports at random from the ephemeral
 * range, so an immediate collision is unlikely.
 *
 * Exit status: 0 ok, 1 system error, 64 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAX_PORTS 1000

static int parse_count(int argc, char **argv)
{
    if (argc == 1)
        return 1;
    char *end;
    errno = 0;
    long n = strtol(argv[1], &end, 10);
    if (argc > 2 || errno || *end || end == argv[1] || n < 1 || n > MAX_PORTS) {
        fprintf(stderr, "usage: freeport [N]   (1 <= N <= %d)\n", MAX_PORTS);
        exit(64);
    }
    return (int)n;
}

/* Bind a new socket to 127.0.0.1:0 and return it; *port gets the port the
 * kernel chose.  The socket stays open so the port stays reserved. */
static int bind_any_port(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die_errno("socket");

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die_errno("bind");

    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        die_errno("getsockname");
    *port = ntohs(sa.sin_port);
    return fd;
}

int main(int argc, char **argv)
{
    util_prog = "freeport";
    int n = parse_count(argc, argv);
    int fds[MAX_PORTS];

    for (int i = 0; i < n; i++) {
        unsigned port;
        fds[i] = bind_any_port(&port);
        printf("%u\n", port);
    }
    /* Report a failed write (e.g. a closed pipe) instead of exiting 0. */
    if (fflush(stdout) == EOF)
        die_errno("write");
    for (int i = 0; i < n; i++)
        if (close(fds[i]) < 0)
            die_errno("close");
    return 0;
}
