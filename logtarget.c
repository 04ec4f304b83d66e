/*
 * logtarget.c - syslog datagrams as HAProxy sends them:
 *
 *	<PRI>Mmm dd HH:MM:SS TAG[PID]: MESSAGE\n
 *
 * PRI is facility * 8 + level, the time is local with the day padded by
 * a space, there is no host name, and header plus message are cut to the
 * target's "len" (1024) before the newline. Sends never block: a full
 * socket buffer or an unreachable server drops the line.
 *
 * A "/path" target (/dev/log) is a unix datagram socket, sent to by name
 * with each line as HAProxy does, so that after a chroot the path is
 * looked up inside it, and a syslog daemon that restarts is found again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logtarget.h"

static int udp4 = -1, udp6 = -1, unix_dgram = -1;

static int
open_dgram(int family)
{
	return socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void
logtarget_open(const struct log_target *targets, int ntargets)
{
	for (int i = 0; i < ntargets; i++) {
		int family = targets[i].addr.ss.ss_family;
		if (targets[i].fd >= 0)
			continue;
		if (family == AF_INET && udp4 < 0)
			udp4 = open_dgram(AF_INET);
		else if (family == AF_INET6 && udp6 < 0)
			udp6 = open_dgram(AF_INET6);
		else if (family == AF_UNIX && unix_dgram < 0)
			unix_dgram = open_dgram(AF_UNIX);
	}
}

/* "Mmm dd HH:MM:SS", local time, day padded with a space. */
static size_t
syslog_time(char *buf, size_t len)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	n = snprintf(buf, len, "%s %2d %02d:%02d:%02d", months[tm.tm_mon],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n < 0 ? 0 : (size_t)n;
}

/* Formats one datagram for target t; returns its length. */
static size_t
format_line(const struct log_target *t, int level, const char *tag,
    const char *msg, char *out, size_t outlen)
{
	char stamp[32];
	size_t n, limit = (size_t)t->len < outlen - 1 ? (size_t)t->len :
	    outlen - 1;
	int w;

	if (t->raw) {
		w = snprintf(out, limit + 1, "%s", msg);
	} else {
		syslog_time(stamp, sizeof(stamp));
		w = snprintf(out, limit + 1, "<%d>%s %s[%ld]: %s",
		    t->facility * 8 + level, stamp, tag, (long)getpid(), msg);
	}
	n = w < 0 ? 0 : (size_t)w > limit ? limit : (size_t)w;
	out[n++] = '\n';
	return n;
}

static void
send_one(const struct log_target *t, const char *line, size_t len)
{
	int fd;

	if (t->fd >= 0) {
		/* stdout/stderr: one write per line; a failure is dropped. */
		(void)!write(t->fd, line, len);
		return;
	}
	switch (t->addr.ss.ss_family) {
	case AF_INET6:
		fd = udp6;
		break;
	case AF_UNIX:
		fd = unix_dgram;
		break;
	default:
		fd = udp4;
	}
	if (fd < 0)
		return;
	(void)sendto(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&t->addr.ss, t->addr.len);
}

void
logtarget_send(const struct log_target *targets, int ntargets, int level,
    const char *tag, const char *msg, int allow_std)
{
	char line[65536 + 1];

	for (int i = 0; i < ntargets; i++) {
		const struct log_target *t = &targets[i];
		int sent_level = level;
		if (level > t->max_level)
			continue;
		if (t->fd >= 0 && !allow_std)
			continue;
		/* MINLEVEL: more severe messages are sent as MINLEVEL. */
		if (sent_level < t->min_level)
			sent_level = t->min_level;
		send_one(t, line, format_line(t, sent_level, tag, msg, line,
		    sizeof(line)));
	}
}

/* In the parent (or -i), before any fork or chroot. */
void
logtarget_open_config(const struct config *cfg)
{
	log_set_targets(cfg->logs, cfg->nlogs, cfg->log_tag);
	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		logtarget_open(px->logs, px->nlogs);
}
