/*
 * logtarget.h - sending log lines to the configured targets: syslog
 * datagrams framed as HAProxy frames them, over UDP or a unix datagram
 * socket (/dev/log), or stdout/stderr.
 */
#ifndef WSPROXY_LOGTARGET_H
#define WSPROXY_LOGTARGET_H

#include "config.h"

#define LOG_LEVEL_NOTICE 5
#define LOG_LEVEL_INFO   6
#define LOG_LEVEL_WARNING 4

/*
 * Opens the datagram sockets the targets need, non-blocking so that a log
 * server that is down never slows a request. Called by the parent so
 * that every child inherits them (and before chroot).
 */
void logtarget_open(const struct log_target *targets, int ntargets);

/* Every target of cfg, global (for process messages) and per proxy. */
void logtarget_open_config(const struct config *cfg);

/*
 * Sends msg at level to every target whose level filter passes.
 * stdout/stderr targets are skipped when allow_std is 0 (inetd mode).
 */
void logtarget_send(const struct log_target *targets, int ntargets,
    int level, const char *tag, const char *msg, int allow_std);

#endif
