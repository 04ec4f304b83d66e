/*
 * log.h - the logging vocabulary shared by every module.
 *
 * Messages go to stderr until wsproxy detaches (daemon mode), and to the
 * global "log" targets (or syslog(3) when there are none) once it has. In
 * inetd mode (-i) fd 2 may be the client's socket, so nothing is ever
 * written to it there.
 */
#ifndef WSPROXY_LOG_H
#define WSPROXY_LOG_H

#include <stdarg.h>

/* Exit codes, documented in wsproxy.8. */
#define EXIT_CONFIG 1   /* the configuration is invalid */
#define EXIT_USAGE  2   /* bad command line */
#define EXIT_SYSTEM 111 /* a system call failed at start-up */

enum log_dest {
	LOG_TO_STDERR,  /* in the foreground: stderr (and the targets) */
	LOG_TO_TARGETS, /* detached: the targets, else syslog(3) */
	LOG_TO_INETD    /* -i: the targets, else syslog(3); never fd 1 or 2 */
};

struct log_target;

/* echo_access: -d, access lines also on stderr. */
void log_init(enum log_dest dest, int echo_access);
/* The global targets and tag, for process messages. */
void log_set_targets(const struct log_target *targets, int ntargets,
    const char *tag);
int  log_to_stderr(void);
/* The tag of process messages (log-tag), for a proxy's own lines. */
const char *log_get_tag(void);

/* A traffic line for a frontend's targets (at level info). */
void log_access(const struct log_target *targets, int ntargets,
    const char *line);

void log_warn(const char *fmt, ...)   __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...)  __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message exactly as given (config diagnostics "FILE:LINE: text"). */
void log_plain(const char *fmt, ...)  __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...)   __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...)  __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)      __attribute__((format(printf, 1, 2),
    noreturn));
void fatalx(const char *fmt, ...)     __attribute__((format(printf, 1, 2),
    noreturn));

#endif
