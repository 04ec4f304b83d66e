/*
 * log.h - the logging vocabulary shared by every module.
 *
 * Messages go to stderr until wsproxy detaches (daemon mode), to syslog(3)
 * after. In inetd mode (-i) fd 2 may be the client's socket, so nothing is
 * ever written to it there: syslog only.
 */
#ifndef WSPROXY_LOG_H
#define WSPROXY_LOG_H

#include <stdarg.h>

/* Exit codes, documented in wsproxy.8. */
#define EXIT_CONFIG 1   /* the configuration is invalid */
#define EXIT_USAGE  2   /* bad command line */
#define EXIT_SYSTEM 111 /* a system call failed at start-up */

enum log_dest {
	LOG_TO_SYSLOG,  /* daemon: syslog(3) only */
	LOG_TO_STDERR,  /* -d, -c: stderr (and syslog for access lines) */
	LOG_TO_NOWHERE_BUT_SYSLOG /* -i: never fd 2 */
};

void log_init(enum log_dest dest);
int  log_to_stderr(void);

void log_warn(const char *fmt, ...)  __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message exactly as given (config diagnostics "FILE:LINE: text"). */
void log_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...)  __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)     __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)    __attribute__((format(printf, 1, 2), noreturn));

#endif
