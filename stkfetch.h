/*
 * stkfetch.h - parsing the fetches that read stick tables (reference
 * 13.3): sc0_X, sc1_X, sc2_X, sc_X(N), src_X([TABLE]), table_cnt([TABLE])
 * and table_avl([TABLE]), as ACLs (acl.c) and log-format values
 * (logfmt.c) write them, into a struct stk_fetch (track.h).
 *
 * A fetch names a table that may be declared further down the file, and
 * whether the tables it can read store what it reads is only known once
 * every track-sc rule is read. So each parsed fetch stays pending, with
 * what it was written as, until the configuration claims it for the line
 * and proxy it was read on (stk_fetch_claim, after each line) and then
 * checks it at the end of the file (cfgstick.c).
 */
#ifndef WSPROXY_STKFETCH_H
#define WSPROXY_STKFETCH_H

#include <stddef.h>

#include "track.h"

/* A fetch waiting for the end of the file. */
struct stk_fetch_ref {
	struct stk_fetch *f;
	char *kw;                       /* the fetch's name, "src_conn_cur" */
	char *table;                    /* [TABLE] as written; NULL: the
	                                   proxy's own table */
	int acl;                        /* in an ACL (else a sample) */
	int line;                       /* 0 until claimed */
	char *proxy;                    /* given with the line */
	struct stk_fetch_ref *next;
};

/*
 * name is a fetch's name, args its arguments between the parentheses
 * (NULL: none written). Returns 1 with *out set (a new fetch, pending)
 * when name is a stick-table fetch; 0 when it is none (the caller's
 * "unknown fetch method"); -1 with err set when it is one with bad
 * arguments. acl says where it was written, for the messages.
 */
int stk_fetch_parse(const char *name, const char *args, int acl,
    struct stk_fetch **out, char *err, size_t errlen);

/* Frees f (NULL is fine), and its pending reference if it has one. */
void stk_fetch_free(struct stk_fetch *f);

/* The fetches parsed since the last call were read on line of proxy. */
void stk_fetch_claim(int line, const char *proxy);

/* The pending references, newest first, until stk_fetch_done() frees
 * them (the fetches stay, with their owners). */
struct stk_fetch_ref *stk_fetch_pending(void);
void stk_fetch_done(void);

/* The data type f needs its table to store; -1 when it needs none
 * (scN_tracked, scN_trackers, table_*). */
int stk_fetch_needs(const struct stk_fetch *f);

/* 0 if stkfetch.c's keyword table is sorted (kwtable.h). */
int stk_fetch_tables_check(char *err, size_t errlen);

#endif
