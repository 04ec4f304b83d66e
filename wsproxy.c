/*
 * wsproxy.c - command line, the accept loop, children and signals.
 *
 * The parent parses the configuration once, opens every listener, drops
 * privileges, and then only accepts and forks: each connection is served
 * by its own child (session.c), so a crash in one never touches another.
 * Signals arrive through a self-pipe that sits in the same poll() set as
 * the listeners, so no handler does real work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "cli.h"
#include "clisock.h"
#include "config.h"
#include "count.h"
#include "inetd.h"
#include "listener.h"
#include "log.h"
#include "logtarget.h"
#include "scoreboard.h"
#include "session.h"
#include "tcprules.h"
#include "track.h"
#include "keeper.h"
#include "version.h"

#define ACCEPT_BURST 16         /* connections accepted per poll wake-up */
#define EMFILE_PAUSE_MS 100     /* out of descriptors: stop accepting */
#define CHECKER_RESPAWN_MS 1000 /* a dying checker is re-forked this slowly */

struct child {
	pid_t pid;                  /* CHILD_KEPT: reaped, tunnel in a keeper */
	struct proxy *fe;           /* NULL once a reload removed it */
	struct sb_holder *holder;   /* what it holds in the scoreboard */
	int cli;                    /* a runtime socket's: no holder */
	int keeper_over;            /* its keeper ended (or lost) the tunnel
	                             * before the child was reaped */
};

/* A connection whose child handed its tunnel to a keeper and is gone:
 * it still counts, and its record is held, until the keeper says. */
#define CHILD_KEPT ((pid_t)-1)

/* The parent's state. */
struct server_state {
	struct config *cfg;
	unsigned cfg_swaps;         /* reloads that replaced (and freed) cfg */
	const char *cfg_file;
	int cfg_dir;                /* the file's directory, for reloads */
	char *cfg_name;
	struct child *children;     /* pid 0 = a free slot */
	int nslots, nchildren;      /* nchildren: connections' only */
	int ncli;                   /* runtime socket children */
	char *pidfile_name;         /* the file's name in its directory */
	int pidfile_dir;            /* its directory, opened before chroot */
	int stopping;               /* SIGUSR1: finish, accept nothing */
	pid_t checker_pid;          /* the health checker; 0: none */
	int64_t checker_started_ms;
};

static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_chld, got_term, got_usr1, got_hup;

static void
usage(FILE *out)
{
	fprintf(out, "usage: wsproxy [-dcvh] [-i [-F frontend]] "
	    "[-p pidfile] [-f file]\n");
}

/* ---- signals ---- */

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	(void)!write(signal_pipe[1], &c, 1);
	errno = saved;
}

static const int handled_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1,
    SIGHUP };

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(handled_signals) /
	    sizeof(handled_signals[0]); i++)
		if (sigaction(handled_signals[i], &sa, NULL) < 0)
			fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
}

/* A child starts with default dispositions (SIGPIPE stays ignored). */
static void
reset_signals_in_child(void)
{
	for (size_t i = 0; i < sizeof(handled_signals) /
	    sizeof(handled_signals[0]); i++)
		signal(handled_signals[i], SIG_DFL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
}

/* ---- start-up ---- */

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir /");
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		fatal("/dev/null");
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			fatal("dup2");
	if (fd > 2)
		close(fd);
	log_init(LOG_TO_TARGETS, 0);
}

/* Opens the directory of path (relative to start_dir); sets *name. */
static int
open_parent_dir(const char *path, const char *start_dir, char **name)
{
	char *abs, *slash;
	int fd;

	if (asprintf(&abs, "%s%s%s", path[0] == '/' ? "" : start_dir,
	    path[0] == '/' ? "" : "/", path) < 0)
		fatal("asprintf");
	slash = strrchr(abs, '/');
	*slash = '\0';
	*name = slash + 1;
	fd = open(slash == abs ? "/" : abs, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	return fd;
}

/*
 * Writes the pid file. Its directory is kept open so that the file can
 * be removed at exit even from inside a chroot; a relative name is taken
 * from the directory wsproxy was started in, not from "/" after daemon.
 */
static void
write_pidfile(struct server_state *st, const char *path, const char *start_dir)
{
	int fd;

	st->pidfile_dir = open_parent_dir(path, start_dir, &st->pidfile_name);
	if (st->pidfile_dir < 0)
		fatal("cannot open the directory of pid file %s", path);
	fd = openat(st->pidfile_dir, st->pidfile_name, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0 ||
	    close(fd) < 0)
		fatal("cannot write pid file %s", path);
}

static void
remove_pidfile(const struct server_state *st)
{
	if (st->pidfile_name == NULL)
		return;
	if (unlinkat(st->pidfile_dir, st->pidfile_name, 0) < 0)
		log_warn("cannot remove pid file %s", st->pidfile_name);
}

/* chroot, then groups, gid and uid: after binding, so :80 works as root. */
static const char *
drop_privileges(const struct config *cfg)
{
	if (cfg->chroot_dir != NULL &&
	    (chroot(cfg->chroot_dir) < 0 || chdir("/") < 0))
		return "chroot";
	/* Supplementary groups (root's) never survive a change of identity. */
	if ((cfg->gid != 0 || cfg->uid != 0) && setgroups(0, NULL) < 0)
		return "setgroups";
	if (cfg->gid != 0 && setgid(cfg->gid) < 0)
		return "setgid";
	if (cfg->uid != 0 && setuid(cfg->uid) < 0)
		return "setuid";
	return NULL;
}

/*
 * Descriptors: the parent holds its listeners, a few of its own and one
 * accepted socket at a time (closed right after the fork); a child holds
 * its client and server sockets. So maxconn costs processes, not
 * descriptors: what is needed is small, and raised to if the soft limit
 * is lower. Processes: RLIMIT_NPROC must let maxconn children live.
 */
#define PARENT_FDS_OWN 32       /* stdio, signal pipe, dirs, logs, margin */

static void
check_limits(const struct config *cfg)
{
	rlim_t need = (rlim_t)cfg->nlisteners + PARENT_FDS_OWN + ACCEPT_BURST;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fatal("getrlimit");
	if (rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
			fatalx("%d listeners need %lu descriptors, but the hard "
			    "limit (ulimit -Hn) is %lu: raise it, or bind "
			    "fewer addresses", cfg->nlisteners,
			    (unsigned long)need, (unsigned long)rl.rlim_max);
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			fatal("setrlimit RLIMIT_NOFILE %lu", (unsigned long)need);
	}
	if (geteuid() == 0 || getrlimit(RLIMIT_NPROC, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (rlim_t)cfg->maxconn)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > (rlim_t)cfg->maxconn + 1 ?
	    (rlim_t)cfg->maxconn + 1 : rl.rlim_max;
	if (setrlimit(RLIMIT_NPROC, &rl) < 0 ||
	    rl.rlim_cur <= (rlim_t)cfg->maxconn)
		log_warnx("maxconn %d: only %lu processes allowed (ulimit -u); "
		    "forks past it fail and their connections are closed",
		    cfg->maxconn, (unsigned long)rl.rlim_cur);
}

/* ---- children ---- */

/*
 * The parent's own tables (the children, the poll set) are written while
 * children run. A write to a private page after a fork copies it for the
 * parent and leaves the old copy to the children forked before, as a
 * page of their own: about 4 KiB for every connection, per table. A
 * MAP_SHARED page is one page for all of them, and children never touch
 * it. Returns zeroed memory holding old's first old_len bytes (old is
 * unmapped), or NULL with old untouched.
 */
static void *
parent_table(void *old, size_t old_len, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (old != NULL) {
		memcpy(p, old, old_len);
		(void)munmap(old, old_len);
	}
	return p;
}

/* Room in the child table for one more, before the fork: 0, or -1. */
static int
child_room(struct server_state *st)
{
	int nslots = st->nslots ? st->nslots * 2 : 64;
	struct child *grown;

	if (st->nchildren < st->nslots)
		return 0;
	grown = parent_table(st->children, (size_t)st->nslots *
	    sizeof(*grown), (size_t)nslots * sizeof(*grown));
	if (grown == NULL) {
		log_warn("child table: connection closed");
		return -1;
	}
	st->children = grown;
	st->nslots = nslots;
	return 0;
}

/* After child_room(): the table has a free slot. fe NULL: a runtime
 * socket's child, which counts in no connection count (as in 2.6's
 * CurrConns). */
static void
child_add(struct server_state *st, pid_t pid, struct proxy *fe,
    struct sb_holder *holder)
{
	for (int i = 0; i < st->nslots; i++) {
		if (st->children[i].pid == 0) {
			st->children[i] = (struct child){ pid, fe, holder,
			    fe == NULL, 0 };
			if (fe == NULL) {
				st->ncli++;
				return;
			}
			st->nchildren++;
			sb_add_process(1);
			sb_add_frontend(fe, 1);
			return;
		}
	}
}

/* The connection is over: what it held goes back to the scoreboard. */
static void
connection_over(struct server_state *st, struct child *c)
{
	c->pid = 0;
	st->nchildren--;
	sb_add_process(-1);
	if (c->fe != NULL)
		sb_add_frontend(c->fe, -1);
	sb_holder_release(c->holder);
	c->holder = NULL;
}

/* However the child ended, unless a keeper has its tunnel now. */
static void
child_gone(struct server_state *st, pid_t pid)
{
	for (int i = 0; i < st->nslots; i++) {
		struct child *c = &st->children[i];
		if (c->pid != pid)
			continue;
		if (c->cli) {
			c->pid = 0;
			st->ncli--;
			return;
		}
		if (sb_holder_keeper(c->holder) > 0 && !c->keeper_over) {
			c->pid = CHILD_KEPT;
			return;
		}
		connection_over(st, c);
		return;
	}
}

/* A keeper: the tunnel of record h ended. */
static void
tunnel_over(const struct sb_holder *h, void *arg)
{
	struct server_state *st = arg;

	for (int i = 0; i < st->nslots; i++) {
		struct child *c = &st->children[i];
		if (c->holder != h || c->pid == 0 || c->cli)
			continue;
		if (c->pid == CHILD_KEPT)
			connection_over(st, c);
		else
			c->keeper_over = 1;     /* not reaped yet */
		return;
	}
	log_warnx("tunnel keeper: an ended tunnel nobody holds");
}

/* Any child, first: the parent's signal handlers and the directories
 * it keeps open (pid file, configuration) are not the child's. The
 * sockets are closed by each kind of child as it needs. */
static void
child_drop_parent_files(const struct server_state *st)
{
	reset_signals_in_child();
	if (st->pidfile_name != NULL)
		close(st->pidfile_dir);
	if (st->cfg_dir >= 0)
		close(st->cfg_dir);
}

/* ---- the tunnel keepers (keeper.c) ---- */

static void
keeper_child_init(void *arg)
{
	struct server_state *st = arg;

	child_drop_parent_files(st);
	listeners_close(st->cfg);
	clisock_close_in_child(st->cfg);
}

/* A keeper died: its tunnels are lost, and what they held comes back. */
static void
keeper_gone(struct server_state *st, pid_t pid, int index, int status)
{
	int lost = 0;

	for (int i = 0; i < st->nslots; i++) {
		struct child *c = &st->children[i];
		if (c->pid == 0 || c->cli || c->keeper_over ||
		    sb_holder_keeper(c->holder) != pid)
			continue;
		lost++;
		if (c->pid == CHILD_KEPT)
			connection_over(st, c);
		else
			c->keeper_over = 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && lost == 0)
		return;         /* retired, its last tunnel ended */
	if (WIFSIGNALED(status))
		log_warnx("tunnel keeper %d (pid %ld) killed by signal %d: "
		    "%d tunnels lost%s", index, (long)pid, WTERMSIG(status),
		    lost, index >= 0 && !st->stopping ? "; restarting it" : "");
	else
		log_warnx("tunnel keeper %d (pid %ld) exited with status %d: "
		    "%d tunnels lost%s", index, (long)pid, WEXITSTATUS(status),
		    lost, index >= 0 && !st->stopping ? "; restarting it" : "");
	if (index >= 0 && !st->stopping)
		keepers_restart(index, keeper_child_init, st);
}

/* ---- the health checker (check.c): a child, but no connection ---- */

static void
checker_child_init(void *arg)
{
	struct server_state *st = arg;

	child_drop_parent_files(st);
	listeners_close(st->cfg);
	clisock_close_in_child(st->cfg);
	keepers_close_in_child();
}

/* respawn: after a crash, at most one fork per CHECKER_RESPAWN_MS. */
static void
checker_spawn(struct server_state *st, int respawn)
{
	int64_t now = now_ms(), since = now - st->checker_started_ms;
	int delay_ms = 0;

	if (respawn && since < CHECKER_RESPAWN_MS)
		delay_ms = (int)(CHECKER_RESPAWN_MS - since);
	st->checker_pid = checker_start(st->cfg, delay_ms, checker_child_init,
	    st);
	st->checker_started_ms = now + delay_ms;
}

static void
checker_gone(struct server_state *st, int status)
{
	st->checker_pid = 0;
	if (WIFSIGNALED(status))
		log_warnx("health checker killed by signal %d%s",
		    WTERMSIG(status), st->stopping ? "" : "; restarting it");
	else
		log_warnx("health checker exited with status %d%s",
		    WEXITSTATUS(status), st->stopping ? "" : "; restarting it");
	if (!st->stopping)
		checker_spawn(st, 1);
}

/* SIGCHLDs coalesce: reap every child that has exited. */
static void
reap_children(struct server_state *st)
{
	pid_t pid;
	int status, keeper;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == st->checker_pid) {
			checker_gone(st, status);
			continue;
		}
		if ((keeper = keepers_reaped(pid)) != -1) {
			keeper_gone(st, pid, keeper, status);
			continue;
		}
		child_gone(st, pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warnx("child %ld killed by signal %d", (long)pid,
			    WTERMSIG(status));
	}
	if (st->checker_pid < 0 && !st->stopping)
		checker_spawn(st, 1);   /* its fork failed: try again */
}

static void
kill_children(struct server_state *st)
{
	for (int i = 0; i < st->nslots; i++)
		if (st->children[i].pid > 0)
			(void)kill(st->children[i].pid, SIGTERM);
}

/* src: the client's address, as accept4() gave it. */
static void
serve_child(struct server_state *st, struct listener *l, int fd,
    const struct sockaddr_storage *src, struct sb_holder *holder,
    const struct track_ctx *trk)
{
	struct sockaddr_storage dst;
	socklen_t dlen = sizeof(dst);

	sb_holder_enter(holder);
	child_drop_parent_files(st);
	listeners_close_in_child(st->cfg);
	clisock_close_in_child(st->cfg);
	session_catch_shutdown();
	memset(&dst, 0, sizeof(dst));
	if (getsockname(fd, (struct sockaddr *)&dst, &dlen) < 0)
		dst.ss_family = AF_UNSPEC;
	session_serve(st->cfg, l->fe, fd, fd, src, &dst, l, trk);
	_exit(0);
}

/* ---- the accept loop ---- */

static int
may_accept(const struct server_state *st, const struct listener *l)
{
	return !st->stopping && st->nchildren < st->cfg->maxconn &&
	    sb_frontend_conns(l->fe) < l->fe->maxconn;
}

/* Accepts a burst; returns -1 if out of descriptors (pause a moment). */
static int
accept_burst(struct server_state *st, struct listener *l)
{
	for (int n = 0; n < ACCEPT_BURST && may_accept(st, l); n++) {
		struct sockaddr_storage src;
		socklen_t slen = sizeof(src);
		/* Non-blocking from the start, as the child wants it; the
		 * listener's TCP_NODELAY is inherited (net_listen). */
		int fd = accept4(l->fd, (struct sockaddr *)&src, &slen,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct sb_holder *holder;
		struct track_ctx trk;
		pid_t pid;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept");
				return -1;
			}
			return 0;       /* EAGAIN, or the client is gone */
		}
		count_conn(l->fe);
		/* tcp-request connection: a rejected client costs no fork */
		if (!tcprules_accept(l->fe, fd, &trk)) {
			count_conn_denied(l->fe);
			continue;
		}
		/* Everything the child will be known by, before it exists:
		 * a child the parent could not account for is not forked. */
		if (child_room(st) < 0 ||
		    (holder = sb_holder_claim()) == NULL) {
			track_release_all(&trk);
			close(fd);      /* logged */
			continue;
		}
		/* its stick-table trackers end when it is reaped */
		track_hold(&trk, holder);
		pid = fork();
		if (pid == 0)
			serve_child(st, l, fd, &src, holder, &trk);
		if (pid < 0) {
			log_warn("fork: connection closed");
			sb_holder_release(holder);
		} else {
			sb_holder_set_pid(holder, pid);
			child_add(st, pid, l->fe, holder);
		}
		close(fd);
	}
	return 0;
}

/* ---- the runtime sockets (cli.c): a child per connection ---- */

static void __attribute__((noreturn))
serve_cli(struct server_state *st, const struct stats_socket *ss, int fd)
{
	struct stats_socket mine = *ss;

	child_drop_parent_files(st);
	listeners_close_in_child(st->cfg);
	clisock_close_in_child(st->cfg);
	keepers_close_in_child();
	cli_serve(st->cfg, &mine, fd);
}

static int
may_accept_cli(const struct server_state *st)
{
	return !st->stopping && st->ncli < st->cfg->stats_maxconn;
}

/* One connection at a time: the socket's clients are few. */
static void
accept_cli(struct server_state *st, struct stats_socket *ss)
{
	int fd = accept4(ss->fd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("stats socket %s: accept", ss->path);
		return;
	}
	if (child_room(st) < 0) {
		close(fd);      /* logged */
		return;
	}
	pid = fork();
	if (pid == 0)
		serve_cli(st, ss, fd);
	if (pid < 0)
		log_warn("fork: stats socket connection closed");
	else
		child_add(st, pid, NULL, NULL);
	close(fd);
}

/* ---- reload ---- */

static struct config *
reread_config(struct server_state *st)
{
	int fd = st->cfg_dir >= 0 ? openat(st->cfg_dir, st->cfg_name,
	    O_RDONLY | O_CLOEXEC) : open(st->cfg_file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("reload: cannot open %s", st->cfg_file);
		return NULL;
	}
	return config_load_fd(fd, st->cfg_file);
}

/*
 * SIGHUP: a valid new configuration takes over; unchanged listeners are
 * kept open (no connection is refused meanwhile), new ones are bound and
 * vanished ones closed. Children keep the configuration they were forked
 * with (their own copy). An invalid file, or an address that cannot be
 * bound, changes nothing. The configuration that is not kept is freed:
 * after a swap, nothing in the parent points into the old one any more
 * (listeners closed or handed over, the child table and the log targets
 * moved to the new one, the health checker replaced).
 */
static void
reload(struct server_state *st)
{
	struct config *old = st->cfg, *cfg;

	log_notice("reloading %s", st->cfg_file);
	if ((cfg = reread_config(st)) == NULL) {
		log_warnx("reload: %s is invalid; still running the previous "
		    "configuration", st->cfg_file);
		return;
	}
	if (cfg->nlisteners == 0) {
		log_warnx("reload: %s has no listener; still running the "
		    "previous configuration", st->cfg_file);
		config_free(cfg);
		return;
	}
	/* tables whose definition did not change keep their entries */
	if (track_tables_map(cfg, old) < 0 || scoreboard_init(cfg) < 0) {
		log_warnx("reload: still running the previous configuration");
		config_free(cfg);
		return;
	}
	if (clisock_open(cfg, old) < 0) {
		scoreboard_undo(cfg);
		log_warnx("reload: still running the previous configuration");
		config_free(cfg);
		return;
	}
	if (listeners_open(cfg, old) < 0) {
		/* The running configuration's scoreboard, and its checker,
		 * go on as they were: the new one numbered cfg's proxies. */
		clisock_abort(cfg);
		scoreboard_undo(cfg);
		log_warnx("reload: still running the previous configuration");
		config_free(cfg);
		return;
	}
	listeners_close(old);
	clisock_commit(cfg, old);
	sb_set_process(st->nchildren);
	for (int i = 0; i < st->nslots; i++) {
		struct child *c = &st->children[i];
		if (c->pid == 0 || c->fe == NULL)
			continue;
		c->fe = config_find_frontend(cfg, c->fe->name);
		if (c->fe != NULL)
			sb_add_frontend(c->fe, 1);
	}
	logtarget_open_config(cfg);
	st->cfg = cfg;
	st->cfg_swaps++;
	config_free(old);
	if (st->checker_pid > 0)
		(void)kill(st->checker_pid, SIGTERM);
	checker_spawn(st, 0);   /* the new scoreboard starts all UP */
	/* new tunnels go to keepers of cfg; the old ones finish theirs */
	keepers_start(cfg, keeper_child_init, st);
	log_notice("reloaded %s: %d listeners, %d connections carry on",
	    st->cfg_file, cfg->nlisteners, st->nchildren);
}

static void
stop(struct server_state *st, int code)
{
	listeners_close(st->cfg);
	clisock_remove_all(st->cfg);
	kill_children(st);
	keepers_kill();
	if (st->checker_pid > 0)
		(void)kill(st->checker_pid, SIGTERM);
	remove_pidfile(st);
	log_notice("stopped");
	exit(code);
}

static void
handle_signals(struct server_state *st)
{
	char drain[64];

	while (read(signal_pipe[0], drain, sizeof(drain)) > 0)
		;
	if (got_chld) {
		got_chld = 0;
		reap_children(st);
	}
	if (got_usr1) {
		got_usr1 = 0;
		log_notice("soft stop: listeners closed, %d connections left",
		    st->nchildren);
		st->stopping = 1;
		listeners_close(st->cfg);
	}
	if (got_hup) {
		got_hup = 0;
		if (!st->stopping)
			reload(st);
	}
}

/* owner[] of the keepers' pipe in the poll set */
#define OWNER_KEEPERS INT_MIN

/* The poll set: the signal pipe, the keepers' pipe, the listeners, the
 * runtime sockets. */
static int
poll_room(const struct config *cfg)
{
	return 2 + cfg->nlisteners + cfg->nstats_sockets;
}

static void
accept_loop(struct server_state *st)
{
	int room = poll_room(st->cfg), pause_ms = -1;
	struct pollfd *pfd = parent_table(NULL, 0, (size_t)room * sizeof(*pfd));
	int *owner = parent_table(NULL, 0, (size_t)room * sizeof(*owner));

	/* owner: listener #, or -1 - runtime socket # */
	if (pfd == NULL || owner == NULL)
		fatal("poll set");
	for (;;) {
		struct config *cfg = st->cfg;
		unsigned swaps = st->cfg_swaps;
		int n = 1;

		if (room < poll_room(cfg)) {
			/* a reload added listeners */
			size_t old_room = (size_t)room;
			room = poll_room(cfg);
			pfd = parent_table(pfd, old_room * sizeof(*pfd),
			    (size_t)room * sizeof(*pfd));
			owner = parent_table(owner, old_room * sizeof(*owner),
			    (size_t)room * sizeof(*owner));
			if (pfd == NULL || owner == NULL)
				fatal("poll set");
		}
		pfd[0] = (struct pollfd){ signal_pipe[0], POLLIN, 0 };
		/* ended tunnels first: they free the slots accepting needs */
		if (keepers_done_fd() >= 0) {
			pfd[n] = (struct pollfd){ keepers_done_fd(), POLLIN, 0 };
			owner[n++] = OWNER_KEEPERS;
		}
		for (int i = 0; i < cfg->nlisteners && pause_ms < 0; i++) {
			struct listener *l = &cfg->listeners[i];
			/* At a limit, leave the listener out of the poll set:
			 * connections wait in the backlog, none is dropped. */
			if (l->fd < 0 || !may_accept(st, l))
				continue;
			pfd[n] = (struct pollfd){ l->fd, POLLIN, 0 };
			owner[n++] = i;
		}
		for (int i = 0; i < cfg->nstats_sockets && may_accept_cli(st);
		    i++) {
			if (cfg->stats_sockets[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){ cfg->stats_sockets[i].fd,
			    POLLIN, 0 };
			owner[n++] = -1 - i;
		}
		if (poll(pfd, (nfds_t)n, pause_ms) < 0 && errno != EINTR)
			fatal("poll");
		pause_ms = -1;
		handle_signals(st);
		if (n > 1 && owner[1] == OWNER_KEEPERS &&
		    (pfd[1].revents & POLLIN))
			keepers_read_done(tunnel_over, st);
		if (got_term)
			stop(st, 0);
		if (st->stopping && st->nchildren == 0)
			stop(st, 0);
		if (swaps != st->cfg_swaps)
			continue;       /* reloaded: cfg is freed, the poll
					 * set stale */
		for (int i = 1; i < n; i++) {
			struct listener *l;
			if (owner[i] == OWNER_KEEPERS)
				continue;
			if (owner[i] < 0) {
				if (pfd[i].revents & POLLIN)
					accept_cli(st,
					    &cfg->stats_sockets[-1 - owner[i]]);
				continue;
			}
			l = &cfg->listeners[owner[i]];
			if ((pfd[i].revents & POLLIN) && l->fd >= 0 &&
			    accept_burst(st, l) < 0)
				pause_ms = EMFILE_PAUSE_MS;
		}
	}
}

/* ---- main ---- */

static void
start(struct config *cfg, const char *file, const char *pidfile,
    int foreground)
{
	struct server_state st;
	char start_dir[4096] = "/";
	const char *failed;

	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	st.cfg_file = file;
	st.pidfile_dir = -1;
	if (pidfile == NULL)
		pidfile = cfg->pidfile;
	/* Relative names are relative to where we were started. */
	if (((pidfile && pidfile[0] != '/') || *file != '/') &&
	    getcwd(start_dir, sizeof(start_dir)) == NULL)
		fatal("getcwd");
	/* The config's directory stays reachable for reloads, chroot or not. */
	st.cfg_dir = open_parent_dir(file, start_dir, &st.cfg_name);
	check_limits(cfg);
	listeners_take_systemd();
	setup_signals();
	if (listeners_open(cfg, NULL) < 0)
		exit(EXIT_SYSTEM);
	listeners_drop_unclaimed();
	/* before the privileges go: owner and mode as asked */
	if (clisock_open(cfg, NULL) < 0)
		exit(EXIT_SYSTEM);
	logtarget_open_config(cfg);
	if (track_tables_map(cfg, NULL) < 0 || scoreboard_init(cfg) < 0)
		exit(EXIT_SYSTEM);
	tzset();        /* the local time zone, read before any chroot */
	if (cfg->daemon && !foreground)
		daemonize();
	if (pidfile != NULL)
		write_pidfile(&st, pidfile, start_dir);
	if ((failed = drop_privileges(cfg)) != NULL) {
		log_warn("cannot drop privileges (%s)", failed);
		clisock_remove_all(cfg);
		remove_pidfile(&st);
		exit(EXIT_SYSTEM);
	}
	checker_spawn(&st, 0);
	keepers_start(cfg, keeper_child_init, &st);
	log_notice("wsproxy %s started: %d listeners", WSPROXY_VERSION,
	    cfg->nlisteners);
	accept_loop(&st);
}

int
main(int argc, char **argv)
{
	const char *file = "wsproxy.conf", *fe_name = NULL, *pidfile = NULL;
	int check = 0, foreground = 0, inetd = 0, ch;
	struct config *cfg;

	while ((ch = getopt(argc, argv, "cdf:F:hip:v")) != -1) {
		switch (ch) {
		case 'c': check = 1; break;
		case 'd': foreground = 1; break;
		case 'f': file = optarg; break;
		case 'F': fe_name = optarg; break;
		case 'i': inetd = 1; break;
		case 'p': pidfile = optarg; break;
		case 'v':
			printf("wsproxy version %s\n", WSPROXY_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (fe_name != NULL && !inetd) || file == NULL ||
	    *file == '\0') {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* In inetd mode fd 2 may be the client: never write there. */
	log_init(inetd && !check ? LOG_TO_INETD : LOG_TO_STDERR, foreground);
	cfg = config_load(file);
	if (cfg == NULL)
		return EXIT_CONFIG;
	if (inetd) {
		/* -i: the refusal goes to the log targets or syslog */
		if (!check)
			logtarget_open_config(cfg);
		if (config_check_inetd(cfg) > 0)
			return EXIT_CONFIG;
	}
	if (check) {
		printf("Configuration file is valid\n");
		config_free(cfg);
		return 0;
	}
	if (inetd)
		inetd_serve(cfg, fe_name);
	if (cfg->nlisteners == 0) {
		log_warnx("%s: no listener configured (no 'bind'): nothing to "
		    "serve but in inetd mode (-i)", file);
		return EXIT_CONFIG;
	}
	start(cfg, file, pidfile, foreground);
	return 0;
}
