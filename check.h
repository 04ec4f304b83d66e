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
 * scoreboard_init(); the parent keeps no state of it but the pid.
 */
pid_t checker_start(const struct config *cfg);

#endif
