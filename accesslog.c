/*
 * accesslog.c - formats traffic log lines exactly as HAProxy's
 *
 * httplog: %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS
 *          %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
 * tcplog:  %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts
 *          %ac/%fc/%bc/%sc/%rc %sq/%bq
 *
 * %CC and %CS are always "-" (no cookie captures). The header captures
 * %hr and %hs are "{...}" blocks only where configured: without them the
 * request line follows the queue counts after a single space, and a
 * <BADREQ> line never has them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accesslog.h"
#include "net.h"

#define LOG_URI_MAX 1024        /* HAProxy's tune.http.logurilen */

struct out {
	char *buf;
	size_t len, used;
};

static void
out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n < o->len - o->used ? (size_t)n :
		    o->len - o->used - 1;
}

/* "127.0.0.1:44202", "::1:36524" (no brackets, as HAProxy logs it). */
static void
out_client(struct out *o, const struct sockaddr_storage *src)
{
	char ip[INET6_ADDRSTRLEN];

	if (src == NULL || (src->ss_family != AF_INET &&
	    src->ss_family != AF_INET6)) {
		out_printf(o, "-:-");
		return;
	}
	net_ntop(src, ip, sizeof(ip));
	out_printf(o, "%s:%d", ip, net_port(src));
}

/* "[24/Nov/2026:06:47:24.549]" in local time. */
static void
out_date(struct out *o, const struct timeval *tv)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t sec = tv->tv_sec;
	struct tm tm;

	localtime_r(&sec, &tm);
	out_printf(o, "[%02d/%s/%04d:%02d:%02d:%02d.%03d]", tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(tv->tv_usec / 1000));
}

/* What both formats start with: "%ci:%cp [date] %ft %b/%s". */
static void
out_prefix(struct out *o, const struct access_record *r)
{
	o->buf[0] = '\0';
	out_client(o, r->src);
	out_printf(o, " ");
	out_date(o, &r->date);
	out_printf(o, " %s %s/%s", r->frontend,
	    r->backend ? r->backend : r->frontend,
	    r->server ? r->server : "<NOSRV>");
}

static void
out_counts(struct out *o, const struct access_record *r)
{
	out_printf(o, "%d/%d/%d/%d/%s%d %d/%d", r->counts.process,
	    r->counts.frontend, r->counts.backend, r->counts.server,
	    r->redispatched ? "+" : "", r->retries, r->counts.srv_queue,
	    r->counts.be_queue);
}

/* The request line, quoted; bytes outside 32..126 and '"' as #XX. */
static void
out_request_line(struct out *o, const struct access_record *r)
{
	size_t n = r->request_line_len;

	if (r->request_line == NULL) {
		out_printf(o, "\"<BADREQ>\"");
		return;
	}
	if (n > LOG_URI_MAX)
		n = LOG_URI_MAX;
	out_printf(o, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->request_line[i];
		if (c < 32 || c > 126 || c == '"')
			out_printf(o, "#%02X", c);
		else
			out_printf(o, "%c", c);
	}
	out_printf(o, "\"");
}

/*
 * %hr / %hs: " {v1|v2|...}" in declaration order; '"', '|', '{', '}',
 * '#' and bytes outside 32..126 as #XX. Nothing when none configured.
 */
static void
out_captures(struct out *o, const struct captured *c)
{
	if (c == NULL || c->n == 0)
		return;
	out_printf(o, " {");
	for (int i = 0; i < c->n; i++) {
		const char *v = c->data + c->off[i];

		if (i > 0)
			out_printf(o, "|");
		for (size_t k = 0; k < c->len[i]; k++) {
			unsigned char ch = (unsigned char)v[k];
			if (ch < 32 || ch > 126 || strchr("\"|{}#", ch))
				out_printf(o, "#%02X", ch);
			else
				out_printf(o, "%c", ch);
		}
	}
	out_printf(o, "}");
}

size_t
accesslog_http(const struct access_record *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	out_prefix(&o, r);
	out_printf(&o, " %d/%d/%d/%d/%d %d %llu - - %c%c-- ", r->t_request,
	    r->t_queue, r->t_connect, r->t_response, r->t_total, r->status,
	    r->bytes, r->term[0], r->term[1]);
	out_counts(&o, r);
	if (r->request_line != NULL) {  /* a <BADREQ> line has none */
		out_captures(&o, r->hr);
		out_captures(&o, r->hs);
	}
	out_printf(&o, " ");
	out_request_line(&o, r);
	return o.used;
}

size_t
accesslog_tcp(const struct access_record *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	out_prefix(&o, r);
	out_printf(&o, " %d/%d/%d %llu %c%c ", r->t_queue, r->t_connect,
	    r->t_total, r->bytes, r->term[0], r->term[1]);
	out_counts(&o, r);
	return o.used;
}

/*
 * A connection refused before any request (a bad PROXY header): HAProxy's
 * short error format, "%ci:%cp [%t] %ft/BIND: message".
 */
size_t
accesslog_error(const struct access_record *r, const char *bind,
    const char *msg, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	o.buf[0] = '\0';
	out_client(&o, r->src);
	out_printf(&o, " ");
	out_date(&o, &r->date);
	out_printf(&o, " %s/%s: %s", r->frontend, bind, msg);
	return o.used;
}
