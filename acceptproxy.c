/*
 * acceptproxy.c - the PROXY header on a listener with accept-proxy.
 *
 * From the header on, its addresses are the client's for ACLs, logs,
 * forwardfor and send-proxy. A header that is missing, bad or late ends
 * the connection with a reset and HAProxy's short error line for the
 * real peer: nothing is sent to what may not be a client at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acceptproxy.h"
#include "accesslog.h"
#include "log.h"
#include "proxyproto.h"

/* HAProxy names a bind by its number in the frontend, from 1. */
static int
bind_number(const struct config *cfg, const struct listener *l)
{
	int n = 0;

	for (int i = 0; i < cfg->nlisteners; i++) {
		if (cfg->listeners[i].fe == l->fe)
			n++;
		if (&cfg->listeners[i] == l)
			break;
	}
	return n;
}

void
acceptproxy_log(const struct config *cfg, const struct listener *l,
    const struct timeval *accept_date, const struct sockaddr_storage *src,
    const char *msg)
{
	const struct proxy *fe = l->fe;
	struct access_record r;
	char bind[16], line[512];

	if (fe->nlogs == 0)
		return;
	memset(&r, 0, sizeof(r));
	r.src = src;
	r.date = *accept_date;
	r.frontend = fe->name;
	snprintf(bind, sizeof(bind), "%d", bind_number(cfg, l));
	accesslog_error(&r, bind, msg, line, sizeof(line));
	log_access(fe->logs, fe->nlogs, line);
}

/*
 * The error line and a reset. "option dontlognull" hides peers that
 * sent nothing, as in HAProxy.
 */
static void
header_failed(const struct config *cfg, const struct listener *l, int fd,
    const struct timeval *accept_date, const struct sockaddr_storage *src,
    int err)
{
	const struct proxy *fe = l->fe;
	struct linger reset = { 1, 0 };

	if (!((fe->options & OPT_DONTLOGNULL) && (err == PROXY_ERR_EMPTY ||
	    err == PROXY_ERR_ABORT || err == PROXY_ERR_TIMEOUT)))
		acceptproxy_log(cfg, l, accept_date, src, proxy_strerror(err));
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) < 0)
		log_debug("SO_LINGER: %s", strerror(errno));
	close(fd);
}

int
acceptproxy_read(const struct config *cfg, const struct listener *l,
    int fd, const struct timeval *accept_date,
    struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
	const struct timeouts *to = &l->fe->to;
	int err = proxy_recv(fd, to->http_request ? to->http_request :
	    to->client, src, dst);

	if (err == PROXY_OK)
		return 0;
	header_failed(cfg, l, fd, accept_date, src, err);
	return -1;
}
