/*
 * listener.h - the listening sockets: bound from the configuration,
 * taken over from systemd (LISTEN_FDS), or kept across a reload.
 */
#ifndef WSPROXY_LISTENER_H
#define WSPROXY_LISTENER_H

#include "config.h"

/*
 * Takes the sockets systemd passed (LISTEN_PID/LISTEN_FDS, fds 3...),
 * once, at start-up; they are matched to listeners by address.
 */
void listeners_take_systemd(void);

/*
 * Opens every listener of cfg: a systemd socket or one of old's (on a
 * reload) with the same address is taken as it is, any other is bound.
 * On failure, logs why, gives back what it took and returns -1.
 */
int listeners_open(struct config *cfg, struct config *old);

/* Closes the listeners of cfg still open. */
void listeners_close(struct config *cfg);
/* The same in a child, leaving cfg unwritten: its pages are shared with
 * the parent, and a write would copy one into the child. */
void listeners_close_in_child(const struct config *cfg);

/* Closes systemd sockets that no listener claimed (with a warning). */
void listeners_drop_unclaimed(void);

#endif
