/*
 * promex.c - the Prometheus exporter (promex.h). A family is written
 * whole: its "# HELP" and "# TYPE" lines, then one series per object
 * (proxy, server, table), as Prometheus' parser wants each family's
 * samples together. States are one series per state, 0 or 1, as 2.6
 * does it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "promex.h"
#include "scoreboard.h"
#include "srvstate.h"
#include "statspage.h"
#include "version.h"

/* What one series is about. */
struct pm_obj {
	const struct config *cfg;
	const struct proxy *px;
	const struct server *srv;
	struct sb_ctr *c;
	unsigned now;
};

typedef double (*pm_get)(const struct pm_obj *o);

struct pm_metric {
	const char *name;
	const char *type;       /* "gauge", "counter" */
	const char *help;
	pm_get get;
};

static double
ld(atomic_ullong *c)
{
	return (double)atomic_load_explicit(c, memory_order_relaxed);
}

static double
lu(atomic_uint *c)
{
	return (double)atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- labels and lines ---- */

static void
label_value(struct strbuf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			strbuf_str(o, "\\n");
		else
			strbuf_add(o, v, 1);
	}
}

static void
family_head(struct strbuf *o, const char *family, const struct pm_metric *m)
{
	strbuf_printf(o, "# HELP haproxy_%s_%s %s\n# TYPE haproxy_%s_%s %s\n",
	    family, m->name, m->help, family, m->name, m->type);
}

/* name{proxy="..",server="..",EXTRA} value */
static void
series(struct strbuf *o, const char *family, const char *name,
    const struct pm_obj *ob, const char *extra, double value)
{
	int any = 0;

	strbuf_printf(o, "haproxy_%s_%s", family, name);
	if (ob->px != NULL) {
		strbuf_str(o, "{proxy=\"");
		label_value(o, ob->px->name);
		strbuf_str(o, "\"");
		any = 1;
	}
	if (ob->srv != NULL) {
		strbuf_str(o, ",server=\"");
		label_value(o, ob->srv->name);
		strbuf_str(o, "\"");
	}
	if (extra != NULL) {
		strbuf_str(o, any ? "," : "{");
		strbuf_str(o, extra);
		any = 1;
	}
	strbuf_printf(o, "%s %.17g\n", any ? "}" : "", value);
}

/* ---- process ---- */

static double
p_uptime(const struct pm_obj *o)
{
	struct timeval start = sb_start_time();

	return start.tv_sec ? (double)((long long)o->now - start.tv_sec) : 0;
}

static double
p_start(const struct pm_obj *o)
{
	(void)o;
	return (double)sb_start_time().tv_sec;
}

static double
p_one(const struct pm_obj *o)
{
	(void)o;
	return 1;
}

static double
p_maxconn(const struct pm_obj *o)
{
	return o->cfg->maxconn;
}

static double
p_maxfds(const struct pm_obj *o)
{
	struct rlimit r;

	(void)o;
	return getrlimit(RLIMIT_NOFILE, &r) == 0 ? (double)r.rlim_cur : 0;
}

static double
p_curconns(const struct pm_obj *o)
{
	struct sb_counts n;

	if (o->cfg->proxies == NULL)
		return 0;
	sb_read(o->cfg->proxies, NULL, NULL, &n);
	return n.process;
}

static double g_conn_tot(const struct pm_obj *o) { return ld(&o->c->conn_tot); }
static double g_req_tot(const struct pm_obj *o) { return ld(&o->c->req_tot); }
static double g_stot(const struct pm_obj *o) { return ld(&o->c->stot); }
static double g_bin(const struct pm_obj *o) { return ld(&o->c->bin); }
static double g_bout(const struct pm_obj *o) { return ld(&o->c->bout); }
static double g_dreq(const struct pm_obj *o) { return ld(&o->c->dreq); }
static double g_dresp(const struct pm_obj *o) { return ld(&o->c->dresp); }
static double g_ereq(const struct pm_obj *o) { return ld(&o->c->ereq); }
static double g_econ(const struct pm_obj *o) { return ld(&o->c->econ); }
static double g_eresp(const struct pm_obj *o) { return ld(&o->c->eresp); }
static double g_wretr(const struct pm_obj *o) { return ld(&o->c->wretr); }
static double g_wredis(const struct pm_obj *o) { return ld(&o->c->wredis); }
static double g_lbtot(const struct pm_obj *o) { return ld(&o->c->lbtot); }
static double g_dcon(const struct pm_obj *o) { return ld(&o->c->dcon); }
static double g_dses(const struct pm_obj *o) { return ld(&o->c->dses); }
static double g_icpt(const struct pm_obj *o) { return ld(&o->c->intercepted); }
static double g_cabrt(const struct pm_obj *o) { return ld(&o->c->cli_abrt); }
static double g_sabrt(const struct pm_obj *o) { return ld(&o->c->srv_abrt); }
static double g_smax(const struct pm_obj *o) { return lu(&o->c->smax); }
static double g_qmax(const struct pm_obj *o) { return lu(&o->c->qmax); }
static double g_srmax(const struct pm_obj *o) { return lu(&o->c->sess_rate_max); }
static double g_crmax(const struct pm_obj *o) { return lu(&o->c->conn_rate_max); }
static double g_rrmax(const struct pm_obj *o) { return lu(&o->c->req_rate_max); }

static double
g_srate(const struct pm_obj *o)
{
	return freq_read(&o->c->sess_rate, o->now);
}

static double
g_crate(const struct pm_obj *o)
{
	return freq_read(&o->c->conn_rate, o->now);
}

static double
g_last(const struct pm_obj *o)
{
	long long last = atomic_load_explicit(&o->c->last_sess,
	    memory_order_relaxed);

	return last > 0 ? (double)((long long)o->now - last) : -1;
}

static const struct pm_metric process_metrics[] = {
	{ "nbthread", "gauge", "Number of started threads (global.nbthread)", p_one },
	{ "nbproc", "gauge", "Number of started processes (historical, always 1)", p_one },
	{ "relative_process_id", "gauge", "Relative process id, starting at 1", p_one },
	{ "uptime_seconds", "gauge", "How long ago this worker process was started (seconds)", p_uptime },
	{ "start_time_seconds", "gauge", "Start time in seconds", p_start },
	{ "max_fds", "gauge", "Maximum number of open file descriptors; 0=unset", p_maxfds },
	{ "max_connections", "gauge", "Maximum number of concurrent connections (global.maxconn)", p_maxconn },
	{ "current_connections", "gauge", "Number of active sessions", p_curconns },
	{ "connections_total", "counter", "Total number of created sessions", g_conn_tot },
	{ "requests_total", "counter", "Total number of requests (TCP or HTTP)", g_req_tot },
	{ "current_connection_rate", "gauge", "Current number of connections per second over last elapsed second", g_crate },
	{ "max_connection_rate", "gauge", "Maximum observed number of connections per second", g_crmax },
	{ "current_session_rate", "gauge", "Current number of sessions per second over last elapsed second", g_srate },
	{ "max_session_rate", "gauge", "Maximum observed number of sessions per second", g_srmax },
};

static void
process_family(const struct config *cfg, struct strbuf *o, unsigned now)
{
	struct pm_obj ob = { cfg, NULL, NULL, sb_proc_ctr(), now };

	for (size_t i = 0; i < sizeof(process_metrics) /
	    sizeof(process_metrics[0]); i++) {
		family_head(o, "process", &process_metrics[i]);
		series(o, "process", process_metrics[i].name, &ob, NULL,
		    process_metrics[i].get(&ob));
	}
	strbuf_str(o, "# HELP haproxy_process_build_info HAProxy build info."
	    "\n# TYPE haproxy_process_build_info gauge\n"
	    "haproxy_process_build_info{version=\"wsproxy-" WSPROXY_VERSION
	    "\"} 1\n");
}

/* ---- frontends, backends, servers ---- */

static double
f_cur(const struct pm_obj *o)
{
	return sb_frontend_conns(o->px);
}

static double
f_limit(const struct pm_obj *o)
{
	return o->px->maxconn;
}

static double
b_cur(const struct pm_obj *o)
{
	struct sb_counts n;

	sb_read(o->px, o->px, o->srv, &n);
	return o->srv ? n.server : n.backend;
}

static double
b_queue(const struct pm_obj *o)
{
	struct sb_counts n;

	if (o->srv != NULL)
		return 0;       /* queued per backend only */
	sb_read(o->px, o->px, NULL, &n);
	return n.be_queue;
}

static double
s_limit(const struct pm_obj *o)
{
	return o->srv->maxconn;
}

static double
s_weight(const struct pm_obj *o)
{
	return atomic_load_explicit(&sb_srv_state(o->srv)->uweight,
	    memory_order_relaxed);
}

static int
srv_serving(const struct server *srv)
{
	char status[64];

	srv_status_text(srv, status, sizeof(status));
	return (strncmp(status, "UP", 2) == 0 ||
	    strncmp(status, "no check", 8) == 0) &&
	    atomic_load_explicit(&sb_srv_state(srv)->uweight,
	    memory_order_relaxed) > 0;
}

/* Usable servers of the backend: backup 0 active, 1 backup, 2 weight. */
static double
b_servers(const struct pm_obj *o, int what)
{
	double n = 0;

	for (int i = 0; i < o->px->nservers; i++) {
		const struct server *srv = &o->px->servers[i];
		if (!srv_serving(srv))
			continue;
		if (what == 2)
			n += atomic_load_explicit(&sb_srv_state(srv)->uweight,
			    memory_order_relaxed);
		else if (srv->backup == what)
			n++;
	}
	return n;
}

static double b_act(const struct pm_obj *o) { return b_servers(o, 0); }
static double b_bck(const struct pm_obj *o) { return b_servers(o, 1); }
static double b_weight(const struct pm_obj *o) { return b_servers(o, 2); }

static double
s_chkfail(const struct pm_obj *o)
{
	return ld(&sb_srv_state(o->srv)->chkfail);
}

static double
s_chkdown(const struct pm_obj *o)
{
	return ld(&sb_srv_state(o->srv)->chkdown);
}

static double
s_changed(const struct pm_obj *o)
{
	long long ch = atomic_load_explicit(&sb_srv_state(o->srv)->last_change,
	    memory_order_relaxed);
	long long ch_sec = ch / 1000;

	return ch > 0 ? (double)((long long)o->now - ch_sec) : 0;
}

static double
s_downtime(const struct pm_obj *o)
{
	long long sec = atomic_load_explicit(&sb_srv_state(o->srv)->downtime_ms,
	    memory_order_relaxed) / 1000;

	return (double)sec;
}

static double
s_chkcode(const struct pm_obj *o)
{
	return atomic_load_explicit(&sb_srv_state(o->srv)->check_code,
	    memory_order_relaxed);
}

static double
s_chkdur(const struct pm_obj *o)
{
	int ms = atomic_load_explicit(&sb_srv_state(o->srv)->check_duration,
	    memory_order_relaxed);

	return ms > 0 ? ms / 1000.0 : 0;
}

static const struct pm_metric frontend_metrics[] = {
	{ "current_sessions", "gauge", "Current number of active sessions.", f_cur },
	{ "max_sessions", "gauge", "Maximum observed number of active sessions.", g_smax },
	{ "limit_sessions", "gauge", "Configured session limit.", f_limit },
	{ "sessions_total", "counter", "Total number of sessions.", g_stot },
	{ "current_session_rate", "gauge", "Current number of sessions per second over last elapsed second.", g_srate },
	{ "max_session_rate", "gauge", "Maximum observed number of sessions per second.", g_srmax },
	{ "connections_rate_max", "gauge", "Maximum observed number of connections per second.", g_crmax },
	{ "connections_total", "counter", "Total number of connections.", g_conn_tot },
	{ "bytes_in_total", "counter", "Current total of incoming bytes.", g_bin },
	{ "bytes_out_total", "counter", "Current total of outgoing bytes.", g_bout },
	{ "requests_denied_total", "counter", "Total number of denied requests.", g_dreq },
	{ "responses_denied_total", "counter", "Total number of denied responses.", g_dresp },
	{ "request_errors_total", "counter", "Total number of request errors.", g_ereq },
	{ "denied_connections_total", "counter", "Total number of requests denied by \"tcp-request connection\" rules.", g_dcon },
	{ "denied_sessions_total", "counter", "Total number of requests denied by \"tcp-request session\" rules.", g_dses },
	{ "http_requests_rate_max", "gauge", "Maximum observed number of HTTP requests per second.", g_rrmax },
	{ "http_requests_total", "counter", "Total number of HTTP requests received.", g_req_tot },
	{ "intercepted_requests_total", "counter", "Total number of intercepted HTTP requests.", g_icpt },
};

static const struct pm_metric backend_metrics[] = {
	{ "current_queue", "gauge", "Current number of queued requests.", b_queue },
	{ "max_queue", "gauge", "Maximum observed number of queued requests.", g_qmax },
	{ "current_sessions", "gauge", "Current number of active sessions.", b_cur },
	{ "max_sessions", "gauge", "Maximum observed number of active sessions.", g_smax },
	{ "sessions_total", "counter", "Total number of sessions.", g_stot },
	{ "current_session_rate", "gauge", "Current number of sessions per second over last elapsed second.", g_srate },
	{ "max_session_rate", "gauge", "Maximum observed number of sessions per second.", g_srmax },
	{ "last_session_seconds", "gauge", "How long ago some traffic was seen on this object (in seconds).", g_last },
	{ "bytes_in_total", "counter", "Current total of incoming bytes.", g_bin },
	{ "bytes_out_total", "counter", "Current total of outgoing bytes.", g_bout },
	{ "requests_denied_total", "counter", "Total number of denied requests.", g_dreq },
	{ "responses_denied_total", "counter", "Total number of denied responses.", g_dresp },
	{ "connection_errors_total", "counter", "Total number of connection errors.", g_econ },
	{ "response_errors_total", "counter", "Total number of response errors.", g_eresp },
	{ "retry_warnings_total", "counter", "Total number of retry warnings.", g_wretr },
	{ "redispatch_warnings_total", "counter", "Total number of redispatch warnings.", g_wredis },
	{ "client_aborts_total", "counter", "Total number of data transfers aborted by the client.", g_cabrt },
	{ "server_aborts_total", "counter", "Total number of data transfers aborted by the server.", g_sabrt },
	{ "weight", "gauge", "Service weight.", b_weight },
	{ "active_servers", "gauge", "Current number of active servers.", b_act },
	{ "backup_servers", "gauge", "Current number of backup servers.", b_bck },
	{ "loadbalanced_total", "counter", "Total number of times a service was selected, either for new sessions, or when redispatching.", g_lbtot },
	{ "http_requests_total", "counter", "Total number of HTTP requests received.", g_req_tot },
};

static const struct pm_metric server_metrics[] = {
	{ "current_queue", "gauge", "Current number of queued requests.", b_queue },
	{ "max_queue", "gauge", "Maximum observed number of queued requests.", g_qmax },
	{ "current_sessions", "gauge", "Current number of active sessions.", b_cur },
	{ "max_sessions", "gauge", "Maximum observed number of active sessions.", g_smax },
	{ "limit_sessions", "gauge", "Configured session limit.", s_limit },
	{ "sessions_total", "counter", "Total number of sessions.", g_stot },
	{ "current_session_rate", "gauge", "Current number of sessions per second over last elapsed second.", g_srate },
	{ "max_session_rate", "gauge", "Maximum observed number of sessions per second.", g_srmax },
	{ "last_session_seconds", "gauge", "How long ago some traffic was seen on this object (in seconds).", g_last },
	{ "bytes_in_total", "counter", "Current total of incoming bytes.", g_bin },
	{ "bytes_out_total", "counter", "Current total of outgoing bytes.", g_bout },
	{ "responses_denied_total", "counter", "Total number of denied responses.", g_dresp },
	{ "connection_errors_total", "counter", "Total number of connection errors.", g_econ },
	{ "response_errors_total", "counter", "Total number of response errors.", g_eresp },
	{ "retry_warnings_total", "counter", "Total number of retry warnings.", g_wretr },
	{ "redispatch_warnings_total", "counter", "Total number of redispatch warnings.", g_wredis },
	{ "client_aborts_total", "counter", "Total number of data transfers aborted by the client.", g_cabrt },
	{ "server_aborts_total", "counter", "Total number of data transfers aborted by the server.", g_sabrt },
	{ "weight", "gauge", "Service weight.", s_weight },
	{ "check_failures_total", "counter", "Total number of failed individual health checks per server/backend, since the worker process started.", s_chkfail },
	{ "check_up_down_total", "counter", "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started.", s_chkdown },
	{ "check_last_change_seconds", "gauge", "How long ago the last server state changed, in seconds.", s_changed },
	{ "downtime_seconds_total", "counter", "Total downtime (in seconds) for the service.", s_downtime },
	{ "check_code", "gauge", "layer5-7 code, if available of the last health check.", s_chkcode },
	{ "check_duration_seconds", "gauge", "Total duration of the latest server health check, in seconds.", s_chkdur },
	{ "loadbalanced_total", "counter", "Total number of times a service was selected, either for new sessions, or when redispatching.", g_lbtot },
};

/* Which objects a family is written for. */
enum pm_kind { PM_FE, PM_BE, PM_SRV };

/* Calls fn for each object of kind, with ob filled. */
static void
each_object(const struct config *cfg, enum pm_kind kind, unsigned now,
    void (*fn)(struct strbuf *, const char *, const struct pm_obj *,
    const void *), struct strbuf *o, const char *family, const void *arg)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		struct pm_obj ob = { cfg, px, NULL, NULL, now };
		if (kind == PM_FE && (px->cap & CAP_FE)) {
			ob.c = sb_fe_ctr(px);
			fn(o, family, &ob, arg);
		} else if (kind == PM_BE && (px->cap & CAP_BE)) {
			ob.c = sb_be_ctr(px);
			fn(o, family, &ob, arg);
		} else if (kind == PM_SRV && (px->cap & CAP_BE)) {
			for (int i = 0; i < px->nservers; i++) {
				ob.srv = &px->servers[i];
				ob.c = sb_srv_ctr(ob.srv);
				fn(o, family, &ob, arg);
			}
		}
	}
}

static void
plain_series(struct strbuf *o, const char *family, const struct pm_obj *ob,
    const void *arg)
{
	const struct pm_metric *m = arg;

	series(o, family, m->name, ob, NULL, m->get(ob));
}

static void
responses_series(struct strbuf *o, const char *family, const struct pm_obj *ob,
    const void *arg)
{
	static const char *const codes[] = { "1xx", "2xx", "3xx", "4xx", "5xx",
	    "other" };
	char label[32];

	(void)arg;
	for (int k = 0; k < 6; k++) {
		snprintf(label, sizeof(label), "code=\"%s\"", codes[k]);
		series(o, family, "http_responses_total", ob, label,
		    ld(&ob->c->hrsp[k]));
	}
}

/* A proxy's state: a frontend is UP, a backend while a server serves. */
static void
proxy_status_series(struct strbuf *o, const char *family,
    const struct pm_obj *ob, const void *arg)
{
	int up = 1;

	(void)arg;
	if (strcmp(family, "backend") == 0)
		up = b_act(ob) + b_bck(ob) > 0;
	series(o, family, "status", ob, "state=\"DOWN\"", !up);
	series(o, family, "status", ob, "state=\"UP\"", up);
}

static void
server_status_series(struct strbuf *o, const char *family,
    const struct pm_obj *ob, const void *arg)
{
	static const char *const states[] = { "DOWN", "UP", "MAINT", "DRAIN",
	    "NOLB" };
	char status[64], label[32];
	size_t n;

	(void)arg;
	srv_status_text(ob->srv, status, sizeof(status));
	n = strcspn(status, " ");       /* "UP 1/3" is UP */
	if (strcmp(status, "no check") == 0)
		n = 0;
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		int on = n ? strlen(states[k]) == n &&
		    strncmp(status, states[k], n) == 0 :
		    strcmp(states[k], "UP") == 0;
		snprintf(label, sizeof(label), "state=\"%s\"", states[k]);
		series(o, family, "status", ob, label, on);
	}
}

static void
check_status_series(struct strbuf *o, const char *family,
    const struct pm_obj *ob, const void *arg)
{
	struct sb_srvstate *st = sb_srv_state(ob->srv);
	int now_st = atomic_load_explicit(&st->check_status,
	    memory_order_relaxed);
	char label[48];

	(void)arg;
	if (!ob->srv->check)
		return;
	for (int k = CHK_INI; k <= CHK_L7STS; k++) {
		snprintf(label, sizeof(label), "state=\"%s\"",
		    chk_status_name(k));
		series(o, family, "check_status", ob, label, k == now_st);
	}
}

static void
special(struct strbuf *o, const struct config *cfg, enum pm_kind kind,
    const char *family, unsigned now)
{
	static const struct pm_metric status = { "status", "gauge",
	    "Current status of the service.", NULL };
	static const struct pm_metric responses = { "http_responses_total",
	    "counter", "Total number of HTTP responses.", NULL };
	static const struct pm_metric check = { "check_status", "gauge",
	    "Status of last health check, per state value", NULL };

	family_head(o, family, &status);
	each_object(cfg, kind, now, kind == PM_SRV ? server_status_series :
	    proxy_status_series, o, family, NULL);
	family_head(o, family, &responses);
	each_object(cfg, kind, now, responses_series, o, family, NULL);
	if (kind == PM_SRV) {
		family_head(o, family, &check);
		each_object(cfg, kind, now, check_status_series, o, family,
		    NULL);
	}
}

static void
object_family(struct strbuf *o, const struct config *cfg, enum pm_kind kind,
    const struct pm_metric *metrics, size_t n, unsigned now)
{
	static const char *const families[] = { "frontend", "backend",
	    "server" };

	for (size_t i = 0; i < n; i++) {
		family_head(o, families[kind], &metrics[i]);
		each_object(cfg, kind, now, plain_series, o, families[kind],
		    &metrics[i]);
	}
	special(o, cfg, kind, families[kind], now);
}

static void
sticktable_family(const struct config *cfg, struct strbuf *o)
{
	static const char *const what[2][2] = {
		{ "size", "Stick table size." },
		{ "used", "Number of entries used in this stick table." },
	};

	for (int k = 0; k < 2; k++) {
		strbuf_printf(o, "# HELP haproxy_sticktable_%s %s\n"
		    "# TYPE haproxy_sticktable_%s gauge\n", what[k][0],
		    what[k][1], what[k][0]);
		for (const struct proxy *px = cfg->proxies; px; px = px->next) {
			struct stk_table *t = px->table ? px->table->shm : NULL;
			if (t == NULL)
				continue;
			strbuf_str(o, "haproxy_sticktable_");
			strbuf_str(o, what[k][0]);
			strbuf_str(o, "{name=\"");
			label_value(o, px->name);
			strbuf_printf(o, "\"} %u\n", k == 0 ? stk_size(t) :
			    stk_entries(t));
		}
	}
}

void
promex_write(const struct config *cfg, struct strbuf *o)
{
	unsigned now = (unsigned)time(NULL);

	process_family(cfg, o, now);
	object_family(o, cfg, PM_FE, frontend_metrics,
	    sizeof(frontend_metrics) / sizeof(frontend_metrics[0]), now);
	object_family(o, cfg, PM_BE, backend_metrics,
	    sizeof(backend_metrics) / sizeof(backend_metrics[0]), now);
	object_family(o, cfg, PM_SRV, server_metrics,
	    sizeof(server_metrics) / sizeof(server_metrics[0]), now);
	sticktable_family(cfg, o);
}

enum client_next
promex_serve(struct session *s, const struct proxy *px,
    const struct http_msg *req, const struct request_info *ri,
    size_t head_len)
{
	struct strbuf body = { 0 };
	enum client_next next;

	promex_write(s->cfg, &body);
	next = stats_answer(s, px, req, ri, head_len, 200,
	    "content-type: text/plain; version=0.0.4\r\n", body.data,
	    body.len);
	strbuf_free(&body);
	return next;
}
