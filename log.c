/*
 * log.c - the logging vocabulary: log_warn (adds strerror), log_warnx,
 * log_info, log_debug, fatal and fatalx, as in OpenBSD daemons.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static enum log_dest log_dest = LOG_TO_STDERR;
static int syslog_opened;

void
log_init(enum log_dest dest)
{
	log_dest = dest;
	if (dest != LOG_TO_STDERR && !syslog_opened) {
		/* LOG_NDELAY: open the socket now, before any chroot. */
		openlog("wsproxy", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_opened = 1;
	}
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
	else
		syslog(priority, "%s", msg);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "wsproxy: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "wsproxy: ", fmt, ap, 0);
	va_end(ap);
}

void
log_plain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap, 0);
	va_end(ap);
}

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
