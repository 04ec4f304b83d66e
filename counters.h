/*
 * counters.h - what the stats page, the CSV, the Prometheus exporter and
 * the runtime socket report per frontend, backend and server: totals,
 * maxima and rates that every child adds to, in the scoreboard's shared
 * mapping (scoreboard.h: sb_fe_ctr, sb_be_ctr, sb_srv_ctr), so that any
 * process can read them without asking another one.
 *
 * Every field is updated with relaxed atomic operations: a reader may see
 * one counter a request ahead of another, as HAProxy's stats may.
 */
#ifndef WSPROXY_COUNTERS_H
#define WSPROXY_COUNTERS_H

#include <stdatomic.h>

/*
 * Events per second over the last whole second, as HAProxy's "rate"
 * columns: the second in which curr counts, its count, and the count of
 * the second before it.
 */
struct sb_freq {
	atomic_uint sec;
	atomic_uint curr;
	atomic_uint prev;
};

/* HAProxy's counters (struct fe_counters / be_counters), those we keep. */
struct sb_ctr {
	atomic_ullong stot;             /* sessions */
	atomic_ullong bin, bout;        /* bytes from / to the client */
	atomic_ullong dreq, dresp;      /* denied requests / responses */
	atomic_ullong ereq, econ, eresp;
	atomic_ullong wretr, wredis;
	atomic_ullong lbtot;            /* times picked by the balancer */
	atomic_ullong req_tot;          /* HTTP requests */
	atomic_ullong hrsp[6];          /* 1xx .. 5xx, other */
	atomic_ullong intercepted;      /* served by the proxy itself */
	atomic_ullong conn_tot;         /* connections accepted */
	atomic_ullong dcon, dses;       /* denied at tcp-request conn / session */
	atomic_ullong cli_abrt, srv_abrt;
	atomic_uint smax;               /* most concurrent sessions seen */
	atomic_uint qmax;
	atomic_llong last_sess;         /* time(NULL) of the last session */
	struct sb_freq sess_rate, req_rate, conn_rate;
	atomic_uint sess_rate_max, req_rate_max, conn_rate_max;
};

/* Counts one event at time now (seconds) in f; returns the rate now. */
unsigned freq_add(struct sb_freq *f, unsigned now, unsigned n);
/* The events in the last whole second as seen at now. */
unsigned freq_read(struct sb_freq *f, unsigned now);

/* Adds n to c (relaxed); keeps *max at least value. */
void ctr_add(atomic_ullong *c, unsigned long long n);
void ctr_max(atomic_uint *max, unsigned value);

#endif
