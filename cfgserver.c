/*
 * cfgserver.c - "server" and "default-server" lines: the server's name
 * and address, then its parameters, read through one sorted table that
 * says what each parameter sets or why it is refused. A default-server
 * line sets the starting values of the server lines after it in its
 * section; a proxy inherits those of the defaults section it follows,
 * as in HAProxy.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"

#define DEFAULT_INTER 2000      /* ms between health checks */
#define DEFAULT_RISE 2
#define DEFAULT_FALL 3

enum sp_kind {
	SP_SET,                 /* a flag: the int at offset becomes min */
	SP_INT,                 /* an integer in min..max */
	SP_TIME,                /* a time > 0, in ms */
	SP_ACCEPT,              /* a value accepted and dropped (id) */
	SP_NONE,                /* support is not KW_DONE */
};

struct server_param {
	const char *name;
	enum sp_kind kind;
	int has_value;
	size_t offset;          /* of an int in struct server */
	int min, max;
	enum kw_support support;
};

#define SRV(field) offsetof(struct server, field)
#define SET(name, field, v) { name, SP_SET, 0, SRV(field), v, v, KW_DONE }
#define INT(name, field, lo, hi) \
	{ name, SP_INT, 1, SRV(field), lo, hi, KW_DONE }
#define TIME(name, field) { name, SP_TIME, 1, SRV(field), 1, 0, KW_DONE }
#define OTHER(name, has_value, support) \
	{ name, SP_NONE, has_value, 0, 0, 0, support }

/*
 * Sorted (kwtable.h); test/keywords.bats reads the lines between the
 * markers. Refused: maxqueue and minconn limit, redir answers with a
 * redirect, source chooses the address the server sees; TLS is never
 * silently replaced by plaintext.
 */
/* BEGIN KEYWORDS server */
static const struct server_param server_params[] = {
	OTHER("addr", 1, KW_WARN),
	OTHER("agent-check", 0, KW_WARN),
	SET("backup", backup, 1),
	OTHER("ca-file", 1, KW_TLS),
	SET("check", check, 1),
	SET("check-send-proxy", check_send_proxy, 1),
	OTHER("check-ssl", 0, KW_TLS),
	OTHER("cookie", 1, KW_WARN),
	OTHER("crt", 1, KW_TLS),
	SET("disabled", disabled, 1),
	TIME("downinter", downinter),
	SET("enabled", disabled, 0),
	OTHER("error-limit", 1, KW_WARN),
	INT("fall", fall, 1, 1000000),
	TIME("fastinter", fastinter),
	{ "id", SP_ACCEPT, 1, 0, 0, 0, KW_DONE },
	OTHER("init-addr", 1, KW_WARN),
	TIME("inter", inter),
	INT("maxconn", maxconn, 0, 1000000),
	OTHER("maxqueue", 1, KW_REFUSE),
	OTHER("minconn", 1, KW_REFUSE),
	SET("no-check", check, 0),
	OTHER("non-stick", 0, KW_WARN),
	OTHER("observe", 1, KW_WARN),
	OTHER("on-error", 1, KW_WARN),
	OTHER("on-marked-down", 1, KW_WARN),
	OTHER("on-marked-up", 1, KW_WARN),
	INT("port", check_port, 1, 65535),
	OTHER("redir", 1, KW_REFUSE),
	OTHER("resolvers", 1, KW_WARN),
	INT("rise", rise, 1, 1000000),
	SET("send-proxy", send_proxy, 1),
	SET("send-proxy-v2", send_proxy, 2),
	OTHER("slowstart", 1, KW_WARN),
	OTHER("sni", 1, KW_TLS),
	OTHER("source", 1, KW_REFUSE),
	OTHER("ssl", 0, KW_TLS),
	OTHER("track", 1, KW_WARN),
	OTHER("verify", 1, KW_TLS),
	INT("weight", weight, 0, 256),
};
/* END KEYWORDS */
#undef SRV
#undef SET
#undef INT
#undef TIME
#undef OTHER

static const struct kwtable server_table = KWTABLE("server parameters",
    server_params);

int
server_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&server_table, err, errlen);
}

void
server_init_defaults(struct server *srv)
{
	memset(srv, 0, sizeof(*srv));
	srv->weight = 1;
	srv->inter = DEFAULT_INTER;
	srv->rise = DEFAULT_RISE;
	srv->fall = DEFAULT_FALL;
}

static int
param_value(struct parser *p, struct server *srv,
    const struct server_param *sp, const char *value)
{
	int *field = (int *)(void *)((char *)srv + sp->offset);

	switch (sp->kind) {
	case SP_SET:
		*field = sp->min;
		return 0;
	case SP_INT:
		return parse_int(p, sp->name, value, sp->min, sp->max, field);
	case SP_TIME:
		if (parse_time(p, sp->name, value, field) < 0)
			return -1;
		if (*field == 0) {
			p_err(p, "'%s' has to be > 0.", sp->name);
			return -1;
		}
		return 0;
	case SP_ACCEPT:
	case SP_NONE:
		break;
	}
	return 0;
}

/*
 * Reads the parameter at w[i] into srv (who names the line in messages;
 * srv has no name on a default-server line). Returns the words it takes
 * (after an error too, so that the next one is read as a parameter), 0
 * for an unknown one; *failed is set on an error.
 */
static int
server_param(struct parser *p, const char *who, struct server *srv,
    char **w, int n, int i, int *failed)
{
	const struct server_param *sp = kwtable_find(&server_table, w[i]);
	char what[256];

	if (sp == NULL) {
		p_err(p, "'%s' : unknown keyword '%s'.", who, w[i]);
		*failed = 1;
		return 0;
	}
	if (sp->has_value && i + 1 >= n) {
		p_err(p, "'%s' : '%s' expects an argument.", who, w[i]);
		*failed = 1;
		return 1;
	}
	if (sp->kind == SP_ACCEPT && srv->name == NULL) {
		p_err(p, "'%s' : '%s' is specific to each server.", who, w[i]);
		*failed = 1;
	} else if (sp->support != KW_DONE) {
		snprintf(what, sizeof(what), "'%s' : '%s'", who, w[i]);
		p_unsupported(p, sp->support, what);
		if (sp->support != KW_WARN)
			*failed = 1;
	} else if (param_value(p, srv, sp, sp->has_value ? w[i + 1] : NULL) <
	    0) {
		*failed = 1;
	}
	return 1 + sp->has_value;
}

/* An unknown word ends the line's parameters: what follows it cannot be
 * told apart from values. */
static int
server_params_parse(struct parser *p, const char *who, struct server *srv,
    char **w, int n, int first)
{
	int failed = 0;

	for (int i = first; i < n;) {
		int used = server_param(p, who, srv, w, n, i, &failed);
		if (used == 0)
			break;
		i += used;
	}
	return failed ? -1 : 0;
}

int
server_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	struct server *srv;
	char err[256], who[256];

	if (!(px->cap & CAP_BE)) {
		p_err(p, "'server' not allowed because %s '%s' has no backend "
		    "capability.", px->kind, px->name);
		return -1;
	}
	if (need_args(p, w, n, 2, "<name> and <addr>[:<port>] as arguments") < 0)
		return -1;
	for (int i = 0; i < px->nservers; i++) {
		if (strcmp(px->servers[i].name, w[1]) == 0) {
			p_err(p, "backend '%s', another server named '%s' was "
			    "already defined at line %d, please use distinct "
			    "names.", px->name, w[1], px->servers[i].line);
			return -1;
		}
	}
	srv = grow(&px->servers, &px->nservers, sizeof(*srv));
	*srv = px->defsrv;
	srv->name = xstrdup(w[1]);
	srv->addr_text = xstrdup(w[2]);
	srv->line = p->line;
	if (net_parse_server(w[2], &srv->addr, &srv->port_mode,
	    &srv->port_offset, err, sizeof(err)) < 0) {
		p_err(p, "'server %s' : %s", w[1], err);
		return -1;
	}
	snprintf(who, sizeof(who), "server %s/%s", px->name, srv->name);
	if (server_params_parse(p, who, srv, w, n, 3) < 0)
		return -1;
	if (srv->check && srv->port_mode != PORT_FIXED &&
	    srv->check_port == 0) {
		p_warn(p, "'server %s/%s' has neither service port nor check "
		    "port. Check has been disabled.", px->name, srv->name);
		srv->check = 0;
	}
	return 0;
}

/* "default-server PARAM...": every parameter of "server" but "id". */
int
server_parse_defaults(struct parser *p, struct proxy *px, char **w, int n)
{
	struct server defsrv = px->defsrv;

	if (!proxy_check_cap(p, px, w[0], CAP_BE))
		return 0;
	if (server_params_parse(p, "default-server", &defsrv, w, n, 1) < 0)
		return -1;
	px->defsrv = defsrv;
	return 0;
}
