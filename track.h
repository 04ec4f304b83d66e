/*
 * track.h - tracking clients in stick tables (reference 13.2, 13.3):
 * the track-scN, sc-inc-gpc0 and sc-set-gpt0 actions, what a connection
 * or request has tracked (struct track_ctx), when counters count, and
 * the sc*_, sc_*(N), src_* and table_* fetches that read them.
 *
 * Who lets a tracker go. A tracker started by "tcp-request connection"
 * or "session" lives as long as the client connection: it is written in
 * the child's scoreboard record and the parent ends it when it reaps the
 * child, however the child ended. One started by "tcp-request content"
 * or "http-request" lives for one HTTP transaction (a WebSocket's lasts
 * until its tunnel closes): the child ends it then, and its record says
 * so meanwhile, so that a child killed in the middle still gives it back.
 */
#ifndef WSPROXY_TRACK_H
#define WSPROXY_TRACK_H

#include <sys/socket.h>

#include "sticktable.h"

#define TRACK_NSC 3     /* sc0, sc1, sc2 (2.6's MAX_SESS_STKCTR) */

/* What an sc*, src_* or table_* fetch reads. */
enum stk_fetch_what {
	SFW_DATA,               /* a stored data type: data */
	SFW_KBYTES_IN,          /* bytes_in_cnt / 1024 */
	SFW_KBYTES_OUT,
	SFW_TRACKERS,           /* scN_trackers: the entry's use count */
	SFW_TRACKED,            /* scN_tracked: boolean, always a value */
	SFW_GET_GPC,            /* scN_get_gpc0/1 */
	SFW_INC_GPC,            /* scN_inc_gpc0/1: increments, new value */
	SFW_CLR_GPC,            /* scN_clr_gpc0/1: clears, old value */
	SFW_GET_GPT0,
	SFW_TABLE_CNT,          /* table_cnt([T]) */
	SFW_TABLE_AVL           /* table_avl([T]) */
};

enum stk_fetch_src {
	SFS_SC,                 /* sc0_X, sc1_X, sc2_X, sc_X(N) */
	SFS_SRC,                /* src_X([T]): the client address's entry */
	SFS_TABLE               /* table_X([T]) */
};

/* One parsed fetch (acl.c, logfmt.c). */
struct stk_fetch {
	enum stk_fetch_src src;
	enum stk_fetch_what what;
	enum stk_data data;     /* SFW_DATA; gpc0/gpc1 for the GPC ones */
	int sc;                 /* SFS_SC */
	int gpc;                /* SFW_*_GPC: 0 or 1 */
	struct stk_def *table;  /* SFS_SRC, SFS_TABLE: set once the whole
	                           file is read (the named table, or the
	                           proxy's own) */
};

/* A tracked counter of a connection or request. */
struct track_sc {
	struct stk_table *t;    /* NULL: scN not tracked */
	int idx;                /* its entry */
	int per_request;        /* content/http-request: ends with the
	                           transaction */
};

struct track_ctx {
	struct track_sc sc[TRACK_NSC];
};

/*
 * The value of f for a connection or request that tracks ctx (NULL:
 * nothing tracked) from src: 1 with *value set, 0 when there is none
 * (not tracked, the table does not store it, no entry for src): then
 * ACLs do not match and log-format gives nothing. SFW_INC_GPC and
 * SFW_CLR_GPC change the entry, as in 2.6.
 */
int track_fetch(const struct stk_fetch *f, const struct track_ctx *ctx,
    const struct sockaddr_storage *src, long long *value);

struct rule;
struct lf_input;
struct sb_holder;

/*
 * Runs r, a track-scN, sc-inc-gpcX or sc-set-gpt0 rule whose condition
 * held, for the connection or request ctx; in gives the key's fetches.
 * per_request: a content or http-request rule, whose tracker ends with
 * the transaction and counts its request at once. A scN already tracked
 * stays as it is (the first rule wins, as in 2.6); a key that cannot be
 * had (no such header, an IPv6 client in a "type ip" table) or a full
 * table tracks nothing.
 */
void track_rule(const struct rule *r, struct track_ctx *ctx,
    const struct lf_input *in, int per_request);

/* ev (n bytes for the byte events) on every tracker of ctx. */
void track_count(const struct track_ctx *ctx, enum stk_event ev,
    uint64_t n);

/*
 * A transaction is over (an HTTP request and its response, a tunnel, a
 * tcp connection): its outcome counted on every tracker (status < 0:
 * none sent; denied: a deny, tarpit or auth rule answered, or the
 * request was invalid), and the per-request trackers end.
 */
void track_txn_end(struct track_ctx *ctx, int status, int denied,
    uint64_t bytes_in, uint64_t bytes_out);

/* The parent: a connection its rules rejected, or that it could not
 * fork for: every tracker of ctx ends now. */
void track_release_all(struct track_ctx *ctx);

/* The parent, before it forks: ctx's trackers written in the child's
 * record h, which it gives back when it reaps the child. */
void track_hold(const struct track_ctx *ctx, struct sb_holder *h);

struct config;

/*
 * The parent, at start (prev NULL) and at each reload: maps cfg's stick
 * tables; one whose definition is the same as prev's table of the same
 * name keeps prev's entries (stk_map). 0, or -1 (logged) when a mapping
 * failed: config_free(cfg) lets go of those made.
 */
int track_tables_map(struct config *cfg, const struct config *prev);

/* 2.6's name of a data type ("http_req_rate"), or NULL. */
const char *stk_data_name(enum stk_data d);

#endif
