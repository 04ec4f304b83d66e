/*
 * cfgglobal.c - the "global" section: process-wide settings (maxconn,
 * log targets, the identity and chroot the parent drops to, pidfile,
 * tunables), and the HAProxy global keywords that wsproxy knows but
 * does not implement, each classed as a warning or an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfgparse.h"
#include "kwtable.h"

static int
g_log(struct parser *p, char **w, int n)
{
	struct log_target t;

	if (need_args(p, w, n, 1, "<address> and <facility> as arguments") < 0)
		return -1;
	if (strcmp(w[1], "global") == 0) {
		p_err(p, "'global' is not supported for a global syslog server.");
		return -1;
	}
	if (parse_log_target(p, w, n, &t) < 0)
		return -1;
	*(struct log_target *)grow(&p->cfg->logs, &p->cfg->nlogs,
	    sizeof(t)) = t;
	return 0;
}

static int
g_maxconn(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	return parse_int(p, w[0], w[1], 1, 1000000, &p->cfg->maxconn);
}

static int
g_chroot(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a directory as an argument") < 0)
		return -1;
	free(p->cfg->chroot_dir);
	p->cfg->chroot_dir = xstrdup(w[1]);
	p->cfg->chroot_line = p->line;
	return 0;
}

static int
g_pidfile(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a file name as an argument") < 0)
		return -1;
	free(p->cfg->pidfile);
	p->cfg->pidfile = xstrdup(w[1]);
	return 0;
}

static int
g_log_tag(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "a tag as an argument") < 0)
		return -1;
	if (n > 2) {
		p_err(p, "'log-tag' : unexpected extra argument '%s'.", w[2]);
		return -1;
	}
	free(p->cfg->log_tag);
	p->cfg->log_tag = xstrdup(w[1]);
	return 0;
}

static int
g_daemon(struct parser *p, char **w, int n)
{
	if (n > 1) {
		p_err(p, "'daemon' cannot handle unexpected argument '%s'.",
		    w[1]);
		return -1;
	}
	p->cfg->daemon = 1;
	return 0;
}

static int
g_quiet(struct parser *p, char **w, int n)
{
	(void)w;
	(void)n;
	p->cfg->quiet = 1;
	return 0;
}

/*
 * uid/gid: numbers; user/group: names resolved now, before any chroot.
 * The primary group of the user (by name or by number) is kept: it is
 * the group wsproxy takes when no group/gid line names one (see
 * global_finish()).
 */
static int
g_identity(struct parser *p, char **w, int n)
{
	int is_user = w[0][0] == 'u';
	int *set = is_user ? &p->uid_set : &p->gid_set;
	struct passwd *pw = NULL;
	long id;
	char *end;

	if (need_args(p, w, n, 1, "an argument") < 0)
		return -1;
	if (*set)
		p_warn(p, "%s already specified. Continuing.",
		    is_user ? "user/uid" : "group/gid");
	if (strcmp(w[0], "user") == 0) {
		if ((pw = getpwnam(w[1])) == NULL) {
			p_err(p, "cannot find user id for '%s'", w[1]);
			return -1;
		}
		id = pw->pw_uid;
	} else if (strcmp(w[0], "group") == 0) {
		struct group *gr = getgrnam(w[1]);
		if (gr == NULL) {
			p_err(p, "cannot find group id for '%s'", w[1]);
			return -1;
		}
		id = gr->gr_gid;
	} else {
		errno = 0;
		id = strtol(w[1], &end, 10);
		/* ignoring it would keep root: an error, not a warning */
		if (*w[1] == '\0' || *end != '\0' || id < 0 || errno != 0 ||
		    id > INT_MAX) {
			p_err(p, "%s: '%s' is not a valid number.", w[0], w[1]);
			return -1;
		}
		if (is_user)
			pw = getpwuid((uid_t)id);
	}
	if (is_user) {
		p->cfg->uid = (uid_t)id;
		p->cfg->uid_line = p->line;
		p->user_gid_known = pw != NULL;
		if (pw != NULL)
			p->user_gid = pw->pw_gid;
	} else {
		p->cfg->gid = (gid_t)id;
		p->cfg->gid_line = p->line;
	}
	*set = 1;
	return 0;
}

static int
g_tune(struct parser *p, char **w, int n)
{
	if (need_args(p, w, n, 1, "an integer argument") < 0)
		return -1;
	if (strcmp(w[0], "tune.bufsize") == 0)
		return parse_int(p, w[0], w[1], 4096, 1 << 24,
		    &p->cfg->bufsize);
	return parse_int(p, w[0], w[1], 1, 32767, &p->cfg->maxhdr);
}

/*
 * tunnel-keeper on|off|N (wsproxy's own): WebSocket tunnels handed to N
 * keeper processes once upgraded (keeper.h); "on": one per two CPUs.
 */
#define KEEPERS_MAX 64

static int
g_tunnel_keeper(struct parser *p, char **w, int n)
{
	long cpus;

	if (need_args(p, w, n, 1, "'on', 'off' or a number of keepers") < 0)
		return -1;
	if (n > 2) {
		p_err(p, "'tunnel-keeper' : unexpected extra argument '%s'.",
		    w[2]);
		return -1;
	}
	if (strcmp(w[1], "off") == 0) {
		p->cfg->tunnel_keepers = 0;
		return 0;
	}
	if (strcmp(w[1], "on") == 0) {
		/* A keeper shares the CPUs with the servers behind it: on 2
		 * CPUs, one keeper had a shorter p99 than two (bench/
		 * RESULTS.md, round 3 step 2). */
		cpus = sysconf(_SC_NPROCESSORS_ONLN) / 2;
		p->cfg->tunnel_keepers = cpus < 1 ? 1 : cpus > KEEPERS_MAX ?
		    KEEPERS_MAX : (int)cpus;
		return 0;
	}
	if (strspn(w[1], "0123456789") != strlen(w[1])) {
		p_err(p, "'tunnel-keeper' expects 'on', 'off' or a number of "
		    "keepers (1 to %d), not '%s'.", KEEPERS_MAX, w[1]);
		return -1;
	}
	return parse_int(p, w[0], w[1], 1, KEEPERS_MAX,
	    &p->cfg->tunnel_keepers);
}

/* ---- stats socket / stats timeout / stats maxconn ---- */

/* a user or group by name, or uid/gid by number */
static int
socket_owner(struct parser *p, const char *kw, const char *value,
    struct stats_socket *ss)
{
	long id;
	char *end;

	if (strcmp(kw, "user") == 0 || strcmp(kw, "group") == 0) {
		struct passwd *pw = kw[0] == 'u' ? getpwnam(value) : NULL;
		struct group *gr = kw[0] == 'g' ? getgrnam(value) : NULL;
		if (pw == NULL && gr == NULL) {
			p_err(p, "'stats socket' : '%s' : unknown %s name '%s'",
			    kw, kw, value);
			return -1;
		}
		if (pw != NULL)
			ss->uid = pw->pw_uid;
		else
			ss->gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	id = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || id < 0 || errno != 0 ||
	    id > INT_MAX) {
		p_err(p, "'stats socket' : '%s' : '%s' is not a valid number.",
		    kw, value);
		return -1;
	}
	if (kw[0] == 'u')
		ss->uid = (uid_t)id;
	else
		ss->gid = (gid_t)id;
	return 0;
}

static int
socket_option(struct parser *p, const char *kw, const char *value,
    struct stats_socket *ss)
{
	char *end;

	if (value == NULL) {
		p_err(p, "'stats socket' : '%s' : missing value", kw);
		return -1;
	}
	if (strcmp(kw, "mode") == 0) {
		long mode = strtol(value, &end, 8);
		if (*value == '\0' || *end != '\0' || mode < 0 || mode > 07777) {
			p_err(p, "'stats socket' : 'mode' : '%s' is not a "
			    "valid octal mode.", value);
			return -1;
		}
		ss->mode = (int)mode;
		return 0;
	}
	if (strcmp(kw, "level") == 0) {
		if (strcmp(value, "user") == 0)
			ss->level = CLI_LEVEL_USER;
		else if (strcmp(value, "operator") == 0)
			ss->level = CLI_LEVEL_OPER;
		else if (strcmp(value, "admin") == 0)
			ss->level = CLI_LEVEL_ADMIN;
		else {
			p_err(p, "'stats socket' : 'level' only supports "
			    "'user', 'operator', and 'admin'");
			return -1;
		}
		return 0;
	}
	if (strcmp(kw, "expose-fd") == 0) {
		/* HAProxy's seamless reload: ours keeps its listeners */
		p_warn(p, "'stats socket' : 'expose-fd %s' is ignored: a "
		    "reload (SIGHUP) keeps the listening sockets.", value);
		return 0;
	}
	return socket_owner(p, kw, value, ss);
}

static int
g_stats_socket(struct parser *p, char **w, int n)
{
	struct stats_socket ss = { .mode = -1, .uid = (uid_t)-1,
	    .gid = (gid_t)-1, .level = CLI_LEVEL_OPER, .line = p->line,
	    .fd = -1, .dir_fd = -1 };
	const char *path;
	static const char *const known[] = { "mode", "level", "uid", "gid",
	    "user", "group", "expose-fd" };

	if (n < 3) {
		p_err(p, "'stats socket' in global section expects an address "
		    "or a path to a UNIX socket");
		return -1;
	}
	path = strncmp(w[2], "unix@", 5) == 0 ? w[2] + 5 : w[2];
	if (strchr(path, '@') != NULL || (path[0] != '/' &&
	    strchr(path, ':') != NULL)) {
		p_err(p, "'stats socket %s' : only a UNIX socket path is "
		    "supported, not an IP address or an abstract socket.",
		    w[2]);
		return -1;
	}
	/* room for the temporary name it is bound to first (clisock.c) */
	if (strlen(path) + 16 >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		p_err(p, "'stats socket' : socket path '%s' too long (max %zu "
		    "characters)", path,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 17);
		return -1;
	}
	for (int i = 3; i < n; i += 2) {
		size_t k;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(w[i], known[k]) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0])) {
			p_err(p, "'stats socket' : unknown keyword '%s'. "
			    "Supported: 'mode', 'uid', 'gid', 'user', "
			    "'group', 'level', 'expose-fd'.", w[i]);
			return -1;
		}
		if (socket_option(p, w[i], i + 1 < n ? w[i + 1] : NULL,
		    &ss) < 0)
			return -1;
	}
	for (int i = 0; i < p->cfg->nstats_sockets; i++)
		if (strcmp(p->cfg->stats_sockets[i].path, path) == 0) {
			p_err(p, "'stats socket' : '%s' is already declared "
			    "at line %d.", path, p->cfg->stats_sockets[i].line);
			return -1;
		}
	ss.path = xstrdup(path);
	*(struct stats_socket *)grow(&p->cfg->stats_sockets,
	    &p->cfg->nstats_sockets, sizeof(ss)) = ss;
	return 0;
}

static int
g_stats(struct parser *p, char **w, int n)
{
	const char *sub = n > 1 ? w[1] : "";

	if (strcmp(sub, "socket") == 0)
		return g_stats_socket(p, w, n);
	if (strcmp(sub, "timeout") == 0 || strcmp(sub, "maxconn") == 0) {
		int value = 0;
		if (n < 3 || (sub[0] == 't' ? parse_time(p, "stats timeout",
		    w[2], &value) : parse_int(p, "stats maxconn", w[2], 0,
		    1000000, &value)) < 0 || value == 0) {
			if (n < 3 || value == 0)
				p_err(p, "'stats %s' expects a positive value",
				    sub);
			return -1;
		}
		*(sub[0] == 't' ? &p->cfg->stats_timeout :
		    &p->cfg->stats_maxconn) = value;
		return 0;
	}
	if (strcmp(sub, "bind-process") == 0) {
		p_unsupported(p, KW_WARN, "'stats bind-process'");
		return 0;
	}
	p_err(p, "'stats' only supports 'socket', 'maxconn', 'bind-process' "
	    "and 'timeout' (got '%s')", sub);
	return -1;
}

struct global_kw {
	const char *name;
	int (*parse)(struct parser *, char **, int);
	enum kw_support support;
};

/*
 * Sorted (kwtable.h). Every keyword wsproxy knows, with what it does
 * with it; test/keywords.bats reads the lines between the markers.
 */
/* BEGIN KEYWORDS global */
static const struct global_kw global_kws[] = {
	{ "ca-base",                           NULL,       KW_WARN },
	{ "chroot",                            g_chroot,   KW_DONE },
	{ "cpu-map",                           NULL,       KW_WARN },
	{ "crt-base",                          NULL,       KW_WARN },
	{ "daemon",                            g_daemon,   KW_DONE },
	{ "debug",                             NULL,       KW_WARN },
	{ "description",                       NULL,       KW_WARN },
	{ "external-check",                    NULL,       KW_WARN },
	{ "gid",                               g_identity, KW_DONE },
	{ "group",                             g_identity, KW_DONE },
	{ "hard-stop-after",                   NULL,       KW_WARN },
	{ "issuers-chain-path",                NULL,       KW_WARN },
	{ "log",                               g_log,      KW_DONE },
	{ "log-send-hostname",                 NULL,       KW_WARN },
	{ "log-tag",                           g_log_tag,  KW_DONE },
	{ "lua-load",                          NULL,       KW_REFUSE },
	{ "master-worker",                     NULL,       KW_WARN },
	{ "maxconn",                           g_maxconn,  KW_DONE },
	{ "maxconnrate",                       NULL,       KW_REFUSE },
	{ "maxsessrate",                       NULL,       KW_REFUSE },
	{ "maxsslconn",                        NULL,       KW_WARN },
	{ "nbproc",                            NULL,       KW_WARN },
	{ "nbthread",                          NULL,       KW_WARN },
	{ "node",                              NULL,       KW_WARN },
	{ "nosplice",                          NULL,       KW_WARN },
	{ "pidfile",                           g_pidfile,  KW_DONE },
	{ "quiet",                             g_quiet,    KW_DONE },
	{ "spread-checks",                     NULL,       KW_WARN },
	{ "ssl-default-bind-ciphers",          NULL,       KW_WARN },
	{ "ssl-default-bind-ciphersuites",     NULL,       KW_WARN },
	{ "ssl-default-bind-client-sigalgs",   NULL,       KW_WARN },
	{ "ssl-default-bind-curves",           NULL,       KW_WARN },
	{ "ssl-default-bind-options",          NULL,       KW_WARN },
	{ "ssl-default-bind-sigalgs",          NULL,       KW_WARN },
	{ "ssl-default-server-ciphers",        NULL,       KW_WARN },
	{ "ssl-default-server-ciphersuites",   NULL,       KW_WARN },
	{ "ssl-default-server-client-sigalgs", NULL,       KW_WARN },
	{ "ssl-default-server-curves",         NULL,       KW_WARN },
	{ "ssl-default-server-options",        NULL,       KW_WARN },
	{ "ssl-default-server-sigalgs",        NULL,       KW_WARN },
	{ "ssl-dh-param-file",                 NULL,       KW_WARN },
	{ "ssl-engine",                        NULL,       KW_WARN },
	{ "ssl-load-extra-del-ext",            NULL,       KW_WARN },
	{ "ssl-load-extra-files",              NULL,       KW_WARN },
	{ "ssl-mode-async",                    NULL,       KW_WARN },
	{ "ssl-propquery",                     NULL,       KW_WARN },
	{ "ssl-provider",                      NULL,       KW_WARN },
	{ "ssl-provider-path",                 NULL,       KW_WARN },
	{ "ssl-security-level",                NULL,       KW_WARN },
	{ "ssl-server-verify",                 NULL,       KW_WARN },
	{ "ssl-skip-self-issued-ca",           NULL,       KW_WARN },
	{ "stats",                             g_stats,    KW_DONE },
	{ "tune.bufsize",                      g_tune,     KW_DONE },
	{ "tune.http.maxhdr",                  g_tune,     KW_DONE },
	{ "tunnel-keeper",                     g_tunnel_keeper, KW_DONE },
	{ "uid",                               g_identity, KW_DONE },
	{ "ulimit-n",                          NULL,       KW_WARN },
	{ "unix-bind",                         NULL,       KW_WARN },
	{ "user",                              g_identity, KW_DONE },
};
/* END KEYWORDS */

static const struct kwtable global_table = KWTABLE("global keywords",
    global_kws);

int
global_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&global_table, err, errlen);
}

void
global_parse_line(struct parser *p, char **w, int n)
{
	const struct global_kw *kw = kwtable_find(&global_table, w[0]);
	char what[128];

	if (kw != NULL && kw->parse != NULL) {
		kw->parse(p, w, n);
		return;
	}
	snprintf(what, sizeof(what), "'%s'", w[0]);
	/* the tune.* tunables we do not need change nothing forwarded */
	if (kw != NULL)
		p_unsupported(p, kw->support, what);
	else if (strncmp(w[0], "tune.", 5) == 0)
		p_unsupported(p, KW_WARN, what);
	else
		p_err(p, "unknown keyword '%s' in 'global' section", w[0]);
}

/*
 * "user" or "uid" without "group" or "gid": the user's primary group,
 * never group 0 by default (HAProxy keeps the group it was started
 * with, root's). A uid without a passwd entry has no primary group to
 * take: that is an error, not a silent gid 0.
 */
void
global_finish(struct parser *p)
{
	struct config *cfg = p->cfg;

	if (!p->uid_set || p->gid_set)
		return;
	if (p->user_gid_known) {
		cfg->gid = p->user_gid;
		return;
	}
	p_err_at(p, cfg->uid_line, "uid %ld has no passwd entry to take a "
	    "primary group from: add a 'gid' or 'group' line, or the process "
	    "would keep group 0.", (long)cfg->uid);
}
