/*
 * count.c - filling the stats' counters (count.h). Which event counts
 * where follows HAProxy 2.6 (management.txt 9.1): a frontend counts its
 * connections, sessions, requests and their answers; a backend and a
 * server the sessions sent to them, their picks by the balancer, the
 * connect and response errors, retries and redispatches, and the
 * aborts in the data phase.
 */
#include <time.h>

#include "count.h"
#include "counters.h"
#include "scoreboard.h"

static unsigned
now_sec(void)
{
	return (unsigned)time(NULL);
}

static void
inc(atomic_ullong *c)
{
	ctr_add(c, 1);
}

/* A new session (or connection, or request) in rate f, and its max. */
static void
rate_add(struct sb_freq *f, atomic_uint *max, unsigned now)
{
	ctr_max(max, freq_add(f, now, 1));
}

void
count_conn(const struct proxy *fe)
{
	unsigned now = now_sec();
	struct sb_ctr *f = sb_fe_ctr(fe), *p = sb_proc_ctr();

	inc(&f->conn_tot);
	rate_add(&f->conn_rate, &f->conn_rate_max, now);
	inc(&p->conn_tot);
	rate_add(&p->conn_rate, &p->conn_rate_max, now);
}

void
count_conn_denied(const struct proxy *fe)
{
	inc(&sb_fe_ctr(fe)->dcon);
}

/* stot, the session rate, its max, the last session's date. */
static void
sess_add(struct sb_ctr *c, unsigned now, int cur)
{
	inc(&c->stot);
	rate_add(&c->sess_rate, &c->sess_rate_max, now);
	atomic_store_explicit(&c->last_sess, (long long)now,
	    memory_order_relaxed);
	if (cur > 0)
		ctr_max(&c->smax, (unsigned)cur);
}

void
count_sess(const struct proxy *fe)
{
	unsigned now = now_sec();

	sess_add(sb_fe_ctr(fe), now, sb_frontend_conns(fe));
	sess_add(sb_proc_ctr(), now, 0);
}

void
count_sess_denied(const struct proxy *fe)
{
	inc(&sb_fe_ctr(fe)->dses);
}

void
count_backend(const struct proxy *be, const struct server *srv)
{
	unsigned now = now_sec();
	struct sb_counts n;

	sb_read(be, be, srv, &n);
	sess_add(sb_be_ctr(be), now, n.backend);
	if (srv != NULL)
		sess_add(sb_srv_ctr(srv), now, n.server);
}

void
count_queued(const struct proxy *be)
{
	struct sb_counts n;

	sb_read(be, be, NULL, &n);
	if (n.be_queue > 0)
		ctr_max(&sb_be_ctr(be)->qmax, (unsigned)n.be_queue);
}

void
count_lb(const struct proxy *be, const struct server *srv)
{
	inc(&sb_be_ctr(be)->lbtot);
	inc(&sb_srv_ctr(srv)->lbtot);
}

void
count_bytes(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, unsigned long long in, unsigned long long out)
{
	struct sb_ctr *c[3] = { sb_fe_ctr(fe), be ? sb_be_ctr(be) : NULL,
	    srv ? sb_srv_ctr(srv) : NULL };

	if (in == 0 && out == 0)
		return;
	for (int i = 0; i < 3; i++)
		if (c[i] != NULL) {
			ctr_add(&c[i]->bin, in);
			ctr_add(&c[i]->bout, out);
		}
}

/* hrsp_1xx .. hrsp_5xx, hrsp_other */
static int
status_class(int status)
{
	return status >= 100 && status < 600 ? status / 100 - 1 : 5;
}

/* The request's side: denied, or a bad or abandoned request. */
static void
count_request_end(const struct count_txn *t, struct sb_ctr *fe,
    struct sb_ctr *be)
{
	char who = t->term[0], stage = t->term[1];
	int denied = who == 'P' && (stage == 'T' ||
	    (stage == 'R' && t->status != 400));
	int bad = (stage == 'R' && (who == 'C' || who == 'c' ||
	    (who == 'P' && t->status == 400))) || stage == 'T';

	if (denied) {
		inc(&fe->dreq);
		if (be != NULL)
			inc(&be->dreq);
	}
	if (bad)
		inc(&fe->ereq);
	if (t->intercepted || who == 'L')
		inc(&fe->intercepted);
}

/* The server's side: connect and response errors, retries, aborts. */
static void
count_server_end(const struct count_txn *t, struct sb_ctr *be,
    struct sb_ctr *srv)
{
	struct sb_ctr *c[2] = { be, srv };
	char who = t->term[0], stage = t->term[1];
	int eresp = (stage == 'H' && (who == 'S' || who == 's' ||
	    (who == 'P' && !t->resp_denied)));

	for (int i = 0; i < 2; i++) {
		if (c[i] == NULL)
			continue;
		if (t->connect_failed && srv != NULL)
			inc(&c[i]->econ);
		if (eresp)
			inc(&c[i]->eresp);
		if (t->resp_denied)
			inc(&c[i]->dresp);
		ctr_add(&c[i]->wretr, (unsigned long long)t->retries);
		if (t->redispatched)
			inc(&c[i]->wredis);
		if (stage == 'D' && (who == 'C' || who == 'c'))
			inc(&c[i]->cli_abrt);
		if (stage == 'D' && (who == 'S' || who == 's'))
			inc(&c[i]->srv_abrt);
	}
}

void
count_txn_end(const struct count_txn *t)
{
	struct sb_ctr *fe = sb_fe_ctr(t->fe);
	struct sb_ctr *be = t->be ? sb_be_ctr(t->be) : NULL;
	struct sb_ctr *srv = t->srv ? sb_srv_ctr(t->srv) : NULL;

	count_bytes(t->fe, t->be, t->srv, t->bytes_in, t->bytes_out);
	if (t->resp_denied)
		inc(&fe->dresp);
	count_request_end(t, fe, be);
	count_server_end(t, be, srv);
	if (!t->http)
		return;
	unsigned now = now_sec();
	struct sb_ctr *p = sb_proc_ctr();
	inc(&fe->req_tot);
	rate_add(&fe->req_rate, &fe->req_rate_max, now);
	inc(&p->req_tot);
	rate_add(&p->req_rate, &p->req_rate_max, now);
	if (be != NULL)
		inc(&be->req_tot);
	if (t->status < 0)
		return;
	inc(&fe->hrsp[status_class(t->status)]);
	if (be != NULL)
		inc(&be->hrsp[status_class(t->status)]);
	if (srv != NULL && t->from_server)
		inc(&srv->hrsp[status_class(t->status)]);
}
