/*
 * statshtml.c - the stats page's HTML (statshtml.h). Everything comes
 * from the scoreboard's shared mapping: serving the page asks no other
 * process anything. Readable on a phone: a viewport, and tables that
 * scroll sideways inside their own box.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "scoreboard.h"
#include "srvstate.h"
#include "statshtml.h"
#include "statspage.h"
#include "version.h"

void
stats_human_time(struct strbuf *out, long long t)
{
	if (t < 0)
		t = 0;
	if (t >= 86400)
		strbuf_printf(out, "%lldd%lldh", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		strbuf_printf(out, "%lldh%02lldm", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		strbuf_printf(out, "%lldm%02llds", t / 60, t % 60);
	else
		strbuf_printf(out, "%llds", t);
}

static long long
now_ms_epoch(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static unsigned long long
get(atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static unsigned
getu(atomic_uint *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- the head and the process block ---- */

static const char css[] =
"body{font-family:arial,helvetica,sans-serif;font-size:12px;"
"font-weight:normal;color:black;background:white;margin:4px}\n"
"h1{font-size:20px;color:white;background:#20409a;margin:0;padding:4px}\n"
"h3{color:#20409a;margin:6px 0}\n"
".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin-bottom:12px}\n"
"table.tbl{border-collapse:collapse;border:1px solid #808080;"
"white-space:nowrap}\n"
"table.tbl th,table.tbl td{border:1px solid #b0b0b0;padding:1px 3px;"
"text-align:right}\n"
"table.tbl th{background:#b0b0d0;font-weight:normal}\n"
"table.tbl th.pxname{background:#b00040;color:#ffff40;font-weight:bold;"
"text-align:left}\n"
"td.name{text-align:left}\n"
"tr.frontend,tr.backend{background:#e8e8d0;font-weight:bold}\n"
"tr.active_up{background:#c0ffc0}\ntr.backup_up{background:#b0d0ff}\n"
"tr.active_down,tr.backup_down{background:#ff9090}\n"
"tr.active_going_down,tr.backup_going_down{background:#ffd020}\n"
"tr.active_going_up,tr.backup_going_up{background:#e0ff90}\n"
"tr.maintain{background:#c07820}\ntr.draining{background:#20a0ff}\n"
"tr.active_nolb,tr.backup_nolb{background:#ffffa0}\n"
"tr.active_nocheck,tr.backup_nocheck{background:#e0e0e0}\n"
"table.lgd{border-collapse:collapse}\n"
"table.lgd td{border:1px solid #808080;padding:2px;font-size:11px}\n"
"a.px:link,a.px:visited{color:#ffff40;text-decoration:none}\n"
".info{display:flex;flex-wrap:wrap;gap:12px}\n";

static void
page_head(const struct stats_view *v, struct strbuf *o)
{
	strbuf_str(o, "<!DOCTYPE html>\n<html><head>"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>Statistics Report for HAProxy");
	if (v->px->stats.show_node) {
		strbuf_str(o, " on ");
		strbuf_html(o, v->px->stats.node ? v->px->stats.node : "");
	}
	strbuf_str(o, "</title>\n<style>\n");
	strbuf_str(o, css);
	strbuf_str(o, "</style></head>\n<body>\n");
}

static void
node_name(const struct proxy *px, char *buf, size_t len)
{
	if (px->stats.node != NULL) {
		snprintf(buf, len, "%s", px->stats.node);
		return;
	}
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "?");
	buf[len - 1] = '\0';
}

static void
process_block(const struct stats_view *v, struct strbuf *o)
{
	struct timeval start = sb_start_time(), now;
	struct sb_ctr *p = sb_proc_ctr();
	struct sb_counts n;
	struct rlimit nofile;
	long long up;
	char node[256];

	gettimeofday(&now, NULL);
	up = start.tv_sec ? (long long)(now.tv_sec - start.tv_sec) : 0;
	sb_read(v->px, NULL, NULL, &n);
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		nofile.rlim_cur = 0;
	strbuf_printf(o, "<h1><a href=\"http://www.haproxy.org/\" "
	    "style=\"color:white;text-decoration:none\">wsproxy</a></h1>\n"
	    "<h1>Statistics Report for pid %d", (int)getppid());
	if (v->px->stats.show_node) {
		node_name(v->px, node, sizeof(node));
		strbuf_str(o, " on ");
		strbuf_html(o, node);
	}
	strbuf_str(o, "</h1>\n");
	if (!v->px->stats.hide_version)
		strbuf_str(o, "<p>wsproxy version " WSPROXY_VERSION
		    " (HAProxy 2.6 configuration language)</p>\n");
	if (v->px->stats.show_desc && v->px->stats.desc != NULL) {
		strbuf_str(o, "<h2>");
		strbuf_html(o, v->px->stats.desc);
		strbuf_str(o, "</h2>\n");
	}
	strbuf_printf(o, "<hr><h3>&gt; General process information</h3>\n"
	    "<div class=\"info\"><p><b>pid = </b> %d (process #1, nbproc = 1,"
	    " nbthread = 1)<br>\n<b>uptime = </b> %lldd %lldh%02lldm%02llds"
	    "<br>\n<b>system limits:</b> memmax = unlimited; ulimit-n = %llu"
	    "<br>\n<b>maxsock = </b> %llu; <b>maxconn = </b> %d; "
	    "<b>maxpipes = </b> 0<br>\ncurrent conns = %d; current pipes = "
	    "0/0; conn rate = %u/sec; bit rate = 0.000 kbps<br>\n"
	    "Running tasks: %d/%d; idle = 100 %%<br>\n"
	    "total conns = %llu; total requests = %llu</p>\n",
	    (int)getppid(), up / 86400, up % 86400 / 3600, up % 3600 / 60,
	    up % 60, (unsigned long long)nofile.rlim_cur,
	    (unsigned long long)nofile.rlim_cur, v->cfg->maxconn, n.process,
	    freq_read(&p->conn_rate, (unsigned)now.tv_sec), n.process,
	    n.process, get(&p->conn_tot), get(&p->req_tot));
}

static void
legend(const struct stats_view *v, struct strbuf *o)
{
	strbuf_str(o, "<table class=\"lgd\"><tr>"
	    "<td class=\"active_up\" style=\"background:#c0ffc0\">&nbsp;</td>"
	    "<td>active UP</td>"
	    "<td style=\"background:#b0d0ff\">&nbsp;</td><td>backup UP</td>"
	    "</tr><tr><td style=\"background:#ffd020\">&nbsp;</td>"
	    "<td>active UP, going down</td>"
	    "<td style=\"background:#e0ff90\">&nbsp;</td>"
	    "<td>active DOWN, going up</td></tr><tr>"
	    "<td style=\"background:#ff9090\">&nbsp;</td>"
	    "<td>active or backup DOWN</td>"
	    "<td style=\"background:#e0e0e0\">&nbsp;</td><td>not checked</td>"
	    "</tr><tr><td style=\"background:#c07820\">&nbsp;</td>"
	    "<td colspan=\"3\">active or backup DOWN for maintenance "
	    "(MAINT)</td></tr><tr><td style=\"background:#20a0ff\">&nbsp;</td>"
	    "<td colspan=\"3\">active or backup SOFT STOPPED for maintenance "
	    "(DRAIN)</td></tr></table>\n");
	if (v->px->stats.show_legends)
		strbuf_str(o, "<p>Note: \"NOLB\"/\"DRAIN\" = UP with load-"
		    "balancing disabled. Hover a status for its last check."
		    "</p>\n");
}

static void
display_links(const struct stats_view *v, struct strbuf *o)
{
	const char *uri = stats_uri(v->px);

	strbuf_str(o, "<div><b>Display option:</b><ul>\n<li><a href=\"");
	strbuf_html(o, uri);
	strbuf_str(o, v->up_only ? "\">Show all servers" :
	    ";up\">Hide 'DOWN' servers");
	strbuf_str(o, "</a></li>\n<li><a href=\"");
	strbuf_html(o, uri);
	strbuf_str(o, v->norefresh ? "\">Enable refresh" :
	    ";norefresh\">Disable refresh");
	strbuf_str(o, "</a></li>\n<li><a href=\"");
	strbuf_html(o, uri);
	strbuf_str(o, "\">Refresh now</a></li>\n<li><a href=\"");
	strbuf_html(o, uri);
	strbuf_str(o, ";csv\">CSV export</a></li>\n</ul></div></div>\n");
}

static void
action_result(const struct stats_view *v, struct strbuf *o)
{
	static const struct { const char *st, *text; } results[] = {
		{ "DONE", "Action processed successfully." },
		{ "PART", "Action partially processed." },
		{ "NONE", "Nothing has changed." },
		{ "ERRP", "Action not processed because of invalid parameters." },
		{ "EXCD", "Action not processed: the buffer couldn't store all "
		  "the data." },
		{ "DENY", "Action denied." },
	};

	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (strcmp(v->st, results[i].st) == 0)
			strbuf_printf(o, "<p id=\"st\" class=\"st_%s\"><b>%s"
			    "</b> [<a href=\"%s\">X</a>]</p>\n", results[i].st,
			    results[i].text, stats_uri(v->px));
}

/* ---- the tables ---- */

static void
table_head(const struct stats_view *v, const struct proxy *px,
    struct strbuf *o)
{
	int admin = v->admin && (px->cap & CAP_BE) && px->nservers > 0;

	if (admin) {
		strbuf_str(o, "<form method=\"post\" action=\"");
		strbuf_html(o, stats_uri(v->px));
		strbuf_str(o, "\">\n");
	}
	strbuf_str(o, "<div class=\"scroll\"><table class=\"tbl\" id=\"px-");
	strbuf_html(o, px->name);
	strbuf_printf(o, "\">\n<tr><th class=\"pxname\" colspan=\"%d\">"
	    "<a class=\"px\" name=\"", admin ? 32 : 31);
	strbuf_html(o, px->name);
	strbuf_str(o, "\">");
	strbuf_html(o, px->name);
	strbuf_str(o, "</a></th></tr>\n<tr>");
	if (admin)
		strbuf_str(o, "<th rowspan=\"2\"></th>");
	strbuf_str(o, "<th rowspan=\"2\"></th><th colspan=\"3\">Queue</th>"
	    "<th colspan=\"3\">Session rate</th><th colspan=\"6\">Sessions</th>"
	    "<th colspan=\"2\">Bytes</th><th colspan=\"2\">Denied</th>"
	    "<th colspan=\"3\">Errors</th><th colspan=\"2\">Warnings</th>"
	    "<th colspan=\"9\">Server</th></tr>\n<tr>"
	    "<th>Cur</th><th>Max</th><th>Limit</th>"
	    "<th>Cur</th><th>Max</th><th>Limit</th>"
	    "<th>Cur</th><th>Max</th><th>Limit</th><th>Total</th>"
	    "<th>LbTot</th><th>Last</th><th>In</th><th>Out</th>"
	    "<th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th>"
	    "<th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th>"
	    "<th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th>"
	    "<th>Dwntme</th><th>Thrtle</th></tr>\n");
}

static void
table_foot(const struct stats_view *v, const struct proxy *px,
    struct strbuf *o)
{
	strbuf_str(o, "</table></div>\n");
	if (!(v->admin && (px->cap & CAP_BE) && px->nservers > 0))
		return;
	strbuf_str(o, "<p>Choose the action to perform on the checked servers "
	    ": <select name=\"action\">"
	    "<option value=\"\"></option>"
	    "<option value=\"ready\">Set state to READY</option>"
	    "<option value=\"drain\">Set state to DRAIN</option>"
	    "<option value=\"maint\">Set state to MAINT</option>"
	    "<option value=\"dhlth\">Health: disable checks</option>"
	    "<option value=\"ehlth\">Health: enable checks</option>"
	    "<option value=\"shutdown\">Kill Sessions</option>"
	    "</select><input type=\"hidden\" name=\"b\" value=\"#");
	strbuf_printf(o, "%d\"><input type=\"submit\" value=\"Apply\"></p>"
	    "</form>\n", px->index + 1);
}

/* The columns a frontend, a backend and a server share. */
struct row {
	const char *cls, *name;
	int qcur;                       /* -1: empty */
	unsigned qmax;
	int scur, slim;                 /* slim 0: empty */
	int lbtot;                      /* show LbTot */
	struct sb_ctr *c;
};

static void
cell_u(struct strbuf *o, unsigned long long v)
{
	strbuf_printf(o, "<td>%llu</td>", v);
}

static void
row_counters(const struct row *r, struct strbuf *o, unsigned now, int is_fe)
{
	struct sb_ctr *c = r->c;
	long long last = atomic_load_explicit(&c->last_sess,
	    memory_order_relaxed);

	if (r->qcur < 0)
		strbuf_str(o, "<td></td><td></td><td></td>");
	else
		strbuf_printf(o, "<td>%d</td><td>%u</td><td></td>", r->qcur,
		    r->qmax);
	strbuf_printf(o, "<td>%u</td><td>%u</td><td></td>",
	    freq_read(&c->sess_rate, now), getu(&c->sess_rate_max));
	strbuf_printf(o, "<td>%d</td><td>%u</td>", r->scur, getu(&c->smax));
	if (r->slim > 0)
		strbuf_printf(o, "<td>%d</td>", r->slim);
	else
		strbuf_str(o, "<td></td>");
	cell_u(o, get(&c->stot));
	if (r->lbtot)
		cell_u(o, get(&c->lbtot));
	else
		strbuf_str(o, "<td></td>");
	if (is_fe) {
		strbuf_str(o, "<td></td>");
	} else if (last > 0) {
		strbuf_str(o, "<td>");
		stats_human_time(o, (long long)now - last);
		strbuf_str(o, "</td>");
	} else {
		strbuf_str(o, "<td>never</td>");
	}
	cell_u(o, get(&c->bin));
	cell_u(o, get(&c->bout));
	cell_u(o, get(&c->dreq));
	cell_u(o, get(&c->dresp));
	if (is_fe)
		strbuf_printf(o, "<td>%llu</td><td></td><td></td>"
		    "<td></td><td></td>", get(&c->ereq));
	else
		strbuf_printf(o, "<td></td><td>%llu</td><td>%llu</td>"
		    "<td>%llu</td><td>%llu</td>", get(&c->econ),
		    get(&c->eresp), get(&c->wretr), get(&c->wredis));
}

static void
row_start(const struct stats_view *v, const struct proxy *px,
    const struct row *r, const struct server *srv, struct strbuf *o)
{
	strbuf_printf(o, "<tr class=\"%s\">", r->cls);
	if (v->admin && (px->cap & CAP_BE) && px->nservers > 0) {
		strbuf_str(o, "<td>");
		if (srv != NULL) {
			strbuf_str(o, "<input type=\"checkbox\" name=\"s\" "
			    "value=\"");
			strbuf_html(o, srv->name);
			strbuf_str(o, "\">");
		}
		strbuf_str(o, "</td>");
	}
	strbuf_str(o, "<td class=\"name\">");
	strbuf_html(o, r->name);
	strbuf_str(o, "</td>");
}

static void
frontend_row(const struct stats_view *v, const struct proxy *px,
    struct strbuf *o, unsigned now)
{
	struct row r = { "frontend", "Frontend", -1, 0,
	    sb_frontend_conns(px), px->maxconn, 0, sb_fe_ctr(px) };

	row_start(v, px, &r, NULL, o);
	row_counters(&r, o, now, 1);
	strbuf_str(o, "<td class=\"status\">OPEN</td><td></td><td></td>"
	    "<td></td><td></td><td></td><td></td><td></td><td></td></tr>\n");
}

/* The row's class from the status word, 2.6's colours. */
static const char *
server_class(const struct server *srv, const char *status)
{
	int bck = srv->backup;

	if (strncmp(status, "MAINT", 5) == 0)
		return "maintain";
	if (strncmp(status, "DRAIN", 5) == 0)
		return "draining";
	if (strncmp(status, "no check", 8) == 0)
		return bck ? "backup_nocheck" : "active_nocheck";
	if (strncmp(status, "NOLB", 4) == 0)
		return bck ? "backup_nolb" : "active_nolb";
	if (strncmp(status, "UP ", 3) == 0)
		return bck ? "backup_going_down" : "active_going_down";
	if (strncmp(status, "UP", 2) == 0)
		return bck ? "backup_up" : "active_up";
	if (strncmp(status, "DOWN ", 5) == 0)
		return bck ? "backup_going_up" : "active_going_up";
	return bck ? "backup_down" : "active_down";
}

/* UP (or not checked), not in maintenance or drain, with a weight. */
static int
server_serving(const struct server *srv, const char *status)
{
	const struct sb_srvstate *st = sb_srv_state(srv);

	return (strncmp(status, "UP", 2) == 0 ||
	    strncmp(status, "no check", 8) == 0) &&
	    atomic_load_explicit(&st->uweight, memory_order_relaxed) > 0;
}

static void
last_check(const struct server *srv, struct sb_srvstate *st,
    struct strbuf *o)
{
	int status = atomic_load_explicit(&st->check_status,
	    memory_order_relaxed);
	int code = atomic_load_explicit(&st->check_code, memory_order_relaxed);
	int ms = atomic_load_explicit(&st->check_duration,
	    memory_order_relaxed);

	if (!srv->check || status == CHK_NONE) {
		strbuf_str(o, "<td></td>");
		return;
	}
	strbuf_str(o, "<td title=\"");
	strbuf_html(o, chk_status_desc(status));
	strbuf_str(o, "\">");
	strbuf_html(o, chk_status_name(status));
	if (code > 0)
		strbuf_printf(o, "/%d", code);
	if (ms >= 0)
		strbuf_printf(o, " in %dms", ms);
	strbuf_str(o, "</td>");
}

static void
server_row(const struct stats_view *v, const struct proxy *px,
    const struct server *srv, struct strbuf *o, unsigned now)
{
	struct sb_srvstate *st = sb_srv_state(srv);
	char status[64];
	long long changed = atomic_load_explicit(&st->last_change,
	    memory_order_relaxed), down_ms;
	struct sb_counts n;
	struct row r = { NULL, srv->name, 0, 0, 0, srv->maxconn, 1,
	    sb_srv_ctr(srv) };

	srv_status_text(srv, status, sizeof(status));
	if (v->up_only && strncmp(status, "DOWN", 4) == 0)
		return;
	sb_read(px, px, srv, &n);
	r.cls = server_class(srv, status);
	r.scur = n.server;
	r.qmax = getu(&r.c->qmax);
	row_start(v, px, &r, srv, o);
	row_counters(&r, o, now, 0);
	strbuf_str(o, "<td class=\"status\">");
	if (changed > 0) {
		stats_human_time(o, (now_ms_epoch() - changed) / 1000);
		strbuf_str(o, " ");
	}
	strbuf_html(o, status);
	strbuf_str(o, "</td>");
	last_check(srv, st, o);
	down_ms = atomic_load_explicit(&st->downtime_ms, memory_order_relaxed);
	if (strncmp(status, "DOWN", 4) == 0 && changed > 0)
		down_ms += now_ms_epoch() - changed;
	strbuf_printf(o, "<td>%d</td><td>%s</td><td>%s</td>",
	    atomic_load_explicit(&st->uweight, memory_order_relaxed),
	    srv->backup ? "-" : "Y", srv->backup ? "Y" : "-");
	if (srv->check) {
		strbuf_printf(o, "<td>%llu</td><td>%llu</td><td>",
		    get(&st->chkfail), get(&st->chkdown));
		stats_human_time(o, down_ms / 1000);
		strbuf_str(o, "</td>");
	} else {
		strbuf_str(o, "<td></td><td></td><td></td>");
	}
	strbuf_str(o, "<td>-</td></tr>\n");
}

static void
backend_row(const struct stats_view *v, const struct proxy *px,
    struct strbuf *o, unsigned now)
{
	struct sb_counts n;
	struct row r = { "backend", "Backend", 0, 0, 0, 0, 1, sb_be_ctr(px) };
	int act = 0, bck = 0, weight = 0;
	struct timeval start = sb_start_time();

	for (int i = 0; i < px->nservers; i++) {
		const struct server *srv = &px->servers[i];
		char status[64];
		srv_status_text(srv, status, sizeof(status));
		if (!server_serving(srv, status))
			continue;
		*(srv->backup ? &bck : &act) += 1;
		weight += atomic_load_explicit(&sb_srv_state(srv)->uweight,
		    memory_order_relaxed);
	}
	sb_read(px, px, NULL, &n);
	r.qcur = n.be_queue;
	r.qmax = getu(&r.c->qmax);
	r.scur = n.backend;
	row_start(v, px, &r, NULL, o);
	row_counters(&r, o, now, 0);
	strbuf_str(o, "<td class=\"status\">");
	stats_human_time(o, start.tv_sec ? (long long)now - start.tv_sec : 0);
	strbuf_printf(o, " %s</td><td></td><td>%d</td><td>%d</td><td>%d</td>"
	    "<td></td><td></td><td></td><td></td></tr>\n",
	    act + bck > 0 ? "UP" : "DOWN", weight, act, bck);
}

static int
in_scope(const struct stats_view *v, const struct proxy *px)
{
	const struct stats_conf *st = &v->px->stats;

	if (st->nscope == 0)
		return 1;
	for (int i = 0; i < st->nscope; i++) {
		const char *name = strcmp(st->scope[i], ".") == 0 ?
		    v->px->name : st->scope[i];
		if (strcmp(name, px->name) == 0)
			return 1;
	}
	return 0;
}

static void
proxy_table(const struct stats_view *v, const struct proxy *px,
    struct strbuf *o, unsigned now)
{
	table_head(v, px, o);
	if (px->cap & CAP_FE)
		frontend_row(v, px, o, now);
	if (px->cap & CAP_BE) {
		for (int i = 0; i < px->nservers; i++)
			server_row(v, px, &px->servers[i], o, now);
		backend_row(v, px, o, now);
	}
	table_foot(v, px, o);
}

void
stats_html(const struct stats_view *v, struct strbuf *o)
{
	unsigned now = (unsigned)time(NULL);

	page_head(v, o);
	process_block(v, o);
	legend(v, o);
	display_links(v, o);
	action_result(v, o);
	for (const struct proxy *px = v->cfg->proxies; px; px = px->next)
		if (in_scope(v, px))
			proxy_table(v, px, o, now);
	strbuf_str(o, "</body></html>\n");
}
