/*
 * clicmd.c - what the runtime socket's commands do and answer, in
 * HAProxy 2.6's words (reference §14.5, management.txt §9.3): reports
 * read from the scoreboard and the stick tables, server changes through
 * srv_command() (srvstate.c), which logs them.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clicmd.h"
#include "counters.h"
#include "net.h"
#include "scoreboard.h"
#include "srvstate.h"
#include "statcsv.h"
#include "sticktable.h"
#include "version.h"

/* ---- show info ---- */

static void
info_uptime(struct cli_ctx *c, long up)
{
	cli_printf(c, "Uptime: %ldd %ldh%02ldm%02lds\nUptime_sec: %ld\n",
	    up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, up);
}

void
cmd_show_info(struct cli_ctx *c, char **w, int n)
{
	struct sb_ctr *p = sb_proc_ctr();
	struct timeval start = sb_start_time(), now;
	unsigned sec = (unsigned)time(NULL);
	struct rlimit rl = { 0, 0 };
	char host[256] = "";
	int conns = sb_process_conns();

	(void)w, (void)n;
	gettimeofday(&now, NULL);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	(void)gethostname(host, sizeof(host) - 1);
	cli_printf(c, "Name: wsproxy\nVersion: %s\nRelease_date: %s\n"
	    "Nbthread: 1\nNbproc: 1\nProcess_num: 1\nPid: %ld\n",
	    WSPROXY_VERSION, WSPROXY_RELEASE_DATE, (long)getppid());
	info_uptime(c, (long)(now.tv_sec - start.tv_sec));
	cli_printf(c, "Memmax_MB: 0\nPoolAlloc_MB: 0\nPoolUsed_MB: 0\n"
	    "PoolFailed: 0\nUlimit-n: %llu\nMaxsock: %llu\nMaxconn: %d\n"
	    "Hard_maxconn: %d\nCurrConns: %d\nCumConns: %llu\nCumReq: %llu\n",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_cur,
	    c->cfg->maxconn, c->cfg->maxconn, conns,
	    atomic_load(&p->conn_tot), atomic_load(&p->req_tot));
	cli_printf(c, "Maxpipes: 0\nPipesUsed: 0\nPipesFree: 0\n"
	    "ConnRate: %u\nConnRateLimit: 0\nMaxConnRate: %u\n"
	    "SessRate: %u\nSessRateLimit: 0\nMaxSessRate: %u\n",
	    freq_read(&p->conn_rate, sec), atomic_load(&p->conn_rate_max),
	    freq_read(&p->sess_rate, sec), atomic_load(&p->sess_rate_max));
	cli_printf(c, "Tasks: %d\nRun_queue: 0\nIdle_pct: 100\nnode: %s\n"
	    "Stopping: 0\nJobs: %d\nUnstoppable Jobs: 0\nListeners: %d\n"
	    "ActivePeers: 0\nConnectedPeers: 0\nDroppedLogs: 0\n"
	    "BusyPolling: 0\nFailedResolutions: 0\nTotalBytesOut: %llu\n"
	    "Start_time_sec: %ld\nTainted: 0\n", conns, host,
	    conns + c->cfg->nlisteners, c->cfg->nlisteners,
	    atomic_load(&p->bout), (long)start.tv_sec);
}

/* ---- show stat ---- */

static int
emit_to_cli(void *arg, const char *data, size_t len)
{
	struct cli_ctx *c = arg;

	cli_write(c, data, len);
	if (c->len >= 65536)
		cli_flush(c);
	return 0;
}

static int
parse_num(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < -1 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* show stat [IID TYPEMASK SID]: the three together, as 2.6 takes them */
void
cmd_show_stat(struct cli_ctx *c, char **w, int n)
{
	int iid = -1, mask = STATS_TYPE_FE | STATS_TYPE_BE | STATS_TYPE_SV;
	int sid = -1;

	if (n >= 5 && parse_num(w[2], &iid) == 0 &&
	    parse_num(w[3], &mask) == 0 && parse_num(w[4], &sid) == 0) {
		if (mask < 0)
			mask = STATS_TYPE_FE | STATS_TYPE_BE | STATS_TYPE_SV;
	} else if (n > 2) {
		/* typed, json, desc, up, no-maint: not here; never a
		 * silent full dump instead */
		cli_printf(c, "'show stat %s' is not supported by wsproxy: "
		    "use 'show stat' or 'show stat <iid> <type> <sid>'.\n",
		    w[2]);
		return;
	}
	(void)stats_csv_filter(c->cfg, 1, iid, mask, sid, emit_to_cli, c);
}

/* ---- servers ---- */

/* "backend/server": 2.6's cli_find_server(); NULL with the error said. */
static const struct server *
find_server(struct cli_ctx *c, const char *arg, const struct proxy **be)
{
	const char *slash = arg ? strchr(arg, '/') : NULL;

	if (slash == NULL || slash[1] == '\0') {
		cli_printf(c, "Require 'backend/server'.\n");
		return NULL;
	}
	*be = config_find_backend(c->cfg, arg, (size_t)(slash - arg));
	if (*be == NULL) {
		cli_printf(c, "No such backend.\n");
		return NULL;
	}
	for (int i = 0; i < (*be)->nservers; i++)
		if (strcmp((*be)->servers[i].name, slash + 1) == 0)
			return &(*be)->servers[i];
	cli_printf(c, "No such server.\n");
	return NULL;
}

/* HAProxy's HCHK_STATUS_* numbers (show servers state). */
static int
hchk_number(int status)
{
	static const int numbers[] = {
		[CHK_NONE] = 0, [CHK_INI] = 1, [CHK_SOCKERR] = 5,
		[CHK_L4OK] = 6, [CHK_L4TOUT] = 7, [CHK_L4CON] = 8,
		[CHK_L7TOUT] = 12, [CHK_L7RSP] = 13, [CHK_L7OK] = 15,
		[CHK_L7STS] = 17,
	};

	if (status < 0 || (size_t)status >= sizeof(numbers) /
	    sizeof(numbers[0]))
		return 0;
	return numbers[status];
}

static void
server_state_line(struct cli_ctx *c, const struct proxy *be,
    const struct server *srv, int id)
{
	const struct sb_srvstate *st = sb_srv_state(srv);
	int admin = atomic_load(&st->admin);
	int status = atomic_load(&st->check_status);
	int op = (admin & SRV_ADMF_FMAINT) || !sb_server_up(srv) ? 0 : 2;
	int result = status == CHK_NONE || status == CHK_INI ? 0 :
	    status == CHK_L4OK || status == CHK_L7OK ? 3 : 2;
	int chk_state = 0;
	char addr[128];

	/* CHK_ST_CONFIGURED 0x2, ENABLED 0x4, PAUSED 0x8 */
	if (srv_checked(srv)) {
		chk_state = 0x2;
		if (!atomic_load(&st->check_off))
			chk_state |= 0x4;
		if (admin & SRV_ADMF_FMAINT)
			chk_state |= 0x8;
	}
	net_ntop(&srv->addr.ss, addr, sizeof(addr));
	cli_printf(c, "%d %s %d %s %s %d %d %d %d %lld %d %d %d %d 0 0 0 - "
	    "%d - 0 %d - - 0\n", be->index + 1, be->name, id, srv->name,
	    addr, op, admin, atomic_load(&st->uweight), srv->weight,
	    (srv_now_ms() - atomic_load(&st->last_change)) / 1000,
	    hchk_number(status), result, atomic_load(&st->check_health),
	    chk_state, net_port(&srv->addr.ss), srv->check_port);
}

void
cmd_show_servers_state(struct cli_ctx *c, char **w, int n)
{
	const struct proxy *only = NULL;

	if (n > 3) {
		only = config_find_backend(c->cfg, w[3], strlen(w[3]));
		if (only == NULL) {
			cli_printf(c, "Can't find backend.\n");
			return;
		}
	}
	cli_printf(c, "1\n# be_id be_name srv_id srv_name srv_addr "
	    "srv_op_state srv_admin_state srv_uweight srv_iweight "
	    "srv_time_since_last_change srv_check_status srv_check_result "
	    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id "
	    "srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
	    "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n");
	for (const struct proxy *px = c->cfg->proxies; px; px = px->next) {
		if (!(px->cap & CAP_BE) || (only != NULL && px != only))
			continue;
		for (int i = 0; i < px->nservers; i++)
			server_state_line(c, px, &px->servers[i], i + 1);
	}
}

/* disable|enable server|health B/S, shutdown sessions server B/S */
void
cmd_server_state(struct cli_ctx *c, char **w, int n)
{
	int shutdown = strcmp(w[0], "shutdown") == 0;
	const char *arg = n > 2 + shutdown ? w[2 + shutdown] : NULL;
	int enable = strcmp(w[0], "enable") == 0;
	const struct proxy *be;
	const struct server *srv = find_server(c, arg, &be);
	enum srv_cmd cmd;

	if (srv == NULL)
		return;
	if (shutdown)
		cmd = SRV_CMD_SHUTDOWN_SESSIONS;
	else if (strcmp(w[1], "health") == 0)
		cmd = enable ? SRV_CMD_ENABLE_HEALTH : SRV_CMD_DISABLE_HEALTH;
	else
		cmd = enable ? SRV_CMD_READY : SRV_CMD_MAINT;
	(void)srv_command(be, srv, cmd);
}

/* 2.6's server_parse_weight_change_request(); NULL when applied. */
static const char *
change_weight(const struct proxy *be, const struct server *srv,
    const char *text)
{
	char *end;
	long w;

	if (text == NULL || *text == '\0')
		return "Require <weight> or <weight%>.\n";
	w = strtol(text, &end, 10);
	if (end == text)
		return "Empty weight string empty or preceded by garbage\n";
	if (end[0] == '%' && end[1] == '\0') {
		if (w < 0)
			return "Relative weight must be positive.\n";
		if (w > 25600)
			w = 25600;
		w = srv->weight * w / 100;
		if (w > 256)
			w = 256;
	} else if (w < 0 || w > 256) {
		return "Absolute weight can only be between 0 and 256 "
		    "inclusive.\n";
	} else if (*end != '\0') {
		return "Trailing garbage in weight string\n";
	}
	/* static-rr and source build their map once, in 2.6 */
	if (w != 0 && w != srv->weight && (be->balance == BALANCE_STATIC_RR ||
	    be->balance == BALANCE_SOURCE))
		return "Backend is using a static LB algorithm and only "
		    "accepts weights '0%' and '100%'.\n";
	atomic_store(&sb_srv_state(srv)->uweight, (int)w);
	return NULL;
}

/* set server B/S health up|down: what a check would have decided */
static void
force_health(struct cli_ctx *c, const struct proxy *be,
    const struct server *srv, const char *what)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	int up = what != NULL && strcmp(what, "up") == 0;
	char msg[512];

	if (what == NULL || (!up && strcmp(what, "down") != 0)) {
		cli_printf(c, "'set server <srv> health' expects 'up' or "
		    "'down' here ('stopping' is not supported by wsproxy).\n");
		return;
	}
	atomic_store(&st->check_health, up ? srv->rise + srv->fall - 1 : 0);
	if (sb_server_up(srv) == up)
		return;
	sb_set_server_up(srv, up);
	atomic_store(&st->last_change, srv_now_ms());
	snprintf(msg, sizeof(msg), "%sServer %s/%s is %s (forced by the "
	    "runtime API).", srv->backup ? "Backup " : "", be->name,
	    srv->name, up ? "UP" : "DOWN");
	srv_log(be, 5, msg);            /* LOG_NOTICE */
}

void
cmd_set_server(struct cli_ctx *c, char **w, int n)
{
	const struct proxy *be;
	const struct server *srv = find_server(c, n > 2 ? w[2] : NULL, &be);
	const char *what = n > 3 ? w[3] : "", *value = n > 4 ? w[4] : NULL;
	const char *err;

	if (srv == NULL)
		return;
	if (strcmp(what, "state") == 0) {
		static const char *const states[] = { "ready", "drain",
		    "maint" };
		static const enum srv_cmd cmds[] = { SRV_CMD_READY,
		    SRV_CMD_DRAIN, SRV_CMD_MAINT };
		for (int i = 0; i < 3; i++)
			if (value != NULL && strcmp(value, states[i]) == 0) {
				(void)srv_command(be, srv, cmds[i]);
				return;
			}
		cli_printf(c, "'set server <srv> state' expects 'ready', "
		    "'drain' and 'maint'.\n");
	} else if (strcmp(what, "weight") == 0) {
		if ((err = change_weight(be, srv, value)) != NULL)
			cli_printf(c, "%s", err);
	} else if (strcmp(what, "health") == 0) {
		force_health(c, be, srv, value);
	} else {
		cli_printf(c, "'set server <srv>' only supports 'state', "
		    "'weight' and 'health' in wsproxy (2.6 also has 'agent', "
		    "'addr', 'fqdn', 'check-addr', 'check-port' and 'ssl').\n");
	}
}

void
cmd_set_weight(struct cli_ctx *c, char **w, int n)
{
	const struct proxy *be;
	const struct server *srv = find_server(c, n > 2 ? w[2] : NULL, &be);
	const char *err;

	if (srv != NULL && (err = change_weight(be, srv,
	    n > 3 ? w[3] : NULL)) != NULL)
		cli_printf(c, "%s", err);
}

void
cmd_get_weight(struct cli_ctx *c, char **w, int n)
{
	const struct proxy *be;
	const struct server *srv = find_server(c, n > 2 ? w[2] : NULL, &be);

	if (srv != NULL)
		cli_printf(c, "%d (initial %d)\n",
		    atomic_load(&sb_srv_state(srv)->uweight), srv->weight);
}

/* ---- stick tables ---- */

static struct stk_table *
find_table(const struct config *cfg, const char *name)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		if (px->table != NULL && px->table->shm != NULL &&
		    strcmp(px->name, name) == 0)
			return px->table->shm;
	return NULL;
}

static int
parse_op(const char *s)
{
	static const char *const ops[] = { "eq", "ne", "lt", "le", "gt",
	    "ge" };

	for (int i = 0; i < 6; i++)
		if (strcmp(s, ops[i]) == 0)
			return STK_OP_EQ + i;
	return -1;
}

/* [data.X OP V] [key K] after the table's name; 0, or -1 (said). */
static int
parse_filter(struct cli_ctx *c, struct stk_table *t, char **w, int n,
    struct stk_filter *f, struct stk_key *key)
{
	for (int i = 3; i < n; i++) {
		char *end;
		if (strcmp(w[i], "key") == 0) {
			if (i + 1 >= n || stk_key_str(t, w[i + 1],
			    strlen(w[i + 1]), key) < 0) {
				cli_printf(c, "Invalid key\n");
				return -1;
			}
			f->key = key;
			i++;
			continue;
		}
		if (strncmp(w[i], "data.", 5) != 0) {
			cli_printf(c, "Optional argument only supports "
			    "\"data.<store_data_type>\" and key <key>\n");
			return -1;
		}
		if ((f->data = stk_data_find(w[i] + 5)) < 0) {
			cli_printf(c, "Unknown data type\n");
			return -1;
		}
		if (!stk_stores(t, (enum stk_data)f->data)) {
			cli_printf(c, "Data type not stored in this table\n");
			return -1;
		}
		if (i + 1 >= n || (f->op = parse_op(w[i + 1])) < 0) {
			cli_printf(c, "Require and operator among \"eq\", "
			    "\"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n");
			return -1;
		}
		if (i + 2 >= n || (f->value = strtoll(w[i + 2], &end, 10),
		    *w[i + 2] == '\0' || *end != '\0')) {
			cli_printf(c, "Require a valid integer value to "
			    "compare against\n");
			return -1;
		}
		i += 2;
	}
	return 0;
}

void
cmd_show_table(struct cli_ctx *c, char **w, int n)
{
	struct stk_filter f = { 0, -1, 0, 0, NULL };
	struct stk_key key;
	struct stk_table *t;

	cli_flush(c);           /* the tables write to the socket */
	if (n < 3) {
		f.header_only = 1;
		for (const struct proxy *px = c->cfg->proxies; px;
		    px = px->next)
			if (px->table != NULL && px->table->shm != NULL &&
			    stk_dump_filter(px->table->shm, c->fd, &f) < 0)
				_exit(0);
		return;
	}
	if ((t = find_table(c->cfg, w[2])) == NULL) {
		cli_printf(c, "No such table\n");
		return;
	}
	if (parse_filter(c, t, w, n, &f, &key) < 0)
		return;
	if (stk_dump_filter(t, c->fd, &f) < 0)
		_exit(0);
}

void
cmd_clear_table(struct cli_ctx *c, char **w, int n)
{
	struct stk_filter f = { 0, -1, 0, 0, NULL };
	struct stk_key key;
	struct stk_table *t;

	if (n < 3) {
		cli_printf(c, "\"clear table\" needs a table name.\n");
		return;
	}
	if ((t = find_table(c->cfg, w[2])) == NULL) {
		cli_printf(c, "No such table\n");
		return;
	}
	if (parse_filter(c, t, w, n, &f, &key) < 0)
		return;
	(void)stk_clear(t, &f);
}
