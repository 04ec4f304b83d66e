/*
 * sticktable.h - HAProxy's stick tables (reference 13): per-key counters
 * that every process sees, in one anonymous MAP_SHARED mapping per table
 * made by the parent before it forks, so that a limit holds across
 * connections whichever child serves them.
 *
 * A table is a fixed array of entries, a hash index over their keys and
 * a recency list (oldest first) for expiry and eviction, all under one
 * process-shared robust mutex: a child killed while it holds the lock
 * leaves it to the next locker, which rebuilds the index and the list
 * from the entries before going on (a counter the dead child was
 * changing may be off by that one update; nothing else is lost).
 *
 * An entry is held ("use" in 2.6's show table) while a connection or a
 * request tracks it: a held entry never expires and is never evicted, so
 * its index stays valid until the tracker lets it go (stk_untrack). A
 * child killed while it tracks entries cannot let them go: what it
 * tracks is written in its scoreboard record too, and the parent calls
 * stk_untrack for it when it reaps the child (scoreboard.c).
 */
#ifndef WSPROXY_STICKTABLE_H
#define WSPROXY_STICKTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Key types (13.1). binary is refused by the configuration. */
enum stk_type { STK_IP, STK_IPV6, STK_INTEGER, STK_STRING };

/* Data types a table may store ("store ..."), as bit numbers. */
enum stk_data {
	STK_CONN_CNT, STK_CONN_CUR, STK_CONN_RATE,
	STK_SESS_CNT, STK_SESS_RATE,
	STK_HTTP_REQ_CNT, STK_HTTP_REQ_RATE,
	STK_HTTP_ERR_CNT, STK_HTTP_ERR_RATE,
	STK_HTTP_FAIL_CNT, STK_HTTP_FAIL_RATE,
	STK_BYTES_IN_CNT, STK_BYTES_IN_RATE,
	STK_BYTES_OUT_CNT, STK_BYTES_OUT_RATE,
	STK_GPC0, STK_GPC0_RATE, STK_GPC1, STK_GPC1_RATE,
	STK_GPT0, STK_SERVER_ID,
	STK_NDATA
};

#define STK_MAX_KEY     256     /* string len at most this (bytes) */
#define STK_MAX_SIZE    (16u * 1024 * 1024)     /* entries per table */

/* A table as the configuration declares it (13.1). */
struct stk_def {
	char *name;                     /* the declaring proxy's name */
	int line;                       /* of its stick-table line */
	enum stk_type type;
	unsigned key_len;               /* ip 4, ipv6 16, integer 8,
	                                   string: len (default 32) */
	unsigned size;                  /* entries */
	unsigned expire_ms;             /* 0: entries never expire */
	int nopurge;                    /* full: new keys not stored */
	uint32_t stored;                /* 1u << enum stk_data */
	unsigned period_ms[STK_NDATA];  /* the rates' periods */
	struct stk_table *shm;          /* the mapping, once stk_map()ed */
};

/* A key converted to its table's type (stk_key_*); len <= STK_MAX_KEY. */
struct stk_key {
	unsigned char bytes[STK_MAX_KEY];
	unsigned len;
};

/* What happens to a tracked entry's counters (13.2). */
enum stk_event {
	STK_EV_SESS,            /* sess_cnt, sess_rate: +1 */
	STK_EV_HTTP_REQ,        /* http_req_cnt, http_req_rate: +1 */
	STK_EV_HTTP_ERR,        /* http_err_*: +1 */
	STK_EV_HTTP_FAIL,       /* http_fail_*: +1 */
	STK_EV_BYTES_IN,        /* bytes_in_*: +n */
	STK_EV_BYTES_OUT,       /* bytes_out_*: +n */
	STK_EV_GPC0,            /* gpc0, gpc0_rate: +1 */
	STK_EV_GPC1             /* gpc1, gpc1_rate: +1 */
};

/*
 * Bytes an anonymous mapping for def takes at most (what wsproxy.8
 * quotes): pages are only allocated as entries are first used.
 */
size_t stk_mapping_size(const struct stk_def *def);

/*
 * The parent, at start or reload: gives def its mapping. If prev (the
 * running configuration's table of the same name, or NULL) has the same
 * definition (type, len, size, expire, nopurge, store and periods), def
 * shares prev's mapping and its entries carry on; otherwise a new empty
 * one is made. Returns 0, or -1 with err set (mmap failed).
 */
int stk_map(struct stk_def *def, const struct stk_def *prev, char *err,
    size_t errlen);

/* A reference on t's mapping: unmapped when the last one goes. stk_map
 * gives def one; whoever else keeps t past def's life takes another. */
void stk_ref(struct stk_table *t);
void stk_unref(struct stk_table *t);

/* ---- keys ---- */

/*
 * Converts a client address into t's key type: 0, or -1 when it has
 * none (an IPv6 address into "type ip", not tracked as in 2.6; a
 * non-IP address). IPv4 into "type ipv6" is ::ffff:a.b.c.d; into
 * "type string" its text; into "type integer" the IPv4 address as a
 * number (2.6's ipv4-to-int conversion).
 */
int stk_key_addr(const struct stk_table *t, const struct sockaddr_storage *ss,
    struct stk_key *key);

/*
 * Converts a string sample (a header value) into t's key type: string
 * truncated to len; integer parsed as 2.6's str-to-int does (leading
 * digits, -1 when none); ip/ipv6 parsed as an address (-1 if not one).
 */
int stk_key_str(const struct stk_table *t, const char *s, size_t len,
    struct stk_key *key);

/* ---- tracking ---- */

/*
 * Looks key up in t, creating the entry if there is none (evicting the
 * oldest entry that no one holds when t is full, unless nopurge), and
 * starts a tracker on it: use +1, conn_cnt +1, conn_cur +1, conn_rate
 * +1, its expiry restarted. Returns the entry's index (>= 0), or -1 when
 * it could not be stored (full with nopurge, or every entry held).
 */
int stk_track(struct stk_table *t, const struct stk_key *key);

/* Ends a tracker of entry idx: conn_cur -1, use -1, expiry restarted. */
void stk_untrack(struct stk_table *t, int idx);

/* Counts ev (n bytes for the BYTES events, else ignored) on entry idx,
 * for the data types t stores; restarts its expiry. */
void stk_count(struct stk_table *t, int idx, enum stk_event ev, uint64_t n);

/*
 * The value of data type d on entry idx now (rates read as 13.4 says):
 * 1 with *value set, 0 when t does not store d (no value: ACLs false,
 * log-format empty).
 */
int stk_read(struct stk_table *t, int idx, enum stk_data d,
    long long *value);

/* The same for the entry of key, without tracking it or touching its
 * expiry: 0 when there is none (src_* fetches). */
int stk_lookup_read(struct stk_table *t, const struct stk_key *key,
    enum stk_data d, long long *value);

/* Trackers on entry idx (sc0_trackers): its use count. */
int stk_trackers(struct stk_table *t, int idx);

/* gpc0/gpc1 (which = 0 or 1) of entry idx: increments and returns the
 * new value; clears and returns the old one; -1 when not stored. */
long long stk_gpc_inc(struct stk_table *t, int idx, int which);
long long stk_gpc_clr(struct stk_table *t, int idx, int which);
/* gpt0 := value; 0, or -1 when not stored. */
int stk_gpt_set(struct stk_table *t, int idx, long long value);


/* table_cnt: entries in use (stored); table_avl: size minus that. */
unsigned stk_entries(struct stk_table *t);
unsigned stk_size(const struct stk_table *t);
const struct stk_def *stk_table_def(const struct stk_table *t);

/*
 * Writes t's entries as 2.6's "show table NAME" does (reference 14.5),
 * oldest first, into fd:
 *   # table: NAME, type: ip, size:102400, used:1
 *   0x55d0c0a1b2c3: key=127.0.0.1 use=0 exp=28944 conn_cnt=3 ...
 * Returns 0, or -1 if a write failed.
 */
int stk_dump(struct stk_table *t, int fd);

/* "show table NAME [data.X OP V] [key K]" (the runtime socket): only
 * the entries that pass, without the empty line that ends stk_dump's
 * (the socket adds it after each answer); header_only: the "# table"
 * line alone (for "show table" without a name). */
enum { STK_OP_EQ, STK_OP_NE, STK_OP_LT, STK_OP_LE, STK_OP_GT, STK_OP_GE };
struct stk_filter {
	int header_only;
	int data;                       /* enum stk_data; -1: none */
	int op;
	long long value;
	const struct stk_key *key;      /* NULL: any */
};
int stk_dump_filter(struct stk_table *t, int fd, const struct stk_filter *f);

/* "clear table NAME [data.X OP V] [key K]": deletes the entries that
 * pass f (NULL: every entry), except those a tracker holds, as 2.6
 * does. Returns how many went. */
int stk_clear(struct stk_table *t, const struct stk_filter *f);
/* The data type named as in a dump ("http_req_rate"), or -1. */
int stk_data_find(const char *name);
int stk_stores(const struct stk_table *t, enum stk_data d);

/* The clock every function above reads: monotonic milliseconds. A test
 * program may replace it. */
extern uint64_t (*stk_clock)(void);

#endif
