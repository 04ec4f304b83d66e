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
	int paused;             /* maintenance or "disable health" */
};

static const struct config *check_cfg;

/* ---- reporting ---- */

static void
report_change(const struct check *c, int up, const char *reason,
    int64_t duration_ms)
{
	const struct proxy *be = c->be;
	struct sb_counts counts;
	char msg[1024];
	int active, backup;

	srv_count_usable(be, &active, &backup);
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
	srv_log(be, up ? LOG_NOTICE : LOG_ALERT, msg);
	if (!up && active + backup == 0) {
		snprintf(msg, sizeof(msg), "%s %s has no server available!",
		    strcmp(be->kind, "listen") == 0 ? "proxy" : "backend",
		    be->name);
		srv_log(be, LOG_EMERG, msg);
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

/* The last check, for the stats (CSV check_status, check_desc, ...). */
static void
record_result(const struct check *c, enum chk_status status, int code,
    int64_t now)
{
	struct sb_srvstate *st = sb_srv_state(c->srv);

	atomic_store(&st->check_status, status);
	atomic_store(&st->check_code, code);
	atomic_store(&st->check_duration, (int)(now - c->start_ms));
	if (status != CHK_L4OK && status != CHK_L7OK)
		atomic_fetch_add(&st->chkfail, 1);
}

/* UP: the time it was down counts in its downtime. */
static void
went_up(const struct check *c)
{
	struct sb_srvstate *st = sb_srv_state(c->srv);
	long long now = srv_now_ms();

	atomic_fetch_add(&st->downtime_ms, now -
	    atomic_load(&st->last_change));
	atomic_store(&st->last_change, now);
	sb_set_server_up(c->srv, 1);
}

static void
went_down(const struct check *c)
{
	struct sb_srvstate *st = sb_srv_state(c->srv);

	atomic_fetch_add(&st->chkdown, 1);
	atomic_store(&st->last_change, srv_now_ms());
	sb_set_server_up(c->srv, 0);
}

/*
 * A probe's verdict: success climbs one step, and reaching rise jumps
 * to the top (UP); a failure steps down, and dropping below rise goes
 * to 0 (DOWN). So fall failures take a server down from the top, rise
 * successes bring it back from 0, and a fresh server (at rise) goes
 * down on its first failure.
 */
static void
probe_done(struct check *c, enum chk_status status, int code,
    const char *info, int64_t now)
{
	const struct server *s = c->srv;
	int top = s->rise + s->fall - 1, passed = status == CHK_L4OK ||
	    status == CHK_L7OK, interval;
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
	snprintf(reason, sizeof(reason), "%s", chk_status_desc(status));
	used = strlen(reason);
	if (status == CHK_L7OK || status == CHK_L7STS)
		snprintf(reason + used, sizeof(reason) - used, ", code: %d",
		    code);
	used = strlen(reason);
	if (info != NULL && *info != '\0')
		snprintf(reason + used, sizeof(reason) - used, ", info: \"%s\"",
		    info);
	record_result(c, status, code, now);
	if (passed && c->health < top) {
		c->health++;
		if (c->health == s->rise) {
			c->health = top;
			went_up(c);
			report_change(c, 1, reason, now - c->start_ms);
		}
	} else if (!passed) {
		if (c->health > s->rise) {
			c->health--;
		} else {
			int was_up = c->health >= s->rise;
			c->health = 0;
			if (was_up) {
				went_down(c);
				report_change(c, 0, reason, now - c->start_ms);
			}
		}
	}
	atomic_store(&sb_srv_state(s)->check_health, c->health);
	interval = check_interval(c);
	c->next_ms = c->start_ms + interval;
	while (c->next_ms <= now)
		c->next_ms += interval;
}

/* ---- one probe ---- */

static void
probe_fail_errno(struct check *c, int err, int64_t now)
{
	probe_done(c, CHK_L4CON, 0, strerror(err), now);
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
		probe_done(c, CHK_L7RSP, 0, "Empty response", now);
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
		probe_done(c, CHK_L7RSP, 0, line, now);
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
	probe_done(c, ok ? CHK_L7OK : CHK_L7STS, code, desc, now);
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
		probe_done(c, CHK_L4OK, 0, NULL, now);
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
	probe_done(c, CHK_SOCKERR, 0, info, now);
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
	probe_done(c, c->state == PROBE_CONNECTING ? CHK_L4TOUT : CHK_L7TOUT, 0, NULL,
	    now);
}

/* ---- the checker process ---- */

/* Servers checked: "check", with a port to probe. Those in maintenance
 * ("disabled" included) too: they may come out of it at runtime. */
static int
is_checked(const struct server *s)
{
	return srv_checked(s);
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

/* A re-forked checker goes on from the scoreboard's health counter. */
static int
initial_health(const struct server *s)
{
	int health = atomic_load(&sb_srv_state(s)->check_health);

	if (sb_server_up(s))
		return health < s->rise ? s->rise : health;
	return health >= s->rise ? 0 : health;
}

/*
 * Maintenance or "disable health" (srvstate.c): no probe, and one in
 * flight is dropped. When it ends, the next probe starts at once, from
 * the health counter as leaving maintenance set it.
 */
static int
check_paused(struct check *c, int64_t now)
{
	if (!srv_check_enabled(c->srv)) {
		if (c->fd >= 0) {
			close(c->fd);
			c->fd = -1;
		}
		c->state = PROBE_IDLE;
		c->paused = 1;
		return 1;
	}
	if (c->paused) {
		c->paused = 0;
		c->health = initial_health(c->srv);
		c->next_ms = now;
	}
	return 0;
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
			c->health = initial_health(s);
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
			if (check_paused(c, now))
				continue;
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
