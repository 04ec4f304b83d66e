/*
 * check.h - health checks: a checker process, forked by the parent and
 * re-forked if it dies, probes every server with "check" and writes UP
 * or DOWN into the scoreboard, where children read it.
 */
#ifndef WSPROXY_CHECK_H
#define WSPROXY_CHECK_H

#include <sys/types.h>

#include "config.h"

/*
 * Forks the checker for cfg if any server has "check"; returns its pid,
 * 0 if none is needed, -1 if fork failed (logged). Called after
 * scoreboard_init(); the parent keeps no state of it but the pid. The
 * new process first calls child_init(arg), which closes what the parent
 * holds (listeners, directories, its signal pipe) and resets signals,
 * then waits delay_ms before its first probes (a re-fork after a crash
 * must not spin). It names itself "wsproxy-check" and exits when the
 * parent is gone.
 */
pid_t checker_start(const struct config *cfg, int delay_ms,
    void (*child_init)(void *), void *arg);

#endif
