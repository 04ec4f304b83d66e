/*
 * srvstate.c - a server's administrative state (maintenance, drain,
 * health checks off) and how the stats name it, changed through the
 * runtime socket or the stats page and logged in HAProxy 2.6's words
 * (server.c: srv_update_status, srv_append_status).
 *
 * Every process reads and writes the state in the scoreboard's shared
 * mapping (sb_srv_state): the process that applies a command logs it,
 * children read it when they balance, the checker when it probes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>

#include "config.h"
#include "log.h"
#include "logtarget.h"
#include "scoreboard.h"
#include "srvstate.h"

static const struct {
	const char *name, *desc;
} chk_texts[] = {
	[CHK_NONE] = { "", "" },
	[CHK_INI] = { "INI", "Initializing" },
	[CHK_SOCKERR] = { "SOCKERR", "Socket error" },
	[CHK_L4OK] = { "L4OK", "Layer4 check passed" },
	[CHK_L4TOUT] = { "L4TOUT", "Layer4 timeout" },
	[CHK_L4CON] = { "L4CON", "Layer4 connection problem" },
	[CHK_L7OK] = { "L7OK", "Layer7 check passed" },
	[CHK_L7TOUT] = { "L7TOUT", "Layer7 timeout" },
	[CHK_L7RSP] = { "L7RSP", "Layer7 invalid response" },
	[CHK_L7STS] = { "L7STS", "Layer7 wrong status" },
};

const char *
chk_status_name(int status)
{
	if (status < 0 || (size_t)status >= sizeof(chk_texts) /
	    sizeof(chk_texts[0]))
		return "";
	return chk_texts[status].name;
}

const char *
chk_status_desc(int status)
{
	if (status < 0 || (size_t)status >= sizeof(chk_texts) /
	    sizeof(chk_texts[0]))
		return "";
	return chk_texts[status].desc;
}

long long
srv_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int
srv_checked(const struct server *srv)
{
	return srv->check &&
	    (srv->port_mode == PORT_FIXED || srv->check_port != 0);
}

static int
in_maint(const struct sb_srvstate *st)
{
	return (atomic_load(&st->admin) & SRV_ADMF_FMAINT) != 0;
}

int
srv_check_enabled(const struct server *srv)
{
	const struct sb_srvstate *st = sb_srv_state(srv);

	return srv_checked(srv) && !atomic_load(&st->check_off) &&
	    !in_maint(st);
}

int
srv_usable(const struct server *srv)
{
	const struct sb_srvstate *st = sb_srv_state(srv);

	return !(atomic_load(&st->admin) & (SRV_ADMF_FMAINT |
	    SRV_ADMF_FDRAIN)) && atomic_load(&st->uweight) > 0 &&
	    sb_server_up(srv);
}

void
srv_count_usable(const struct proxy *be, int *active, int *backup)
{
	*active = *backup = 0;
	for (int i = 0; i < be->nservers; i++) {
		const struct server *s = &be->servers[i];
		if (!srv_usable(s))
			continue;
		if (s->backup)
			(*backup)++;
		else
			(*active)++;
	}
}

void
srv_log(const struct proxy *be, int level, const char *msg)
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
	logtarget_send(be->logs, be->nlogs, level, log_get_tag(), msg, 1);
}

/*
 * HAProxy's stats.c: MAINT first; a running server is DRAIN, UP or (not
 * checked) "no check", with "n/fall" while failures count down; a
 * stopped one DOWN, or "n/rise" while successes count up.
 */
const char *
srv_status_text(const struct server *srv, char *buf, size_t len)
{
	const struct sb_srvstate *st = sb_srv_state(srv);
	int checked = srv_check_enabled(srv);
	int health = atomic_load(&st->check_health);
	int top = srv->rise + srv->fall - 1;

	if (in_maint(st)) {
		snprintf(buf, len, "MAINT");
	} else if (sb_server_up(srv)) {
		const char *word = atomic_load(&st->admin) & SRV_ADMF_FDRAIN ?
		    "DRAIN" : "UP";
		if (checked && health < top)
			snprintf(buf, len, "%s %d/%d", word,
			    health - srv->rise + 1, srv->fall);
		else if (!checked && strcmp(word, "UP") == 0)
			snprintf(buf, len, "no check");
		else
			snprintf(buf, len, "%s", word);
	} else if (checked && health > 0) {
		snprintf(buf, len, "DOWN %d/%d", health, srv->rise);
	} else {
		snprintf(buf, len, "DOWN");
	}
	return buf;
}

/* ---- the commands ---- */

static const char *
backup_prefix(const struct server *srv)
{
	return srv->backup ? "Backup " : "";
}

/* srv_append_status(): the backend's servers after the change. */
static void
append_counts(const struct proxy *be, const struct server *srv,
    char *msg, size_t len, int stopped)
{
	struct sb_counts counts;
	size_t used = strlen(msg);
	int active, backup;

	srv_count_usable(be, &active, &backup);
	sb_read(be, be, srv, &counts);
	snprintf(msg + used, len - used, ". %d active and %d backup servers "
	    "%s.%s", active, backup, stopped ? "left" : "online",
	    active == 0 && backup > 0 ? " Running on backup." : "");
	used = strlen(msg);
	if (stopped)
		snprintf(msg + used, len - used, " %d sessions active, 0 "
		    "requeued, 0 remaining in queue.", counts.server);
	else
		snprintf(msg + used, len - used, " 0 sessions requeued, %d "
		    "total in queue.", counts.be_queue);
}

static void
log_no_server(const struct proxy *be)
{
	char msg[512];
	int active, backup;

	srv_count_usable(be, &active, &backup);
	if (active + backup > 0)
		return;
	snprintf(msg, sizeof(msg), "%s %s has no server available!",
	    strcmp(be->kind, "listen") == 0 ? "proxy" : "backend", be->name);
	srv_log(be, LOG_EMERG, msg);
}

static void
changed(struct sb_srvstate *st)
{
	atomic_store(&st->last_change, srv_now_ms());
}

static void
enter_maint(const struct proxy *be, const struct server *srv)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	int was_usable = srv_usable(srv);
	char msg[1024];

	if (atomic_fetch_or(&st->admin, SRV_ADMF_FMAINT) & SRV_ADMF_FMAINT)
		return;
	changed(st);
	snprintf(msg, sizeof(msg), "%sServer %s/%s is going DOWN for "
	    "maintenance", backup_prefix(srv), be->name, srv->name);
	append_counts(be, srv, msg, sizeof(msg), 1);
	srv_log(be, was_usable ? LOG_ALERT : LOG_NOTICE, msg);
	if (was_usable)
		log_no_server(be);
}

/*
 * Out of maintenance, a checked server starts UP with its health at
 * rise, so that one failed check takes it down again (HAProxy's
 * srv_update_status); the checker sees the change and probes at once.
 */
static void
leave_maint(const struct proxy *be, const struct server *srv)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	/* "disabled" in the file (CMAINT) stays recorded, as in 2.6 */
	int admin = atomic_fetch_and(&st->admin, ~SRV_ADMF_FMAINT);
	char msg[512];

	if (!(admin & SRV_ADMF_FMAINT))
		return;
	atomic_store(&st->check_health, srv->rise);
	sb_set_server_up(srv, 1);
	changed(st);
	snprintf(msg, sizeof(msg), "%sServer %s/%s is UP/%s (leaving forced "
	    "maintenance).", backup_prefix(srv), be->name, srv->name,
	    admin & SRV_ADMF_FDRAIN ? "DRAIN" : "READY");
	srv_log(be, LOG_NOTICE, msg);
}

static void
enter_drain(const struct proxy *be, const struct server *srv)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	int admin = atomic_fetch_or(&st->admin, SRV_ADMF_FDRAIN);
	char msg[1024];

	if (admin & (SRV_ADMF_FDRAIN | SRV_ADMF_FMAINT))
		return;         /* in maintenance: it says nothing more */
	changed(st);
	snprintf(msg, sizeof(msg), "%sServer %s/%s enters drain state",
	    backup_prefix(srv), be->name, srv->name);
	append_counts(be, srv, msg, sizeof(msg), 0);
	srv_log(be, LOG_NOTICE, msg);
	log_no_server(be);
}

static void
leave_drain(const struct proxy *be, const struct server *srv)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	int admin = atomic_fetch_and(&st->admin, ~SRV_ADMF_FDRAIN);
	char msg[512];

	if (!(admin & SRV_ADMF_FDRAIN) || (admin & SRV_ADMF_FMAINT))
		return;
	changed(st);
	snprintf(msg, sizeof(msg), "%sServer %s/%s is %s (leaving forced "
	    "drain).", backup_prefix(srv), be->name, srv->name,
	    sb_server_up(srv) ? "UP" : "DOWN");
	srv_log(be, LOG_NOTICE, msg);
}

static void
signal_child(pid_t pid, void *arg)
{
	int *count = arg;

	if (kill(pid, SRV_SHUTDOWN_SIGNAL) == 0)
		(*count)++;
	else
		log_warn("shutdown sessions: pid %ld", (long)pid);
}

/* HAProxy's srv_adm_set_ready/drain/maint: each a clear and a set. */
int
srv_command(const struct proxy *be, const struct server *srv,
    enum srv_cmd cmd)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	int count = 0;

	switch (cmd) {
	case SRV_CMD_READY:
		leave_maint(be, srv);
		leave_drain(be, srv);
		break;
	case SRV_CMD_DRAIN:
		leave_maint(be, srv);
		enter_drain(be, srv);
		break;
	case SRV_CMD_MAINT:
		enter_maint(be, srv);
		leave_drain(be, srv);
		break;
	case SRV_CMD_ENABLE_HEALTH:
		atomic_store(&st->check_off, 0);
		break;
	case SRV_CMD_DISABLE_HEALTH:
		atomic_store(&st->check_off, 1);
		break;
	case SRV_CMD_SHUTDOWN_SESSIONS:
		sb_kill_sessions(srv, signal_child, &count);
		break;
	default:
		return -1;
	}
	return 0;
}
