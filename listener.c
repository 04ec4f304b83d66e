/*
 * listener.c - listening sockets.
 *
 * On a reload the new configuration takes over every socket whose
 * address is unchanged, so that no connection is refused while it
 * happens; only new addresses are bound and only vanished ones closed.
 * Under systemd socket activation the sockets come ready-made in fds
 * 3 .. 3+LISTEN_FDS-1 and are matched to "bind" lines by address.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "net.h"

#define SD_LISTEN_FDS_START 3

static struct {
	int fd;
	struct net_addr addr;
} *sd_sockets;
static int nsd_sockets;

void
listeners_take_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;

	if (pid == NULL || fds == NULL ||
	    strtol(pid, NULL, 10) != (long)getpid())
		return;
	n = strtol(fds, NULL, 10);
	/* They are ours alone: our children must not see them. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n <= 0 || n > 1024)
		return;
	sd_sockets = calloc((size_t)n, sizeof(*sd_sockets));
	if (sd_sockets == NULL)
		fatal("calloc");
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n;
	    fd++) {
		struct net_addr a;
		a.len = sizeof(a.ss);
		if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) < 0) {
			log_warn("LISTEN_FDS: fd %d", fd);
			continue;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
		    net_set_nonblock(fd) < 0)
			fatal("LISTEN_FDS: fd %d", fd);
		/* as net_listen's: accepted sockets inherit it */
		net_set_nodelay(fd);
		sd_sockets[nsd_sockets].fd = fd;
		sd_sockets[nsd_sockets++].addr = a;
	}
}

static int
same_address(const struct net_addr *a, const struct net_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family ||
	    net_port(&a->ss) != net_port(&b->ss))
		return 0;
	if (a->ss.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
		    &((const struct sockaddr_in *)&b->ss)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
	    &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16) == 0;
}

static int
take_systemd(const struct net_addr *addr)
{
	for (int i = 0; i < nsd_sockets; i++) {
		if (sd_sockets[i].fd >= 0 &&
		    same_address(&sd_sockets[i].addr, addr)) {
			int fd = sd_sockets[i].fd;
			sd_sockets[i].fd = -1;
			return fd;
		}
	}
	return -1;
}

static int
take_old(struct config *old, const struct net_addr *addr)
{
	for (int i = 0; old != NULL && i < old->nlisteners; i++) {
		struct listener *l = &old->listeners[i];
		if (l->fd >= 0 && same_address(&l->addr, addr)) {
			int fd = l->fd;
			l->fd = -1;
			return fd;
		}
	}
	return -1;
}

/* Puts back what a failed listeners_open() took from old. */
static void
give_back(struct config *cfg, struct config *old)
{
	for (int i = 0; i < cfg->nlisteners; i++) {
		struct listener *l = &cfg->listeners[i];
		int given = 0;
		for (int j = 0; old != NULL && j < old->nlisteners; j++) {
			struct listener *o = &old->listeners[j];
			if (!given && o->fd < 0 && l->fd >= 0 &&
			    l->taken && same_address(&o->addr, &l->addr)) {
				o->fd = l->fd;
				given = 1;
			}
		}
		if (!given && l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}

int
listeners_open(struct config *cfg, struct config *old)
{
	char where[128];

	for (int i = 0; i < cfg->nlisteners; i++) {
		struct listener *l = &cfg->listeners[i];
		int backlog = l->backlog ? l->backlog : l->fe->maxconn;

		net_addr_str(&l->addr, where, sizeof(where));
		l->taken = 0;
		if ((l->fd = take_old(old, &l->addr)) >= 0) {
			l->taken = 1;
			continue;
		}
		if ((l->fd = take_systemd(&l->addr)) < 0)
			l->fd = net_listen(&l->addr, backlog);
		if (l->fd < 0) {
			log_warn("%s:%d: cannot bind %s for %s '%s'", cfg->file,
			    l->line, where, l->fe->kind, l->fe->name);
			give_back(cfg, old);
			return -1;
		}
		log_info("listening on %s (%s '%s')", where, l->fe->kind,
		    l->fe->name);
	}
	return 0;
}

void
listeners_close(struct config *cfg)
{
	for (int i = 0; i < cfg->nlisteners; i++) {
		if (cfg->listeners[i].fd >= 0)
			close(cfg->listeners[i].fd);
		cfg->listeners[i].fd = -1;
	}
}

void
listeners_close_in_child(const struct config *cfg)
{
	for (int i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].fd >= 0)
			close(cfg->listeners[i].fd);
}

void
listeners_drop_unclaimed(void)
{
	char where[128];

	for (int i = 0; i < nsd_sockets; i++) {
		if (sd_sockets[i].fd < 0)
			continue;
		net_addr_str(&sd_sockets[i].addr, where, sizeof(where));
		log_warnx("LISTEN_FDS: no 'bind' for %s (fd %d); closed",
		    where, sd_sockets[i].fd);
		close(sd_sockets[i].fd);
		sd_sockets[i].fd = -1;
	}
}
