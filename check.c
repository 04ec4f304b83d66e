/*
 * check.c - health checks. One checker process, forked by the parent,
 * probes every server with "check" from a single poll() loop, each on
 * its own schedule: a non-blocking connect (a plain TCP check, or a unix
 * socket's, where connect() answers at once), and with
 * "option httpchk" a request and the status line of its answer. It keeps
 * HAProxy's health counter per server, writes UP or DOWN into the
 * scoreboard, where every child reads it, and logs each change in
 * HAProxy's words.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "log.h"
#include "logtarget.h"
#include "net.h"
#include "proxyproto.h"
#include "scoreboard.h"

#define RESPONSE_MAX 512        /* enough of an answer for its status line */
#define PARENT_POLL_MS 1000     /* how often the parent's presence is seen */

enum probe_state { PROBE_IDLE, PROBE_CONNECTING, PROBE_SENDING,
    PROBE_READING };

/* HAProxy's check statuses, those a probe here can end with. */
enum check_status { SOCKERR, L4OK, L4TOUT, L4CON, L7TOUT, L7RSP, L7OK,
    L7STS };

static const char *const status_text[] = {
	[SOCKERR] = "Socket error",
	[L4OK] = "Layer4 check passed",
	[L4TOUT] = "Layer4 timeout",
	[L4CON] = "Layer4 connection problem",
	[L7TOUT] = "Layer7 timeout",
	[L7RSP] = "Layer7 invalid response",
	[L7OK] = "Layer7 check passed",
	[L7STS] = "Layer7 wrong status",
};

struct check {
	const struct proxy *be;
	const struct server *srv;
	struct net_addr addr;   /* where probes connect */
	char *request;          /* httpchk: what is sent; NULL: TCP only */
	size_t request_len;
	int health;             /* 0 .. rise + fall - 1; UP when >= rise */
	enum probe_state state;
	int fd;                 /* -1 while idle */
	int64_t next_ms;        /* idle: when the next probe starts */
	int64_t start_ms;       /* when this probe started */
	int64_t deadline_ms;    /* when the current phase times out */
	size_t sent;
	char resp[RESPONSE_MAX];
	size_t resp_len;
};

static const struct config *check_cfg;

/* ---- reporting ---- */

/* Usable servers of be now: active and backup, as HAProxy counts them. */
static void
count_usable(const struct proxy *be, int *active, int *backup)
{
	*active = *backup = 0;
	for (int i = 0; i < be->nservers; i++) {
		const struct server *s = &be->servers[i];
		if (s->disabled || s->weight == 0 || !sb_server_up(s))
			continue;
		if (s->backup)
			(*backup)++;
		else
			(*active)++;
	}
}

/*
 * To the backend's log targets (and stderr in the foreground), as
 * HAProxy sends them to the proxy's; to the process's own destination
 * when the backend has no target.
 */
static void
check_log(const struct proxy *be, int level, const char *msg)
{
	if (be->nlogs == 0) {
		if (level <= LOG_WARNING)
			log_warnx("%s", msg);
		else
			log_notice("%s", msg);
		return;
	}
	if (log_to_stderr())
		fprintf(stderr, "%s\n", msg);
	logtarget_send(be->logs, be->nlogs, level, check_cfg->log_tag, msg, 1);
}

static void
report_change(const struct check *c, int up, const char *reason,
    int64_t duration_ms)
{
	const struct proxy *be = c->be;
	struct sb_counts counts;
	char msg[1024];
	int active, backup;

	count_usable(be, &active, &backup);
	sb_read(be, be, c->srv, &counts);
	if (up)
		snprintf(msg, sizeof(msg), "Server %s/%s is UP, reason: %s, "
		    "check duration: %lldms. %d active and %d backup servers "
		    "online.%s 0 sessions requeued, %d total in queue.",
		    be->name, c->srv->name, reason, (long long)duration_ms,
		    active, backup,
		    active == 0 && backup > 0 ? " Running on backup." : "",
		    counts.be_queue);
	else
		snprintf(msg, sizeof(msg), "Server %s/%s is DOWN, reason: %s, "
		    "check duration: %lldms. %d active and %d backup servers "
		    "left.%s %d sessions active, 0 requeued, 0 remaining in "
		    "queue.", be->name, c->srv->name, reason,
		    (long long)duration_ms, active, backup,
		    active == 0 && backup > 0 ? " Running on backup." : "",
		    counts.server);
	check_log(be, up ? LOG_NOTICE : LOG_ALERT, msg);
	if (!up && active + backup == 0) {
		snprintf(msg, sizeof(msg), "%s %s has no server available!",
		    strcmp(be->kind, "listen") == 0 ? "proxy" : "backend",
		    be->name);
		check_log(be, LOG_EMERG, msg);
	}
}

/* ---- the health counter ---- */

/* HAProxy's srv_getinter(): fastinter while changing, downinter down. */
static int
check_interval(const struct check *c)
{
	const struct server *s = c->srv;

	if (c->health == s->rise + s->fall - 1)
		return s->inter;
	if (c->health == 0)
		return s->downinter ? s->downinter : s->inter;
	return s->fastinter ? s->fastinter : s->inter;
}

/*
 * A probe's verdict: success climbs one step, and reaching rise jumps
 * to the top (UP); a failure steps down, and dropping below rise goes
 * to 0 (DOWN). So fall failures take a server down from the top, rise
 * successes bring it back from 0, and a fresh server (at rise) goes
 * down on its first failure.
 */
static void
probe_done(struct check *c, enum check_status status, int code,
    const char *info, int64_t now)
{
	const struct server *s = c->srv;
	int top = s->rise + s->fall - 1, passed = status == L4OK ||
	    status == L7OK, interval;
	char reason[256];
	size_t used;

	if (c->fd >= 0) {
		/* a reset, not a TIME_WAIT per probe */
		struct linger nolinger = { 1, 0 };
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &nolinger,
		    sizeof(nolinger));
		close(c->fd);
		c->fd = -1;
	}
	c->state = PROBE_IDLE;
	snprintf(reason, sizeof(reason), "%s", status_text[status]);
	used = strlen(reason);
	if (status == L7OK || status == L7STS)
		snprintf(reason + used, sizeof(reason) - used, ", code: %d",
		    code);
	used = strlen(reason);
	if (info != NULL && *info != '\0')
		snprintf(reason + used, sizeof(reason) - used, ", info: \"%s\"",
		    info);
	if (passed && c->health < top) {
		c->health++;
		if (c->health == s->rise) {
			c->health = top;
			sb_set_server_up(s, 1);
			report_change(c, 1, reason, now - c->start_ms);
		}
	} else if (!passed) {
		if (c->health > s->rise) {
			c->health--;
		} else {
			int was_up = c->health >= s->rise;
			c->health = 0;
			if (was_up) {
				sb_set_server_up(s, 0);
				report_change(c, 0, reason, now - c->start_ms);
			}
		}
	}
	interval = check_interval(c);
	c->next_ms = c->start_ms + interval;
	while (c->next_ms <= now)
		c->next_ms += interval;
}

/* ---- one probe ---- */

static void
probe_fail_errno(struct check *c, int err, int64_t now)
{
	probe_done(c, L4CON, 0, strerror(err), now);
}

/* A status line starts "HTTP/1.x NNN": the version, a space, the code. */
static const char status_prefix[] = "HTTP/1.";
#define STATUS_CODE_AT (sizeof(status_prefix) - 1 + 2)  /* "x " */
#define STATUS_CODE_LEN 3

/* The status line: "HTTP/1.x NNN reason", judged as HAProxy does. */
static void
probe_judge(struct check *c, int64_t now)
{
	const struct proxy *be = c->be;
	char *line = c->resp, *desc;
	const char *digits;
	int code, ok;

	c->resp[c->resp_len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (c->resp_len == 0) {
		probe_done(c, L7RSP, 0, "Empty response", now);
		return;
	}
	digits = line + STATUS_CODE_AT;
	if (strncmp(line, status_prefix, sizeof(status_prefix) - 1) != 0 ||
	    strlen(line) < STATUS_CODE_AT + STATUS_CODE_LEN ||
	    (digits[STATUS_CODE_LEN] != ' ' &&
	    digits[STATUS_CODE_LEN] != '\0') ||
	    digits[0] < '1' || digits[0] > '9' ||
	    digits[1] < '0' || digits[1] > '9' ||
	    digits[2] < '0' || digits[2] > '9') {
		probe_done(c, L7RSP, 0, line, now);
		return;
	}
	code = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 +
	    digits[2] - '0';
	desc = line + STATUS_CODE_AT + STATUS_CODE_LEN;
	while (*desc == ' ')
		desc++;
	if (be->httpchk_status != 0)
		ok = code == be->httpchk_status;
	else
		ok = digits[0] == '2' || digits[0] == '3';
	probe_done(c, ok ? L7OK : L7STS, code, desc, now);
}

static void
probe_send(struct check *c, int64_t now)
{
	while (c->sent < c->request_len) {
		ssize_t n = send(c->fd, c->request + c->sent,
		    c->request_len - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;         /* poll for POLLOUT */
		if (n < 0) {
			probe_fail_errno(c, errno, now);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = PROBE_READING;
}

static void
probe_read(struct check *c, int64_t now)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->resp + c->resp_len,
		    sizeof(c->resp) - 1 - c->resp_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			probe_fail_errno(c, errno, now);
			return;
		}
		c->resp_len += (size_t)n;
		if (n == 0 || memchr(c->resp, '\n', c->resp_len) != NULL ||
		    c->resp_len == sizeof(c->resp) - 1) {
			probe_judge(c, now);
			return;
		}
	}
}

/* Connected: a PROXY header if the server wants one, then the request. */
static void
probe_connected(struct check *c, int64_t now)
{
	const struct server *s = c->srv;
	int version = s->send_proxy ? s->send_proxy : s->check_send_proxy;

	if (version != 0) {
		int64_t left = c->deadline_ms - now;
		if (proxy_send(c->fd, version, NULL, NULL,
		    left > 0 ? (int)left : 1) < 0) {
			probe_fail_errno(c, errno, now);
			return;
		}
	}
	if (c->request == NULL) {
		probe_done(c, L4OK, 0, NULL, now);
		return;
	}
	/* with "timeout check", it is the read timeout from here on */
	if (c->be->to.check > 0)
		c->deadline_ms = now + c->be->to.check;
	c->state = PROBE_SENDING;
	c->sent = 0;
	c->resp_len = 0;
	probe_send(c, now);
}

/*
 * connect() itself failed: always so on a unix socket (a missing file,
 * no listener), which HAProxy reports as a socket error, not as a
 * Layer4 problem (that is for refusals that come back later, as TCP's).
 */
static void
probe_fail_now(struct check *c, int err, int64_t now)
{
	char info[128];

	snprintf(info, sizeof(info), "General socket error (%s)",
	    strerror(err));
	probe_done(c, SOCKERR, 0, info, now);
}

static void
probe_start(struct check *c, int64_t now)
{
	const struct proxy *be = c->be;
	int in_progress, connect_ms = c->srv->inter;

	c->start_ms = now;
	/* Without "timeout check", inter bounds the whole check; with it,
	 * the connect gets min(timeout connect, inter). */
	if (be->to.check > 0 && be->to.connect > 0 &&
	    be->to.connect < connect_ms)
		connect_ms = be->to.connect;
	c->deadline_ms = now + connect_ms;
	c->fd = net_connect_nonblock(&c->addr, &in_progress);
	if (c->fd < 0) {
		probe_fail_now(c, errno, now);
		return;
	}
	c->state = PROBE_CONNECTING;
	if (!in_progress)
		probe_connected(c, now);
}

static void
probe_event(struct check *c, short revents, int64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case PROBE_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0)
			probe_fail_errno(c, err, now);
		else if (revents & (POLLOUT | POLLERR | POLLHUP))
			probe_connected(c, now);
		break;
	case PROBE_SENDING:
		probe_send(c, now);
		break;
	case PROBE_READING:
		probe_read(c, now);
		break;
	case PROBE_IDLE:
		break;
	}
}

static void
probe_timeout(struct check *c, int64_t now)
{
	probe_done(c, c->state == PROBE_CONNECTING ? L4TOUT : L7TOUT, 0, NULL,
	    now);
}

/* ---- the checker process ---- */

/* Servers checked: "check", not disabled, with a port to probe. */
static int
is_checked(const struct server *s)
{
	return s->check && !s->disabled &&
	    (s->port_mode == PORT_FIXED || s->check_port != 0);
}

static int
count_checked(const struct config *cfg)
{
	int n = 0;

	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		for (int i = 0; i < px->nservers; i++)
			n += is_checked(&px->servers[i]);
	return n;
}

/* The checks of cfg, at most n; *built says how many there are. */
static struct check *
checks_build(const struct config *cfg, int n, int *built)
{
	struct check *checks = calloc((size_t)n, sizeof(*checks));
	int k = 0;

	if (checks == NULL)
		fatal("checker: calloc");
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		for (int i = 0; i < px->nservers; i++) {
			const struct server *s = &px->servers[i];
			struct check *c = &checks[k];
			if (!is_checked(s) || k == n)
				continue;
			c->be = px;
			c->srv = s;
			c->addr = s->addr;
			if (s->check_port != 0)
				net_set_port(&c->addr.ss, s->check_port);
			if ((px->options & OPT_HTTPCHK) && asprintf(&c->request,
			    "%s\r\nConnection: close\r\n\r\n",
			    px->httpchk_line ? px->httpchk_line :
			    "OPTIONS / HTTP/1.0") < 0)
				fatal("checker: asprintf");
			if (c->request != NULL)
				c->request_len = strlen(c->request);
			/* a re-forked checker goes on from the scoreboard */
			c->health = sb_server_up(s) ? s->rise : 0;
			c->fd = -1;
			k++;
		}
	}
	*built = k;
	return checks;
}

static void __attribute__((noreturn))
checker_run(struct check *checks, int n, int delay_ms, pid_t parent)
{
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	int *owner = calloc((size_t)n, sizeof(*owner));
	int64_t now = now_ms();
	int min_inter = checks[0].srv->inter;

	if (pfd == NULL || owner == NULL)
		fatal("checker: calloc");
	/* first probes spread over the shortest interval, as HAProxy does */
	for (int i = 1; i < n; i++)
		if (checks[i].srv->inter < min_inter)
			min_inter = checks[i].srv->inter;
	for (int i = 0; i < n; i++)
		checks[i].next_ms = now + delay_ms +
		    (int64_t)min_inter * i / n;
	for (;;) {
		int64_t wake;
		int np = 0;

		if (getppid() != parent)
			_exit(0);
		now = now_ms();
		wake = now + PARENT_POLL_MS;
		for (int i = 0; i < n; i++) {
			struct check *c = &checks[i];
			if (c->state == PROBE_IDLE && c->next_ms <= now)
				probe_start(c, now);
			if (c->state != PROBE_IDLE && c->deadline_ms <= now)
				probe_timeout(c, now);
			if (c->state == PROBE_IDLE) {
				if (c->next_ms < wake)
					wake = c->next_ms;
				continue;
			}
			if (c->deadline_ms < wake)
				wake = c->deadline_ms;
			pfd[np].fd = c->fd;
			pfd[np].events = c->state == PROBE_READING ? POLLIN :
			    POLLOUT;
			pfd[np].revents = 0;
			owner[np++] = i;
		}
		if (poll(pfd, (nfds_t)np, wake > now ? (int)(wake - now) : 0) <
		    0 && errno != EINTR)
			fatal("checker: poll");
		now = now_ms();
		for (int k = 0; k < np; k++)
			if (pfd[k].revents != 0)
				probe_event(&checks[owner[k]], pfd[k].revents,
				    now);
	}
}

pid_t
checker_start(const struct config *cfg, int delay_ms,
    void (*child_init)(void *), void *arg)
{
	int n = count_checked(cfg);
	pid_t parent = getpid(), pid;
	struct check *checks;

	if (n == 0)
		return 0;
	pid = fork();
	if (pid < 0) {
		log_warn("fork: no health checker");
		return -1;
	}
	if (pid > 0)
		return pid;
	child_init(arg);
	/* Dies with the parent: the signal, or the check in the loop if the
	 * parent was gone before the prctl(). */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	(void)prctl(PR_SET_NAME, "wsproxy-check");
	if (getppid() != parent)
		_exit(0);
	check_cfg = cfg;
	checks = checks_build(cfg, n, &n);
	if (n == 0)
		_exit(0);
	checker_run(checks, n, delay_ms, parent);
}
