/*
 * scoreboard.h - state shared by the parent, the health checker and every
 * child: an anonymous MAP_SHARED mapping made by the parent before it
 * forks, updated with atomic operations. Children cannot see each other
 * otherwise; this is how a log line can say how busy the proxy is, how
 * leastconn finds the least loaded server, how a server's maxconn holds
 * across processes and how a check's verdict reaches every child.
 *
 * What a child holds (a server slot, a backend connection, a place in a
 * queue) is also written in the child's own record there, so that the
 * parent gives it back when the child ends, however it ends.
 */
#ifndef WSPROXY_SCOREBOARD_H
#define WSPROXY_SCOREBOARD_H

#include <sys/time.h>
#include <sys/types.h>

#include "config.h"
#include "counters.h"
#include "srvstate.h"

struct sb_counts {
	int process;    /* %ac: connections of the whole process tree */
	int frontend;   /* %fc */
	int backend;    /* %bc */
	int server;     /* %sc */
	int srv_queue;  /* %sq: not queued per server here, always 0 */
	int be_queue;   /* %bq: requests waiting for a server of be */
};

/*
 * Maps a new generation of the scoreboard for cfg (numbering its proxies
 * and servers), with a record for each of cfg->maxconn children. The
 * previous generation stays mapped while children forked with it live:
 * they keep using it, and the parent gives their holdings back into it.
 * Every server starts UP, as HAProxy's do. Returns 0, or -1 with the
 * previous one still in place.
 */
int scoreboard_init(struct config *cfg);

/*
 * A reload that fails after scoreboard_init(cfg) succeeded: the previous
 * generation is the current one again (and the configuration still in
 * use numbers its proxies as before), the one made for cfg is unmapped.
 * Nothing happens unless the newest generation is cfg's and has no
 * child yet.
 */
void scoreboard_undo(const struct config *cfg);

/* ---- the parent's own counts: taken at fork, given back at reap ---- */

void sb_add_process(int delta);
void sb_add_frontend(const struct proxy *fe, int delta);
void sb_set_process(int value);

/* The whole process tree's live connections (show info CurrConns). */
int sb_process_conns(void);

/* A frontend's live connections (the parent keeps it, for maxconn). */
int sb_frontend_conns(const struct proxy *fe);

/* ---- what a child holds ---- */

/* A child's record, in the shared mapping of its generation. */
struct sb_holder;

/*
 * The parent, before it forks a connection's child: a free record of the
 * current generation, or NULL if there is none (logged; the connection
 * must then be refused, as when fork fails).
 */
struct sb_holder *sb_holder_claim(void);

/* The parent, once it forked h's child. */
void sb_holder_set_pid(struct sb_holder *h, pid_t pid);

/* The child, first thing after the fork: its holdings go into h. (A
 * keeper enters each tunnel's record in turn as it ends it.) */
void sb_holder_enter(struct sb_holder *h);
struct sb_holder *sb_holder_mine(void);

/*
 * tunnel-keeper (keeper.h). The child, before it hands its tunnel to
 * the keeper whose pid this is (0: the handover failed, it keeps it).
 * The parent, reaping the child: the keeper that now owns the record
 * (0: none; release it now). A keeper: was the tunnel's server told to
 * shut its sessions (sb_kill_sessions)?
 */
void sb_holder_hand_over(pid_t keeper);
pid_t sb_holder_keeper(struct sb_holder *h);
int sb_holder_killed(struct sb_holder *h);

/*
 * The parent, once the child is reaped (or its fork failed): gives back
 * whatever h still holds, into h's generation, and frees h. A generation
 * that a reload replaced is unmapped with its last record.
 */
void sb_holder_release(struct sb_holder *h);

/*
 * A child holds at most one server slot, one backend connection and one
 * queue place at a time; each is taken and given back through these,
 * which keep the child's record (if it has one) in step with the count.
 */

/*
 * Takes one of srv's connection slots if it has fewer than maxconn
 * (0: no limit): 1 if taken (give it back with sb_release_server).
 */
int sb_take_server(const struct server *srv, int maxconn);
void sb_release_server(const struct server *srv);
int sb_server_conns(const struct server *srv);

/* A connection to a server of be is open (%bc). */
void sb_hold_backend(const struct proxy *be);
void sb_release_backend(const struct proxy *be);

/* A request waits in be's queue (%bq). */
void sb_enter_queue(const struct proxy *be);
void sb_leave_queue(const struct proxy *be);

/*
 * A stick-table tracker on entry idx of t, as scN (track.h): written in
 * h, or with h NULL in the calling child's own record (nothing without
 * one: the parent's own connection trackers are recorded in the record
 * of the child about to be forked). The record is what the parent gives
 * back (stk_untrack) when it reaps the child. Call sb_hold_track after
 * stk_track, and sb_release_track before stk_untrack.
 */
void sb_hold_track(struct sb_holder *h, int sc, const struct stk_table *t,
    int idx);
void sb_release_track(struct sb_holder *h, int sc);

/* ---- health and balancing ---- */

/* Health: written by the checker, read by children. */
int sb_server_up(const struct server *srv);
void sb_set_server_up(const struct server *srv, int up);

/* A backend's round-robin position: returns it, then advances it. */
unsigned sb_next_rr(const struct proxy *be);

/* be and srv may be NULL. */
void sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out);

/* ---- the stats' counters and the servers' state ---- */

/* Never NULL: without a scoreboard (inetd mode), a private dummy. */
struct sb_ctr *sb_fe_ctr(const struct proxy *px);
struct sb_ctr *sb_be_ctr(const struct proxy *px);
struct sb_ctr *sb_srv_ctr(const struct server *srv);
struct sb_srvstate *sb_srv_state(const struct server *srv);
/* The whole process tree's (show info, the exporter's process family);
 * like all the counters, a reload starts them again. */
struct sb_ctr *sb_proc_ctr(void);
/* When the parent made its first scoreboard: its start, for uptime. */
struct timeval sb_start_time(void);

/*
 * "shutdown sessions server": marks the record of each live child that
 * holds a slot of srv (every live child if srv is NULL), of the current
 * generation or of an older one (there, of the server of the same
 * backend and name), and calls fn(pid, arg) with the child's pid, or
 * with its keeper's once the tunnel was handed over (the keeper kills
 * the marked ones). A child's pid is recorded by the parent after the
 * fork, so one just forked may be missed; a pid is only valid until the
 * parent reaps it (signal it, do not wait for it).
 */
void sb_kill_sessions(const struct server *srv, void (*fn)(pid_t, void *),
    void *arg);

#endif
