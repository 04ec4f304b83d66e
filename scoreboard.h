/*
 * scoreboard.h - live connection counts shared by the parent and every
 * child: an anonymous MAP_SHARED mapping made by the parent before it
 * forks, updated with atomic operations. Children cannot see each other
 * otherwise; this is how a log line can say how busy the proxy is.
 */
#ifndef WSPROXY_SCOREBOARD_H
#define WSPROXY_SCOREBOARD_H

#include "config.h"

struct sb_counts {
	int process;    /* %ac: connections of the whole process tree */
	int frontend;   /* %fc */
	int backend;    /* %bc */
	int server;     /* %sc */
};

/*
 * Maps a scoreboard for cfg (numbering its proxies and servers) and
 * unmaps the previous one (children keep their own mapping). Returns 0,
 * or -1 with the previous one still in place.
 */
int scoreboard_init(struct config *cfg);

void sb_add_process(int delta);
void sb_add_frontend(const struct proxy *fe, int delta);
void sb_add_backend(const struct proxy *be, int delta);
void sb_add_server(const struct server *srv, int delta);
void sb_set_process(int value);

/* be and srv may be NULL. */
void sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out);

#endif
