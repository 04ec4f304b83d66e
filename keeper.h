/*
 * keeper.h - tunnel keepers ("tunnel-keeper on|N", off by default):
 * long-lived children of the parent that relay many WebSocket tunnels
 * each, so that an idle tunnel costs a few KiB instead of a process.
 *
 * A connection's child still does everything up to the 101 and relays
 * any early bytes; once both directions are empty and neither side is
 * half-closed (relay.h's RELAY_HANDOVER), it sends both sockets
 * (SCM_RIGHTS) and its log record to a keeper of its own configuration
 * generation, and exits. A tunnel that cannot be handed over stays in
 * its child, which relays it as without keepers. The keeper relays
 * without parsing a byte: bounded buffers with backpressure, half-close
 * passed on, the tunnel's idle and fin timeouts, "shutdown sessions",
 * and the log line and counters of the child at the end.
 *
 * Who gives back what the tunnel holds: the child's scoreboard record
 * (server slot, trackers) and its place in the parent's counts stay
 * taken until the keeper reports the tunnel's end to the parent (a
 * pipe); the record names its keeper, so that if the keeper dies the
 * parent gives back all its tunnels (they are lost: their clients see
 * the connection closed) and starts another keeper.
 */
#ifndef WSPROXY_KEEPER_H
#define WSPROXY_KEEPER_H

#include <sys/types.h>

#include "config.h"

struct session;
struct sb_holder;

/* ---- the parent ---- */

/*
 * Starts cfg->tunnel_keepers keepers for cfg (none when 0); those of an
 * earlier configuration get no new tunnel from now on, and each exits
 * once its last tunnel ended. child_init(arg) runs first in each keeper
 * (it closes what is the parent's). Returns the number started; one
 * that cannot be forked is logged and its tunnels stay in the children.
 */
int keepers_start(const struct config *cfg, void (*child_init)(void *),
    void *arg);

/* The descriptor to poll for tunnels that ended; -1 before any keeper. */
int keepers_done_fd(void);

/* Each tunnel that ended, with the keeper that held it: fn(h, arg). */
void keepers_read_done(void (*fn)(const struct sb_holder *h, void *arg),
    void *arg);

/* A reaped pid: the keeper's number (0..N-1) in the current set, or
 * KEEPER_RETIRED for an earlier configuration's, or -1 (not a keeper). */
#define KEEPER_RETIRED (-2)
int keepers_reaped(pid_t pid);

/* Replaces keeper number index of the current set, which died; it
 * serves the configuration the parent runs (the set's). */
void keepers_restart(int index, void (*child_init)(void *), void *arg);

/* Stopping: every keeper gets SIGTERM. */
void keepers_kill(void);

/* Any other long-lived child (checker, runtime socket): the channels
 * to the keepers are not its own (a keeper sees its end when only the
 * children that may send to it still hold the other). */
void keepers_close_in_child(void);

/* ---- a connection's child ---- */

/* Are there keepers to hand a tunnel to? */
int keeper_available(void);

/*
 * Hands s's tunnel to a keeper and exits. Returns only when it could not:
 * s is unchanged and the child relays the tunnel itself. The answer says
 * whether a later attempt may succeed: the keeper's queue was full, or
 * it was near its descriptor limit (a reconnect storm hands over a
 * thousand tunnels at once); or never: no keeper, a keeper that is gone,
 * a record too big.
 */
enum keeper_refusal { KEEPER_NEVER, KEEPER_LATER };
enum keeper_refusal keeper_hand_over(struct session *s);

#endif
