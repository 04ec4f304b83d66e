/*
 * wsproxy.c - command line, listeners, the accept loop and signals.
 *
 * The parent parses the configuration once, binds every listener, drops
 * privileges, and then only accepts and forks: each connection is served
 * by its own child (session.c), so a crash in one never touches another.
 * Signals arrive through a self-pipe that sits in the same poll() set as
 * the listeners, so no handler does real work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "net.h"
#include "session.h"

#define WSPROXY_VERSION "0.1.0"
#define ACCEPT_BURST 16         /* connections accepted per poll wake-up */
#define EMFILE_PAUSE_MS 100     /* out of descriptors: stop accepting */

struct child {
	pid_t pid;
	struct proxy *fe;
};

/* The parent's state. */
struct server_state {
	struct config *cfg;
	struct child *children;     /* cfg->maxconn slots, pid 0 = free */
	int nchildren;
	struct proxy **fe_of_count; /* frontends, to count their children */
	int *fe_live;
	int nfe;
	char *pidfile_name;         /* the file's name in its directory */
	int pidfile_dir;            /* its directory, opened before chroot */
	int stopping;               /* SIGUSR1: finish, accept nothing */
};

static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_chld, got_term, got_usr1, got_hup;

static void
usage(FILE *out)
{
	fprintf(out, "usage: wsproxy [-dcvh] [-i [-F frontend]] "
	    "[-p pidfile] [-f file]\n");
}

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
	(void)write(signal_pipe[1], &c, 1);
	errno = saved;
}

static void
setup_signals(void)
{
	struct sigaction sa;
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGHUP };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
}

/* A child starts with default dispositions (SIGPIPE stays ignored). */
static void
reset_signals_in_child(void)
{
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGHUP };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
}

/* ---- start-up ---- */

static void
bind_listeners(struct config *cfg)
{
	char where[128];

	for (int i = 0; i < cfg->nlisteners; i++) {
		struct listener *l = &cfg->listeners[i];
		int backlog = l->backlog ? l->backlog : l->fe->maxconn;
		net_addr_str(&l->addr, where, sizeof(where));
		l->fd = net_listen(&l->addr, backlog);
		if (l->fd < 0)
			fatal("%s:%d: cannot bind %s for %s '%s'", cfg->file,
			    l->line, where, l->fe->kind, l->fe->name);
		log_info("listening on %s (%s '%s')", where, l->fe->kind,
		    l->fe->name);
	}
}

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
	log_init(LOG_TO_SYSLOG);
}

/*
 * Writes the pid file. Its directory is kept open so that the file can
 * be removed at exit even from inside a chroot; a relative name is taken
 * from the directory wsproxy was started in, not from "/" after daemon.
 */
static void
write_pidfile(struct server_state *st, const char *path, const char *start_dir)
{
	char *abs, *slash;
	int fd;

	if (asprintf(&abs, "%s%s%s", path[0] == '/' ? "" : start_dir,
	    path[0] == '/' ? "" : "/", path) < 0)
		fatal("asprintf");
	slash = strrchr(abs, '/');
	*slash = '\0';
	st->pidfile_name = slash + 1;
	st->pidfile_dir = open(slash == abs ? "/" : abs,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
static void
drop_privileges(const struct config *cfg)
{
	if (cfg->chroot_dir != NULL) {
		if (chroot(cfg->chroot_dir) < 0 || chdir("/") < 0)
			fatal("cannot chroot(%s)", cfg->chroot_dir);
	}
	/* Supplementary groups (root's) never survive a change of identity. */
	if ((cfg->gid != 0 || cfg->uid != 0) && setgroups(0, NULL) < 0)
		fatal("cannot drop supplementary groups");
	if (cfg->gid != 0 && setgid(cfg->gid) < 0)
		fatal("cannot set gid %ld", (long)cfg->gid);
	if (cfg->uid != 0 && setuid(cfg->uid) < 0)
		fatal("cannot set uid %ld", (long)cfg->uid);
}

/* ---- children ---- */

static int
fe_index(const struct server_state *st, const struct proxy *fe)
{
	for (int i = 0; i < st->nfe; i++)
		if (st->fe_of_count[i] == fe)
			return i;
	return 0;
}

static void
child_add(struct server_state *st, pid_t pid, struct proxy *fe)
{
	for (int i = 0; i < st->cfg->maxconn; i++) {
		if (st->children[i].pid == 0) {
			st->children[i].pid = pid;
			st->children[i].fe = fe;
			st->nchildren++;
			st->fe_live[fe_index(st, fe)]++;
			return;
		}
	}
}

/* SIGCHLDs coalesce: reap every child that has exited. */
static void
reap_children(struct server_state *st)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < st->cfg->maxconn; i++) {
			if (st->children[i].pid != pid)
				continue;
			st->children[i].pid = 0;
			st->nchildren--;
			st->fe_live[fe_index(st, st->children[i].fe)]--;
			break;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warnx("child %ld killed by signal %d", (long)pid,
			    WTERMSIG(status));
	}
}

static void
kill_children(struct server_state *st)
{
	for (int i = 0; i < st->cfg->maxconn; i++)
		if (st->children[i].pid > 0)
			(void)kill(st->children[i].pid, SIGTERM);
}

static void
serve_child(struct server_state *st, struct listener *l, int fd)
{
	struct sockaddr_storage src, dst;
	socklen_t slen = sizeof(src), dlen = sizeof(dst);

	reset_signals_in_child();
	if (st->pidfile_name != NULL)
		close(st->pidfile_dir);
	for (int i = 0; i < st->cfg->nlisteners; i++)
		if (st->cfg->listeners[i].fd >= 0)
			close(st->cfg->listeners[i].fd);
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	if (getpeername(fd, (struct sockaddr *)&src, &slen) < 0)
		src.ss_family = AF_UNSPEC;
	if (getsockname(fd, (struct sockaddr *)&dst, &dlen) < 0)
		dst.ss_family = AF_UNSPEC;
	session_serve(st->cfg, l->fe, fd, fd, &src, &dst);
	_exit(0);
}

/* ---- the accept loop ---- */

static int
may_accept(const struct server_state *st, const struct listener *l)
{
	return !st->stopping && st->nchildren < st->cfg->maxconn &&
	    st->fe_live[fe_index(st, l->fe)] < l->fe->maxconn;
}

/* Accepts a burst; returns -1 if out of descriptors (pause a moment). */
static int
accept_burst(struct server_state *st, struct listener *l)
{
	for (int n = 0; n < ACCEPT_BURST && may_accept(st, l); n++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept");
				return -1;
			}
			return 0;       /* EAGAIN, or the client is gone */
		}
		pid = fork();
		if (pid == 0)
			serve_child(st, l, fd);
		if (pid < 0)
			log_warn("fork: connection closed");
		else
			child_add(st, pid, l->fe);
		close(fd);
	}
	return 0;
}

static void
close_listeners(struct config *cfg)
{
	for (int i = 0; i < cfg->nlisteners; i++) {
		if (cfg->listeners[i].fd >= 0)
			close(cfg->listeners[i].fd);
		cfg->listeners[i].fd = -1;
	}
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
		log_info("soft stop: closing listeners, %d connections left",
		    st->nchildren);
		st->stopping = 1;
		close_listeners(st->cfg);
	}
	if (got_hup) {
		got_hup = 0;
		log_warnx("SIGHUP: reload is not implemented yet; ignored");
	}
}

static void
stop(struct server_state *st, int code)
{
	close_listeners(st->cfg);
	kill_children(st);
	remove_pidfile(st);
	log_info("stopped");
	exit(code);
}

static void
accept_loop(struct server_state *st)
{
	struct config *cfg = st->cfg;
	struct pollfd *pfd = calloc((size_t)cfg->nlisteners + 1, sizeof(*pfd));
	struct listener **owner = calloc((size_t)cfg->nlisteners + 1,
	    sizeof(*owner));
	int pause_ms = -1;

	if (pfd == NULL || owner == NULL)
		fatal("calloc");
	for (;;) {
		int n = 1;

		pfd[0] = (struct pollfd){ signal_pipe[0], POLLIN, 0 };
		for (int i = 0; i < cfg->nlisteners && pause_ms < 0; i++) {
			struct listener *l = &cfg->listeners[i];
			/* At a limit, leave the listener out of the poll set:
			 * connections wait in the backlog, none is dropped. */
			if (l->fd < 0 || !may_accept(st, l))
				continue;
			pfd[n] = (struct pollfd){ l->fd, POLLIN, 0 };
			owner[n++] = l;
		}
		if (poll(pfd, (nfds_t)n, pause_ms) < 0 && errno != EINTR)
			fatal("poll");
		pause_ms = -1;
		handle_signals(st);
		if (got_term)
			stop(st, 0);
		if (st->stopping && st->nchildren == 0)
			stop(st, 0);
		for (int i = 1; i < n; i++)
			if ((pfd[i].revents & POLLIN) && owner[i]->fd >= 0 &&
			    accept_burst(st, owner[i]) < 0)
				pause_ms = EMFILE_PAUSE_MS;
	}
}

static void
state_init(struct server_state *st, struct config *cfg)
{
	memset(st, 0, sizeof(*st));
	st->cfg = cfg;
	st->children = calloc((size_t)cfg->maxconn, sizeof(*st->children));
	for (struct proxy *px = cfg->proxies; px; px = px->next)
		st->nfe++;
	st->fe_of_count = calloc((size_t)st->nfe + 1, sizeof(struct proxy *));
	st->fe_live = calloc((size_t)st->nfe + 1, sizeof(int));
	if (st->children == NULL || st->fe_of_count == NULL ||
	    st->fe_live == NULL)
		fatal("calloc");
	st->nfe = 0;
	for (struct proxy *px = cfg->proxies; px; px = px->next)
		st->fe_of_count[st->nfe++] = px;
}

/* ---- inetd mode ---- */

static void
serve_inetd(struct config *cfg, const char *fe_name)
{
	struct proxy *fe = NULL;
	struct sockaddr_storage src, dst;
	socklen_t slen = sizeof(src), dlen = sizeof(dst);

	if (fe_name != NULL)
		fe = config_find_frontend(cfg, fe_name);
	else
		for (fe = cfg->proxies; fe && !(fe->cap & CAP_FE); fe = fe->next)
			;
	if (fe == NULL) {
		log_warnx("-i: no frontend%s%s", fe_name ? " named " : "",
		    fe_name ? fe_name : "");
		exit(EXIT_CONFIG);
	}
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	/* fd 0 may be a socket (inetd) or a pipe (a wrapper). */
	if (getpeername(0, (struct sockaddr *)&src, &slen) < 0)
		src.ss_family = AF_UNSPEC;
	if (getsockname(0, (struct sockaddr *)&dst, &dlen) < 0)
		dst.ss_family = AF_UNSPEC;
	signal(SIGPIPE, SIG_IGN);
	session_serve(cfg, fe, 0, 1, &src, &dst);
	exit(0);
}

int
main(int argc, char **argv)
{
	const char *file = "wsproxy.conf", *fe_name = NULL, *pidfile = NULL;
	int check = 0, foreground = 0, inetd = 0, ch;
	struct config *cfg;
	struct server_state st;
	char start_dir[4096];

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
	if (optind < argc || (fe_name != NULL && !inetd)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* In inetd mode fd 2 may be the client: never write there. */
	log_init(inetd && !check ? LOG_TO_NOWHERE_BUT_SYSLOG : LOG_TO_STDERR);
	cfg = config_load(file);
	if (cfg == NULL)
		return EXIT_CONFIG;
	if (check) {
		printf("Configuration file is valid\n");
		return 0;
	}
	if (inetd)
		serve_inetd(cfg, fe_name);
	if (cfg->nlisteners == 0) {
		log_warnx("%s: no listener configured (no 'bind'): nothing to "
		    "serve but in inetd mode (-i)", file);
		return EXIT_CONFIG;
	}
	/* A relative pid file name is relative to where we were started. */
	if (getcwd(start_dir, sizeof(start_dir)) == NULL)
		fatal("getcwd");
	state_init(&st, cfg);
	setup_signals();
	bind_listeners(cfg);
	if (cfg->daemon && !foreground)
		daemonize();
	if (pidfile == NULL)
		pidfile = cfg->pidfile;
	if (pidfile != NULL)
		write_pidfile(&st, pidfile, start_dir);
	drop_privileges(cfg);
	accept_loop(&st);
	return 0;
}
