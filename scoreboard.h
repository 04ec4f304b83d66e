/*
 * scoreboard.h - state shared by the parent, the health checker and every
 * child: an anonymous MAP_SHARED mapping made by the parent before it
 * forks, updated with atomic operations. Children cannot see each other
 * otherwise; this is how a log line can say how busy the proxy is, how
 * leastconn finds the least loaded server, how a server's maxconn holds
 * across processes and how a check's verdict reaches every child.
 */
#ifndef WSPROXY_SCOREBOARD_H
#define WSPROXY_SCOREBOARD_H

#include "config.h"

struct sb_counts {
	int process;    /* %ac: connections of the whole process tree */
	int frontend;   /* %fc */
	int backend;    /* %bc */
	int server;     /* %sc */
	int srv_queue;  /* %sq: not queued per server here, always 0 */
	int be_queue;   /* %bq: requests waiting for a server of be */
};

/*
 * Maps a scoreboard for cfg (numbering its proxies and servers) and
 * unmaps the previous one (children keep their own mapping). Every server
 * starts UP, as HAProxy's do. Returns 0, or -1 with the previous one still
 * in place.
 */
int scoreboard_init(struct config *cfg);

void sb_add_process(int delta);
void sb_add_frontend(const struct proxy *fe, int delta);
void sb_add_backend(const struct proxy *be, int delta);
void sb_add_server(const struct server *srv, int delta);
void sb_set_process(int value);

/* A frontend's live connections (the parent keeps it, for maxconn). */
int sb_frontend_conns(const struct proxy *fe);

/*
 * Takes one of srv's connection slots if it has fewer than maxconn
 * (0: no limit): 1 if taken (release it with sb_add_server(srv, -1)).
 */
int sb_take_server(const struct server *srv, int maxconn);
int sb_server_conns(const struct server *srv);

/* Health: written by the checker, read by children. */
int sb_server_up(const struct server *srv);
void sb_set_server_up(const struct server *srv, int up);

/* A backend's round-robin position: returns it, then advances it. */
unsigned sb_next_rr(const struct proxy *be);

/* Requests of be waiting in its queue. */
void sb_add_queue(const struct proxy *be, int delta);

/* be and srv may be NULL. */
void sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out);

#endif
