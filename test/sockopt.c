/*
 * sockopt - how another process's TCP sockets are set up, seen from
 * outside: for each socket of PID whose local port is PORT, one line
 *
 *     fd=N nodelay=0|1 nonblock=0|1
 *
 * The socket is borrowed with pidfd_getfd(2) (Linux 5.6; the caller
 * needs the right to ptrace PID): the copy shares the socket and its
 * open file description, so TCP_NODELAY and O_NONBLOCK read from it are
 * PID's own.
 *
 * Usage: sockopt PID PORT
 * Exit status: 0 at least one line printed, 1 none or a system error,
 * 64 usage error, 77 PID's descriptors cannot be borrowed here (no
 * pidfd_getfd, or no right to ptrace PID): a test should skip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static long parse_number(const char *s, long max)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || *end || end == s || n < 1 || n > max) {
        fprintf(stderr, "usage: sockopt PID PORT\n");
        exit(64);
    }
    return n;
}

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

static int cannot_borrow;      /* pidfd_getfd: ENOSYS or EPERM */

/* Prints the line for PID's fd if it is a TCP socket on port. */
static int report(int pidfd, int target_fd, int port)
{
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
    int nodelay = 0, flags, shown = 0;
    socklen_t len = sizeof nodelay;

    if (fd < 0) {
        if (errno == ENOSYS || errno == EPERM)
            cannot_borrow = 1;
        return 0;       /* else gone meanwhile */
    }
    if (local_port(fd) == port &&
        getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0 &&
        (flags = fcntl(fd, F_GETFL)) >= 0) {
        printf("fd=%d nodelay=%d nonblock=%d\n", target_fd, nodelay != 0,
               (flags & O_NONBLOCK) != 0);
        shown = 1;
    }
    close(fd);
    return shown;
}

int main(int argc, char **argv)
{
    util_prog = "sockopt";
    if (argc != 3) {
        fprintf(stderr, "usage: sockopt PID PORT\n");
        return 64;
    }
    long pid = parse_number(argv[1], 1L << 22);
    int port = (int)parse_number(argv[2], 65535);
    char dir_name[64];
    snprintf(dir_name, sizeof dir_name, "/proc/%ld/fd", pid);

    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0 && errno == ENOSYS)
        fail(77, "pidfd_open: not on this kernel");
    if (pidfd < 0)
        die_errno("pidfd_open");
    DIR *dir = opendir(dir_name);
    if (dir == NULL)
        die_errno(dir_name);
    int shown = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        shown += report(pidfd, atoi(e->d_name), port);
    }
    closedir(dir);
    if (shown == 0 && cannot_borrow)
        fail(77, "pidfd_getfd: cannot borrow the descriptors of %ld", pid);
    return shown > 0 ? 0 : 1;
}
