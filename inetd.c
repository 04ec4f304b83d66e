/*
 * inetd.c - "wsproxy -i": one connection handed over on fds 0 and 1 by
 * inetd, xinetd, systemd (Accept=yes), tcpserver or stunnel, served in
 * this process, which then exits. There is no parent here: no listener,
 * no child table, no health checker. The client's address comes from
 * the socket, or from the wrapper's environment when fd 0 is a pipe.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inetd.h"
#include "log.h"
#include "logtarget.h"
#include "net.h"
#include "scoreboard.h"
#include "session.h"
#include "tcprules.h"

/* ucspi-tcp (TCPREMOTEIP) or stunnel (REMOTE_HOST) name the client. */
static void
address_from_env(struct sockaddr_storage *ss, const char *ip_var,
    const char *port_var)
{
	const char *ip = getenv(ip_var), *port = getenv(port_var);
	struct net_addr a;
	int prefix;

	if (ip == NULL || net_parse_network(ip, &a, &prefix, 0) < 0)
		return;
	*ss = a.ss;
	net_set_port(ss, port ? (int)strtol(port, NULL, 10) : 0);
}

static void
inetd_addresses(struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
	socklen_t slen = sizeof(*src), dlen = sizeof(*dst);

	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	/* fd 0 is a socket under inetd; two pipes under a wrapper. */
	if (getpeername(0, (struct sockaddr *)src, &slen) < 0 ||
	    (src->ss_family != AF_INET && src->ss_family != AF_INET6)) {
		src->ss_family = AF_UNSPEC;
		address_from_env(src, "REMOTE_HOST", "REMOTE_PORT");
		address_from_env(src, "TCPREMOTEIP", "TCPREMOTEPORT");
	}
	if (getsockname(0, (struct sockaddr *)dst, &dlen) < 0 ||
	    (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)) {
		/* dst_port needs the port even when the IP is not given */
		dst->ss_family = AF_INET;
		net_set_port(dst, 0);
		const char *port = getenv("TCPLOCALPORT");
		address_from_env(dst, "TCPLOCALIP", "TCPLOCALPORT");
		if (getenv("TCPLOCALIP") == NULL && port != NULL)
			net_set_port(dst, (int)strtol(port, NULL, 10));
		if (net_port(dst) == 0)
			dst->ss_family = AF_UNSPEC;
	}
}

void
inetd_serve(struct config *cfg, const char *fe_name)
{
	struct proxy *fe = NULL;
	struct sockaddr_storage src, dst;

	if (fe_name != NULL)
		fe = config_find_frontend(cfg, fe_name);
	else
		for (fe = cfg->proxies; fe && !(fe->cap & CAP_FE); fe = fe->next)
			;
	if (fe == NULL) {
		log_warnx("-i: no frontend%s%s", fe_name ? " named " : "",
		    fe_name ? fe_name : "");
		exit(EXIT_CONFIG);
	}
	inetd_addresses(&src, &dst);
	if (!tcprules_connection_ok(fe, &src, &dst, NULL)) {
		tcprules_reset(0, 1);   /* not logged, as in 2.6 */
		exit(0);
	}
	signal(SIGPIPE, SIG_IGN);
	logtarget_open_config(cfg);
	if (scoreboard_init(cfg) < 0)
		exit(EXIT_SYSTEM);
	sb_add_process(1);
	sb_add_frontend(fe, 1);
	/* accept-proxy does not apply: inetd hands over a connection */
	session_serve(cfg, fe, 0, 1, &src, &dst, NULL, NULL);
	exit(0);
}
