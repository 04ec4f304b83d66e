/*
 * clisock.h - the runtime sockets' files ("stats socket"): created by
 * the parent before it drops privileges, handed over on a reload,
 * removed when it stops. The fds live in cfg->stats_sockets.
 */
#ifndef WSPROXY_CLISOCK_H
#define WSPROXY_CLISOCK_H

#include "config.h"

/*
 * Creates cfg's sockets, but those old (NULL at start) already has at
 * the same path: clisock_commit() hands those over. Returns 0, or -1
 * (logged) with none of cfg's created.
 */
int clisock_open(struct config *cfg, struct config *old);

/* A reload that failed after clisock_open(cfg, ...): cfg's go. */
void clisock_abort(struct config *cfg);

/* The reload is done: old's sockets at cfg's paths move to cfg, the
 * others are closed and removed. */
void clisock_commit(struct config *cfg, struct config *old);

/* The parent stops: every socket closed and its file removed. */
void clisock_remove_all(struct config *cfg);

/* A child: the parent's sockets and directories closed, files kept. */
void clisock_close_in_child(struct config *cfg);

#endif
