/*
 * clisock.c - the runtime sockets' files ("stats socket" in global):
 * made by the parent before it drops privileges, with the owner and mode
 * asked for, handed from one configuration to the next on a reload, and
 * removed when the parent stops. Serving them is cli.c's, in a child per
 * connection.
 *
 * A socket is bound under a temporary name, given its owner and mode,
 * then renamed over PATH, as HAProxy does: a client never finds it with
 * the wrong permissions, and a file left by a dead process is replaced.
 * The directory stays open so that the file can be removed from inside
 * a chroot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clisock.h"
#include "log.h"

#define CLI_BACKLOG 64

/* The directory of path, opened; *base points into path. */
static int
open_dir(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		*base = path;
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	*base = slash + 1;
	dir = slash == path ? strdup("/") : strndup(path,
	    (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

static int
bind_tmp(int fd, const char *tmp)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", tmp);
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -1;
	return bind(fd, (struct sockaddr *)&sun, sizeof(sun));
}

/* Creates ss's socket at its path; 0, or -1 (logged). */
static int
sock_create(struct stats_socket *ss)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *base, *step = "socket";
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", ss->path, (long)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	step = "bind";
	if (bind_tmp(fd, tmp) < 0)
		goto fail;
	step = "chmod";
	if (ss->mode >= 0 && chmod(tmp, (mode_t)ss->mode) < 0)
		goto fail_unlink;
	step = "chown";
	if ((ss->uid != (uid_t)-1 || ss->gid != (gid_t)-1) &&
	    chown(tmp, ss->uid, ss->gid) < 0)
		goto fail_unlink;
	step = "listen";
	if (listen(fd, CLI_BACKLOG) < 0)
		goto fail_unlink;
	step = "rename";
	if (rename(tmp, ss->path) < 0)
		goto fail_unlink;
	ss->dir_fd = open_dir(ss->path, &base);
	if (ss->dir_fd < 0)
		log_warn("stats socket %s: its directory (it will not be "
		    "removed at exit)", ss->path);
	ss->fd = fd;
	return 0;
fail_unlink:
	(void)unlink(tmp);
fail:
	log_warn("stats socket %s (line %d): %s", ss->path, ss->line, step);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Closes ss's socket and removes its file. */
static void
sock_remove(struct stats_socket *ss)
{
	const char *base = strrchr(ss->path, '/');

	base = base ? base + 1 : ss->path;
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	if (ss->dir_fd < 0)
		return;
	if (unlinkat(ss->dir_fd, base, 0) < 0 && errno != ENOENT)
		log_warn("cannot remove stats socket %s", ss->path);
	close(ss->dir_fd);
	ss->dir_fd = -1;
}

static struct stats_socket *
find_path(struct config *cfg, const char *path)
{
	if (cfg == NULL)
		return NULL;
	for (int i = 0; i < cfg->nstats_sockets; i++)
		if (strcmp(cfg->stats_sockets[i].path, path) == 0)
			return &cfg->stats_sockets[i];
	return NULL;
}

int
clisock_open(struct config *cfg, struct config *old)
{
	for (int i = 0; i < cfg->nstats_sockets; i++) {
		struct stats_socket *ss = &cfg->stats_sockets[i];
		struct stats_socket *was = find_path(old, ss->path);
		if (was != NULL && was->fd >= 0)
			continue;       /* clisock_commit hands it over */
		if (sock_create(ss) < 0) {
			clisock_abort(cfg);
			return -1;
		}
	}
	return 0;
}

void
clisock_abort(struct config *cfg)
{
	for (int i = 0; i < cfg->nstats_sockets; i++)
		if (cfg->stats_sockets[i].fd >= 0)
			sock_remove(&cfg->stats_sockets[i]);
}

void
clisock_commit(struct config *cfg, struct config *old)
{
	for (int i = 0; i < old->nstats_sockets; i++) {
		struct stats_socket *was = &old->stats_sockets[i];
		struct stats_socket *ss = find_path(cfg, was->path);
		if (was->fd < 0)
			continue;
		if (ss == NULL || ss->fd >= 0) {
			sock_remove(was);
			continue;
		}
		/* same path: the socket goes on; its new owner and mode
		 * would need the privileges given up at start */
		if (ss->mode != was->mode || ss->uid != was->uid ||
		    ss->gid != was->gid)
			log_warnx("reload: stats socket %s keeps its owner and "
			    "mode; restart to change them", ss->path);
		ss->fd = was->fd;
		ss->dir_fd = was->dir_fd;
		was->fd = was->dir_fd = -1;
	}
}

void
clisock_remove_all(struct config *cfg)
{
	for (int i = 0; i < cfg->nstats_sockets; i++)
		sock_remove(&cfg->stats_sockets[i]);
}

void
clisock_close_in_child(struct config *cfg)
{
	for (int i = 0; i < cfg->nstats_sockets; i++) {
		struct stats_socket *ss = &cfg->stats_sockets[i];
		if (ss->fd >= 0)
			close(ss->fd);
		if (ss->dir_fd >= 0)
			close(ss->dir_fd);
		ss->fd = ss->dir_fd = -1;
	}
}
