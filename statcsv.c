/*
 * statcsv.c - the statistics as HAProxy 2.6's CSV (reference §14.3):
 * the 103 fixed columns, the "-" and the 25 per-module ones, every line
 * ending with a comma. A field that does not apply to a row is empty,
 * as in 2.6; so is one whose value wsproxy does not keep (the queue,
 * connect and response time averages, compression, idle connections),
 * rather than a made-up number.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "net.h"
#include "scoreboard.h"
#include "srvstate.h"
#include "statcsv.h"

/* HAProxy's stat fields (stats-t.h: ST_F_*), in column order. */
enum {
	F_PXNAME, F_SVNAME, F_QCUR, F_QMAX, F_SCUR, F_SMAX, F_SLIM, F_STOT,
	F_BIN, F_BOUT, F_DREQ, F_DRESP, F_EREQ, F_ECON, F_ERESP, F_WRETR,
	F_WREDIS, F_STATUS, F_WEIGHT, F_ACT, F_BCK, F_CHKFAIL, F_CHKDOWN,
	F_LASTCHG, F_DOWNTIME, F_QLIMIT, F_PID, F_IID, F_SID, F_THROTTLE,
	F_LBTOT, F_TRACKED, F_TYPE, F_RATE, F_RATE_LIM, F_RATE_MAX,
	F_CHECK_STATUS, F_CHECK_CODE, F_CHECK_DURATION, F_HRSP_1XX,
	F_HRSP_2XX, F_HRSP_3XX, F_HRSP_4XX, F_HRSP_5XX, F_HRSP_OTHER,
	F_HANAFAIL, F_REQ_RATE, F_REQ_RATE_MAX, F_REQ_TOT, F_CLI_ABRT,
	F_SRV_ABRT, F_COMP_IN, F_COMP_OUT, F_COMP_BYP, F_COMP_RSP,
	F_LASTSESS, F_LAST_CHK, F_LAST_AGT, F_QTIME, F_CTIME, F_RTIME,
	F_TTIME, F_AGENT_STATUS, F_AGENT_CODE, F_AGENT_DURATION,
	F_CHECK_DESC, F_AGENT_DESC, F_CHECK_RISE, F_CHECK_FALL,
	F_CHECK_HEALTH, F_AGENT_RISE, F_AGENT_FALL, F_AGENT_HEALTH, F_ADDR,
	F_COOKIE, F_MODE, F_ALGO, F_CONN_RATE, F_CONN_RATE_MAX, F_CONN_TOT,
	F_INTERCEPTED, F_DCON, F_DSES, F_WREW, F_CONNECT, F_REUSE,
	F_CACHE_LOOKUPS, F_CACHE_HITS, F_SRV_ICUR, F_SRC_ILIM, F_QT_MAX,
	F_CT_MAX, F_RT_MAX, F_TT_MAX, F_EINT, F_IDLE_CONN_CUR,
	F_SAFE_CONN_CUR, F_USED_CONN_CUR, F_NEED_CONN_EST, F_UWEIGHT,
	F_AGG_SRV_STATUS, F_AGG_SRV_CHECK_STATUS, F_AGG_CHECK_STATUS,
	F_FIXED                         /* 103 */
};

/* The per-module columns after "-" (2.6.12's ssl, h2 and h1 modules,
 * 24 in the header; the reference's "25" counts the "-"): always empty
 * here. */
#define MODULE_COLUMNS 24

static const char csv_header[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,"
    "ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,"
    "lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,"
    "rate,rate_lim,rate_max,check_status,check_code,check_duration,"
    "hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,"
    "comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,"
    "ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,"
    "check_rise,check_fall,check_health,agent_rise,agent_fall,"
    "agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,"
    "intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,"
    "idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,"
    "agg_server_status,agg_server_check_status,agg_check_status,-,"
    "ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,"
    "h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,"
    "h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,"
    "h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,"
    "h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
    "h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

#define FIELD_MAX 160           /* a unix socket's path fits */

struct row {
	char f[F_FIXED][FIELD_MAX];
	unsigned now;                   /* seconds, for the rates */
	long long now_ms;               /* ms since the epoch */
};

static void __attribute__((format(printf, 3, 4)))
set(struct row *r, int field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->f[field], FIELD_MAX, fmt, ap);
	va_end(ap);
}

static void
set_u(struct row *r, int field, unsigned long long v)
{
	set(r, field, "%llu", v);
}

static unsigned long long
ld(const atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static const char *const algo_names[] = {
	[BALANCE_ROUNDROBIN] = "roundrobin",
	[BALANCE_STATIC_RR] = "static-rr",
	[BALANCE_LEASTCONN] = "leastconn",
	[BALANCE_FIRST] = "first",
	[BALANCE_SOURCE] = "source",
};

/* The columns every row has: names, ids, type, mode. */
static void
fill_common(struct row *r, const struct proxy *px, const char *svname,
    int type, int sid)
{
	memset(r->f, 0, sizeof(r->f));
	set(r, F_PXNAME, "%s", px->name);
	set(r, F_SVNAME, "%s", svname);
	set(r, F_PID, "1");
	set(r, F_IID, "%d", px->index + 1);
	set(r, F_SID, "%d", sid);
	set(r, F_TYPE, "%d", type);
	set(r, F_MODE, "%s", px->mode == MODE_HTTP ? "http" : "tcp");
}

/* Totals every row type has. */
static void
fill_traffic(struct row *r, struct sb_ctr *c)
{
	set_u(r, F_STOT, ld(&c->stot));
	set_u(r, F_BIN, ld(&c->bin));
	set_u(r, F_BOUT, ld(&c->bout));
	set_u(r, F_SMAX, atomic_load(&c->smax));
	set_u(r, F_RATE, freq_read(&c->sess_rate, r->now));
	set_u(r, F_RATE_MAX, atomic_load(&c->sess_rate_max));
}

static void
fill_http(struct row *r, const struct proxy *px, struct sb_ctr *c)
{
	if (px->mode != MODE_HTTP)
		return;
	for (int i = 0; i < 6; i++)
		set_u(r, F_HRSP_1XX + i, ld(&c->hrsp[i]));
	set_u(r, F_REQ_TOT, ld(&c->req_tot));
}

/* Seconds since the last session, -1 for never (2.6's lastsess). */
static void
fill_lastsess(struct row *r, struct sb_ctr *c)
{
	long long last = atomic_load(&c->last_sess);

	set(r, F_LASTSESS, "%lld", last == 0 ? -1LL :
	    (long long)time(NULL) - last);
}

static void
fill_frontend(struct row *r, const struct proxy *px)
{
	struct sb_ctr *c = sb_fe_ctr(px);

	fill_common(r, px, "FRONTEND", 0, 0);
	fill_traffic(r, c);
	set(r, F_SCUR, "%d", sb_frontend_conns(px));
	set(r, F_SLIM, "%d", px->maxconn);
	set_u(r, F_DREQ, ld(&c->dreq));
	set_u(r, F_DRESP, ld(&c->dresp));
	set_u(r, F_EREQ, ld(&c->ereq));
	set(r, F_STATUS, "OPEN");
	set(r, F_RATE_LIM, "0");
	fill_http(r, px, c);
	if (px->mode == MODE_HTTP) {
		set_u(r, F_REQ_RATE, freq_read(&c->req_rate, r->now));
		set_u(r, F_REQ_RATE_MAX, atomic_load(&c->req_rate_max));
		for (int f = F_COMP_IN; f <= F_COMP_RSP; f++)
			set(r, f, "0");
		set_u(r, F_INTERCEPTED, ld(&c->intercepted));
	}
	set_u(r, F_CONN_RATE, freq_read(&c->conn_rate, r->now));
	set_u(r, F_CONN_RATE_MAX, atomic_load(&c->conn_rate_max));
	set_u(r, F_CONN_TOT, ld(&c->conn_tot));
	set_u(r, F_DCON, ld(&c->dcon));
	set_u(r, F_DSES, ld(&c->dses));
	set(r, F_WREW, "0");
	set(r, F_EINT, "0");
}

/* Seconds a server has been down: before its last UP, and now if down. */
static long long
downtime_s(const struct server *srv, const struct row *r)
{
	const struct sb_srvstate *st = sb_srv_state(srv);
	long long ms = atomic_load(&st->downtime_ms);

	if (!sb_server_up(srv))
		ms += r->now_ms - atomic_load(&st->last_change);
	return ms / 1000;
}

static void
fill_check(struct row *r, const struct server *srv)
{
	const struct sb_srvstate *st = sb_srv_state(srv);
	int status = atomic_load(&st->check_status);
	int duration = atomic_load(&st->check_duration);

	if (!srv_check_enabled(srv))
		return;
	set(r, F_CHECK_STATUS, "%s", chk_status_name(status));
	if (status == CHK_L7OK || status == CHK_L7STS)
		set(r, F_CHECK_CODE, "%d", atomic_load(&st->check_code));
	if (duration >= 0 && status != CHK_NONE)
		set(r, F_CHECK_DURATION, "%d", duration);
	set(r, F_CHECK_DESC, "%s", chk_status_desc(status));
	set(r, F_CHECK_RISE, "%d", srv->rise);
	set(r, F_CHECK_FALL, "%d", srv->fall);
	set(r, F_CHECK_HEALTH, "%d", atomic_load(&st->check_health));
}

static void
fill_server(struct row *r, const struct proxy *px, const struct server *srv,
    int sid, int fill_addr)
{
	struct sb_ctr *c = sb_srv_ctr(srv);
	const struct sb_srvstate *st = sb_srv_state(srv);
	char status[32];

	fill_common(r, px, srv->name, 2, sid);
	fill_traffic(r, c);
	set(r, F_QCUR, "0");
	set_u(r, F_QMAX, atomic_load(&c->qmax));
	set(r, F_SCUR, "%d", sb_server_conns(srv));
	if (srv->maxconn > 0)
		set(r, F_SLIM, "%d", srv->maxconn);
	set_u(r, F_DRESP, ld(&c->dresp));
	set_u(r, F_ECON, ld(&c->econ));
	set_u(r, F_ERESP, ld(&c->eresp));
	set_u(r, F_WRETR, ld(&c->wretr));
	set_u(r, F_WREDIS, ld(&c->wredis));
	set(r, F_STATUS, "%s", srv_status_text(srv, status, sizeof(status)));
	set(r, F_WEIGHT, "%d", atomic_load(&st->uweight));
	set(r, F_ACT, "%d", !srv->backup);
	set(r, F_BCK, "%d", srv->backup);
	set(r, F_LASTCHG, "%lld", (r->now_ms -
	    atomic_load(&st->last_change)) / 1000);
	if (srv_checked(srv)) {
		set_u(r, F_CHKFAIL, ld(&st->chkfail));
		set_u(r, F_CHKDOWN, ld(&st->chkdown));
		set(r, F_DOWNTIME, "%lld", downtime_s(srv, r));
	}
	set_u(r, F_LBTOT, ld(&c->lbtot));
	fill_check(r, srv);
	fill_http(r, px, c);
	set_u(r, F_CLI_ABRT, ld(&c->cli_abrt));
	set_u(r, F_SRV_ABRT, ld(&c->srv_abrt));
	fill_lastsess(r, c);
	if (fill_addr)
		net_addr_str(&srv->addr, r->f[F_ADDR], FIELD_MAX);
	set(r, F_WREW, "0");
	set(r, F_EINT, "0");
	set(r, F_UWEIGHT, "%d", atomic_load(&st->uweight));
}

static void
fill_backend(struct row *r, const struct proxy *px)
{
	struct sb_ctr *c = sb_be_ctr(px);
	struct sb_counts counts;
	int active, backup, weight = 0, uweight = 0;
	long long last = 0;

	fill_common(r, px, "BACKEND", 1, 0);
	fill_traffic(r, c);
	sb_read(px, px, NULL, &counts);
	srv_count_usable(px, &active, &backup);
	for (int i = 0; i < px->nservers; i++) {
		const struct server *srv = &px->servers[i];
		const struct sb_srvstate *st = sb_srv_state(srv);
		long long changed = atomic_load(&st->last_change);
		uweight += atomic_load(&st->uweight);
		/* the weight of the servers in use: actives, or backups */
		if (srv_usable(srv) && srv->backup == (active == 0))
			weight += atomic_load(&st->uweight);
		if (changed > last)
			last = changed;
	}
	set(r, F_QCUR, "%d", counts.be_queue);
	set_u(r, F_QMAX, atomic_load(&c->qmax));
	set(r, F_SCUR, "%d", counts.backend);
	set(r, F_SLIM, "%d", px->maxconn);
	set_u(r, F_DREQ, ld(&c->dreq));
	set_u(r, F_DRESP, ld(&c->dresp));
	set_u(r, F_ECON, ld(&c->econ));
	set_u(r, F_ERESP, ld(&c->eresp));
	set_u(r, F_WRETR, ld(&c->wretr));
	set_u(r, F_WREDIS, ld(&c->wredis));
	set(r, F_STATUS, "%s", active + backup > 0 ? "UP" : "DOWN");
	set(r, F_WEIGHT, "%d", weight);
	set(r, F_ACT, "%d", active);
	set(r, F_BCK, "%d", backup);
	set(r, F_LASTCHG, "%lld", last ? (r->now_ms - last) / 1000 : 0);
	set_u(r, F_LBTOT, ld(&c->lbtot));
	fill_http(r, px, c);
	if (px->mode == MODE_HTTP)
		for (int f = F_COMP_IN; f <= F_COMP_RSP; f++)
			set(r, f, "0");
	set_u(r, F_CLI_ABRT, ld(&c->cli_abrt));
	set_u(r, F_SRV_ABRT, ld(&c->srv_abrt));
	fill_lastsess(r, c);
	set(r, F_ALGO, "%s", algo_names[px->balance]);
	set(r, F_WREW, "0");
	set(r, F_EINT, "0");
	set(r, F_UWEIGHT, "%d", uweight);
}

/* A field as 2.6's csv_enc() writes it: quoted if it needs to be. */
static int
emit_field(const char *v, stat_emit emit, void *arg)
{
	char quoted[2 * FIELD_MAX + 3];
	size_t n = 0;

	if (strpbrk(v, ",\"\r\n") == NULL)
		return emit(arg, v, strlen(v));
	quoted[n++] = '"';
	for (; *v; v++) {
		if (*v == '"')
			quoted[n++] = '"';
		quoted[n++] = *v;
	}
	quoted[n++] = '"';
	return emit(arg, quoted, n);
}

static int
emit_row(const struct row *r, stat_emit emit, void *arg)
{
	char tail[MODULE_COLUMNS + 3];

	for (int i = 0; i < F_FIXED; i++)
		if (emit_field(r->f[i], emit, arg) < 0 ||
		    emit(arg, ",", 1) < 0)
			return -1;
	/* "-" and the module columns: empty, each with its comma */
	memset(tail, ',', MODULE_COLUMNS + 1);
	tail[MODULE_COLUMNS + 1] = '\n';
	return emit(arg, tail, MODULE_COLUMNS + 2);
}

static int
wanted(int iid, int mask, int type_bit, const struct proxy *px)
{
	return (iid < 0 || iid == px->index + 1) && (mask & type_bit);
}

int
stats_csv_filter(const struct config *cfg, int fill_addr, int iid,
    int mask, int sid, stat_emit emit, void *arg)
{
	struct row *r = calloc(1, sizeof(*r));
	int rc = -1;

	if (r == NULL)
		return -1;
	r->now = (unsigned)time(NULL);
	r->now_ms = srv_now_ms();
	if (emit(arg, csv_header, sizeof(csv_header) - 1) < 0)
		goto out;
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		if ((px->cap & CAP_FE) && wanted(iid, mask, STATS_TYPE_FE,
		    px)) {
			fill_frontend(r, px);
			if (emit_row(r, emit, arg) < 0)
				goto out;
		}
		if (!(px->cap & CAP_BE))
			continue;
		for (int i = 0; i < px->nservers; i++) {
			if (!wanted(iid, mask, STATS_TYPE_SV, px) ||
			    (sid >= 0 && sid != i + 1))
				continue;
			fill_server(r, px, &px->servers[i], i + 1, fill_addr);
			if (emit_row(r, emit, arg) < 0)
				goto out;
		}
		if (wanted(iid, mask, STATS_TYPE_BE, px)) {
			fill_backend(r, px);
			if (emit_row(r, emit, arg) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free(r);
	return rc;
}

int
stats_csv(const struct config *cfg, int fill_addr, stat_emit emit,
    void *arg)
{
	return stats_csv_filter(cfg, fill_addr, -1, STATS_TYPE_FE |
	    STATS_TYPE_BE | STATS_TYPE_SV, -1, emit, arg);
}
