/*
 * log.c - the logging vocabulary: log_warn (adds strerror), log_warnx,
 * log_notice, log_info, log_debug, fatal and fatalx, as in OpenBSD
 * daemons; and log_access for traffic lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "logtarget.h"

static enum log_dest log_dest = LOG_TO_STDERR;
static int echo_access;
static int syslog_opened;
static const struct log_target *global_targets;
static int nglobal_targets;
static int nglobal_udp_targets;         /* those usable in inetd mode */
static const char *log_tag = "wsproxy";

void
log_init(enum log_dest dest, int echo)
{
	log_dest = dest;
	echo_access = echo;
	if (dest != LOG_TO_STDERR && !syslog_opened) {
		/* LOG_NDELAY: open the socket now, before any chroot. */
		openlog("wsproxy", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_opened = 1;
	}
}

void
log_set_targets(const struct log_target *targets, int ntargets,
    const char *tag)
{
	global_targets = targets;
	nglobal_targets = ntargets;
	nglobal_udp_targets = 0;
	for (int i = 0; i < ntargets; i++)
		nglobal_udp_targets += targets[i].fd < 0;
	log_tag = tag;
	logtarget_open(targets, ntargets);
}

const char *
log_get_tag(void)
{
	return log_tag;
}

int
log_to_stderr(void)
{
	return log_dest == LOG_TO_STDERR;
}

static void
log_emit(int priority, const char *prefix, const char *fmt, va_list ap,
    int with_errno)
{
	char msg[1024];
	int saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used, ": %s",
		    strerror(saved_errno));
	}
	if (log_dest == LOG_TO_STDERR)
		fprintf(stderr, "%s%s\n", prefix, msg);
	/* In inetd mode stdout/stderr targets do not count: syslog(3) then. */
	if ((log_dest == LOG_TO_INETD ? nglobal_udp_targets :
	    nglobal_targets) > 0)
		logtarget_send(global_targets, nglobal_targets, priority,
		    log_tag, msg, log_dest != LOG_TO_INETD);
	else if (log_dest != LOG_TO_STDERR && priority != LOG_DEBUG)
		syslog(priority, "%s", msg);
	errno = saved_errno;
}

void
log_access(const struct log_target *targets, int ntargets, const char *line)
{
	logtarget_send(targets, ntargets, LOG_INFO, log_tag, line,
	    log_dest != LOG_TO_INETD);
	if (echo_access && log_dest == LOG_TO_STDERR)
		fprintf(stderr, "%s\n", line);
}

#define LOG_FUNCTION(name, priority, prefix, with_errno)		\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_emit(priority, prefix, fmt, ap, with_errno);		\
	va_end(ap);							\
}

LOG_FUNCTION(log_warn, LOG_WARNING, "wsproxy: ", 1)
LOG_FUNCTION(log_warnx, LOG_WARNING, "wsproxy: ", 0)
LOG_FUNCTION(log_notice, LOG_NOTICE, "", 0)
LOG_FUNCTION(log_plain, LOG_WARNING, "", 0)
LOG_FUNCTION(log_info, LOG_INFO, "", 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_dest != LOG_TO_STDERR)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "wsproxy: ", fmt, ap, 1);
	va_end(ap);
	exit(EXIT_SYSTEM);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "wsproxy: ", fmt, ap, 0);
	va_end(ap);
	exit(EXIT_SYSTEM);
}
