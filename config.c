/*
 * config.c - the configuration file as a whole: its sections, the
 * inheritance from defaults sections, the checks run once every line is
 * read (backend names, modes, timeouts), the start-up check of every
 * keyword table, and freeing a configuration. The lines of each section
 * are read by cfgglobal.c, cfgproxy.c (with cfgoption.c and cfgserver.c)
 * and cfguserlist.c, over the words and diagnostics of cfgwords.c. Every
 * diagnostic is "FILE:LINE: message"; parsing goes on after an error so
 * that all of them are reported, and a file with any error gives no
 * configuration.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgparse.h"
#include "kwtable.h"
#include "log.h"
#include "match.h"
#include "stkfetch.h"

#define DEFAULT_MAXCONN 2000    /* HAProxy 1.x, global and per frontend */
#define DEFAULT_BUFSIZE 16384
#define DEFAULT_RETRIES 3

/* ---- proxies and defaults ---- */

static void
proxy_init_defaults(struct proxy *px)
{
	memset(px, 0, sizeof(*px));
	server_init_defaults(&px->defsrv);
	px->cap = CAP_FE | CAP_BE;
	px->kind = "defaults";
	px->mode = MODE_TCP;
	px->conn_mode = CONN_MODE_KAL;
	px->maxconn = DEFAULT_MAXCONN;
	px->retries = DEFAULT_RETRIES;
	px->xff_except_len = -1;
}

/* *to becomes a copy of from that owns its strings and its log list. */
static void
proxy_copy_settings(struct proxy *to, const struct proxy *from)
{
	*to = *from;
	to->name = strdup_or_null(from->name);
	to->default_backend_name = strdup_or_null(from->default_backend_name);
	to->xff_header = strdup_or_null(from->xff_header);
	to->httpchk_line = strdup_or_null(from->httpchk_line);
	reply_copy_settings(to, from);
	stats_copy_settings(&to->stats, &from->stats);
	to->logs = NULL;
	if (from->nlogs > 0) {
		/* the capacity grow() expects, since more may be added */
		to->logs = xcalloc(grow_capacity((size_t)from->nlogs),
		    sizeof(*to->logs));
		memcpy(to->logs, from->logs,
		    (size_t)from->nlogs * sizeof(*to->logs));
	}
}

/* Frees what proxy_copy_settings() gave a defaults section. */
static void
defaults_release(struct proxy *d)
{
	free(d->name);
	free(d->default_backend_name);
	free(d->xff_header);
	free(d->httpchk_line);
	free(d->logs);
	reply_free_settings(d);
	stats_free_settings(&d->stats);
	memset(d, 0, sizeof(*d));
}

/* A new proxy starts as a copy of the defaults; lists are its own. */
static struct proxy *
proxy_new(struct parser *p, const char *kind, const char *name, int cap)
{
	struct proxy *px = xcalloc(1, sizeof(*px));

	proxy_copy_settings(px, &p->defaults);
	free(px->name);
	px->name = xstrdup(name);
	px->kind = kind;
	px->cap = cap;
	px->line = p->line;
	px->timeouts_set = 0;
	return px;
}

static int
valid_proxy_name(const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.:", *c))
			return 0;
	return *name != '\0';
}

static struct proxy *
find_proxy(const struct config *cfg, const char *name, int cap)
{
	for (struct proxy *px = cfg->proxies; px; px = px->next)
		if ((px->cap & cap) && strcmp(px->name, name) == 0)
			return px;
	return NULL;
}

struct proxy *
config_find_frontend(const struct config *cfg, const char *name)
{
	return find_proxy(cfg, name, CAP_FE);
}

/* A name from a request (use_backend %[...]) is not a C string: it is
 * counted, and may hold any byte, a NUL included, which no name has. */
const struct proxy *
config_find_backend(const struct config *cfg, const char *name, size_t len)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		if ((px->cap & CAP_BE) && strlen(px->name) == len &&
		    memcmp(px->name, name, len) == 0)
			return px;
	return NULL;
}

/* The section keywords; kind is a table's name: it outlives the line. */
struct section_kw {
	const char *name;
	void (*start)(struct parser *, const struct section_kw *, char **,
	    int);
	int cap;                /* of a proxy section */
};

static void
start_proxy(struct parser *p, const struct section_kw *sk, char **w, int n)
{
	const char *kind = sk->name;
	struct proxy *px, *dup;

	if (n < 2) {
		p_err(p, "'%s' expects <name> as an argument.", kind);
		p->cur = NULL;
		return;
	}
	if (!valid_proxy_name(w[1]))
		p_err(p, "character not permitted in %s name '%s'.", kind,
		    w[1]);
	dup = find_proxy(p->cfg, w[1], sk->cap);
	if (dup != NULL)
		p_err(p, "%s '%s' has the same name as %s '%s' declared at "
		    "%s:%d.", kind, w[1], dup->kind, dup->name, p->file,
		    dup->line);
	px = proxy_new(p, kind, w[1], sk->cap);
	*p->tail = px;
	p->tail = &px->next;
	p->cur = px;
	p->sec = SEC_PROXY;
	/* HAProxy <= 1.5: "listen NAME ADDR:PORT" is an implicit bind. */
	if (n > 2) {
		int first, count;
		if (!(sk->cap & CAP_FE) || n > 3) {
			p_err(p, "'%s' : unexpected argument '%s'.", kind,
			    w[(sk->cap & CAP_FE) ? 3 : 2]);
			return;
		}
		proxy_parse_bind_list(p, w[2], &first, &count);
	}
}

static void
start_global(struct parser *p, const struct section_kw *sk, char **w,
    int n)
{
	(void)sk;
	(void)w;
	p->sec = SEC_GLOBAL;
	if (n > 1)
		p_err(p, "'global' expects no argument.");
}

static struct named_defaults *
find_named_defaults(struct parser *p, const char *name)
{
	for (struct named_defaults *d = p->named; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* "defaults [NAME] [from DEF]": resets everything, it does not inherit. */
static void
start_defaults(struct parser *p, const struct section_kw *sk, char **w,
    int n)
{
	(void)sk;
	defaults_release(&p->defaults);
	proxy_init_defaults(&p->defaults);
	if (n == 4 && strcmp(w[2], "from") == 0) {
		struct named_defaults *from = find_named_defaults(p, w[3]);
		if (from == NULL)
			p_err(p, "defaults section '%s' not found.", w[3]);
		else
			proxy_copy_settings(&p->defaults, &from->px);
	} else if (n > 2) {
		p_err(p, "'defaults' expects [<name>] [from <defaults>].");
	}
	free(p->defaults.name);
	p->defaults.name = n >= 2 ? xstrdup(w[1]) : NULL;
	p->defaults.line = p->line;
	p->sec = SEC_DEFAULTS;
	p->cur = &p->defaults;
}

static void
start_userlist(struct parser *p, const struct section_kw *sk, char **w,
    int n)
{
	(void)sk;
	userlist_section_start(p, w, n);
}

/* A named defaults is kept, as it stands at the end of its section. */
static void
end_section(struct parser *p)
{
	if (p->sec == SEC_DEFAULTS && p->defaults.name != NULL) {
		struct named_defaults *d = xcalloc(1, sizeof(*d));
		proxy_copy_settings(&d->px, &p->defaults);
		d->name = d->px.name;
		d->next = p->named;
		p->named = d;
	}
}

/* ---- the file ---- */

/* Sorted (kwtable.h). Any other section (peers, resolvers...) is an
 * error: its keywords are unknown. */
static const struct section_kw section_kws[] = {
	{ "backend",  start_proxy,    CAP_BE },
	{ "defaults", start_defaults, 0 },
	{ "frontend", start_proxy,    CAP_FE },
	{ "global",   start_global,   0 },
	{ "listen",   start_proxy,    CAP_FE | CAP_BE },
	{ "userlist", start_userlist, 0 },
};

static const struct kwtable section_table = KWTABLE("sections",
    section_kws);

static int
section_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&section_table, err, errlen);
}

static void
parse_line(struct parser *p, char **w, int n)
{
	const struct section_kw *sk = kwtable_find(&section_table, w[0]);

	if (sk != NULL) {
		end_section(p);
		sk->start(p, sk, w, n);
		return;
	}
	switch (p->sec) {
	case SEC_NONE:
		p_err(p, "unknown keyword '%s' out of section.", w[0]);
		break;
	case SEC_GLOBAL:
		global_parse_line(p, w, n);
		break;
	case SEC_DEFAULTS:
	case SEC_PROXY:
		proxy_parse_line(p, w, n);
		break;
	case SEC_USERLIST:
		userlist_parse_line(p, w, n);
		break;
	}
}

/* Whatever parsed an http_auth*(L) ACL on this line (acl, use_backend,
 * a rule's condition), its userlist is resolved at the end of the file
 * (cfguserlist.c), and errors then name this line; so are the tables of
 * the stick-table fetches read on it (cfgstick.c). */
static void
claim_userlist_refs(struct parser *p)
{
	int in_proxy = p->sec == SEC_PROXY || p->sec == SEC_DEFAULTS;

	acl_userlist_claim(p->line, in_proxy && p->cur != NULL ?
	    p->cur->name : NULL);
	stk_fetch_claim(p->line, in_proxy && p->cur != NULL ?
	    p->cur->name : NULL);
}

/* ---- checks once the whole file is read ---- */

static struct proxy *
resolve_backend(struct parser *p, struct proxy *fe, const char *name,
    int line, const char *what)
{
	struct proxy *be = find_proxy(p->cfg, name, CAP_BE);

	if (be == NULL) {
		p_err_at(p, line, "Proxy '%s': unable to find required %s: "
		    "'%s'.", fe->name, what, name);
		return NULL;
	}
	if (be->mode != fe->mode)
		p_err_at(p, line, "%s %s '%s' (%s:%d) tries to use incompatible "
		    "%s backend '%s' (%s:%d) (see 'mode').",
		    fe->mode == MODE_HTTP ? "http" : "tcp", fe->kind, fe->name,
		    p->file, fe->line, be->mode == MODE_HTTP ? "http" : "tcp",
		    be->name, p->file, be->line);
	return be;
}

/*
 * A use_backend name is a log-format value (2.6's check_config): one
 * with a %-expression names the backend per request (rule->dynamic);
 * one that is text after all ("a%%b") is resolved now. Parsed here, not
 * on the line, because the frontend's mode (what fetches it may use) is
 * only known at the end of its section.
 */
static int
parse_backend_name(struct parser *p, struct proxy *fe, struct switch_rule *r)
{
	int flags = LF_CTX_REQ | (fe->mode == MODE_HTTP ? LF_HTTP : 0);
	char err[512];
	const char *text;
	size_t len;

	if (strchr(r->backend_name, '%') == NULL)
		return 0;
	r->dynamic = logfmt_parse_in(r->backend_name, flags, err, sizeof(err));
	if (r->dynamic == NULL) {
		len = strlen(err);
		if (len > 0 && err[len - 1] == '.')
			err[len - 1] = '\0';   /* the line adds its own */
		p_err_at(p, r->line, "failed to parse use_backend rule '%s' : "
		    "%s.", r->backend_name, err);
		return -1;
	}
	if ((text = logfmt_literal(r->dynamic)) == NULL)
		return 1;
	free(r->backend_name);
	r->backend_name = xstrdup(text);
	logfmt_free(r->dynamic);
	r->dynamic = NULL;
	return 0;
}

static void
check_frontend(struct parser *p, struct proxy *fe)
{
	for (int i = 0; i < fe->nrules; i++) {
		struct switch_rule *r = &fe->rules[i];
		int rc = parse_backend_name(p, fe, r);
		/* its stick-table fetches (cfgstick.c) */
		stk_fetch_claim(r->line, fe->name);
		if (rc == 0)
			r->backend = resolve_backend(p, fe, r->backend_name,
			    r->line, "use_backend");
		if (fe->mode == MODE_TCP && r->cond != NULL &&
		    acl_cond_needs_http(r->cond))
			p_warn_at(p, r->line, "tcp %s '%s': this rule uses HTTP "
			    "fetches, which never match in tcp mode.",
			    fe->kind, fe->name);
	}
	if (fe->default_backend_name != NULL)
		fe->default_backend = resolve_backend(p, fe,
		    fe->default_backend_name, fe->default_backend_line,
		    "default_backend");
	if (fe->mode == MODE_TCP && (fe->options & OPT_HTTPLOG))
		p_warn_at(p, fe->line, "tcp %s '%s': 'option httplog' has no "
		    "effect in tcp mode.", fe->kind, fe->name);
	if (fe->mode == MODE_TCP && (fe->options & OPT_FORWARDFOR))
		p_warn_at(p, fe->line, "tcp %s '%s': 'option forwardfor' has "
		    "no effect in tcp mode.", fe->kind, fe->name);
	if (fe->mode == MODE_TCP && fe->monitor_uri != NULL)
		p_warn_at(p, fe->line, "tcp %s '%s': 'monitor-uri' has no "
		    "effect in tcp mode.", fe->kind, fe->name);
	if (fe->nbinds == 0)
		p_warn_at(p, fe->line, "%s '%s' has no 'bind' directive. Please "
		    "declare it as a backend if this was intended.", fe->kind,
		    fe->name);
}

static void
check_timeouts(struct parser *p, struct proxy *px)
{
	int missing = 0;

	if ((px->cap & CAP_FE) && px->to.client == 0)
		missing = 1;
	if ((px->cap & CAP_BE) && px->nservers > 0 && (px->to.connect == 0 ||
	    (px->to.server == 0 && !(px->mode == MODE_TCP && px->to.tunnel))))
		missing = 1;
	if (missing)
		p_warn_at(p, px->line, "missing timeouts for %s '%s'. While not "
		    "properly invalid, you will certainly encounter various "
		    "problems with such a configuration. To fix this, please "
		    "ensure that all following timeouts are set to a non-zero "
		    "value: 'client', 'connect', 'server'.",
		    strcmp(px->kind, "listen") == 0 ? "proxy" : px->kind,
		    px->name);
}

static void
check_config(struct parser *p)
{
	for (struct proxy *px = p->cfg->proxies; px; px = px->next) {
		if (px->cap & CAP_FE)
			check_frontend(p, px);
		else if (px->mode == MODE_TCP && (px->options & OPT_FORWARDFOR))
			p_warn_at(p, px->line, "tcp backend '%s': 'option "
			    "forwardfor' has no effect in tcp mode.", px->name);
		redirect_check(p, px);
		check_timeouts(p, px);
		(void)rules_check_proxy(p, px);
		tcprules_check(p, px);
	}
}

/* Every keyword table is sorted, or nothing starts (kwtable.h). */
static void
tables_check(void)
{
	int (*const checks[])(char *, size_t) = { section_tables_check,
	    global_tables_check, proxy_tables_check, option_tables_check,
	    server_tables_check, acl_tables_check, rules_tables_check,
	    logfmt_tables_check, stick_tables_check };
	char err[256];

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (checks[i](err, sizeof(err)) < 0)
			fatalx("%s", err);
}

static void
config_init(struct config *cfg, const char *file)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->file = file;
	cfg->maxconn = DEFAULT_MAXCONN;
	cfg->bufsize = DEFAULT_BUFSIZE;
	cfg->maxhdr = HTTP_DEFAULT_MAXHDR;
	cfg->log_tag = xstrdup("wsproxy");
	cfg->stats_timeout = 10000;
	cfg->stats_maxconn = 10;
}

struct config *
config_load(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_plain("%s:0: cannot open configuration file: %s", file,
		    strerror(errno));
		return NULL;
	}
	return config_load_fd(fd, file);
}

static void
parse_file(struct parser *p, FILE *fp)
{
	struct wordbuf *wb = xcalloc(1, sizeof(*wb));
	char *line = NULL, *words[MAX_WORDS];
	size_t cap = 0;

	while (getline(&line, &cap, fp) >= 0) {
		int n;
		p->line++;
		line[strcspn(line, "\r\n")] = '\0';
		n = split_words(p, line, wb, words);
		if (n > 0)
			parse_line(p, words, n);
		claim_userlist_refs(p);
	}
	if (ferror(fp))
		p_err(p, "read error: %s", strerror(errno));
	free(line);
	free(wb);
}

/* What the parser holds besides the configuration: the defaults. */
static void
parser_release(struct parser *p)
{
	defaults_release(&p->defaults);
	while (p->named != NULL) {
		struct named_defaults *next = p->named->next;
		defaults_release(&p->named->px);
		free(p->named);
		p->named = next;
	}
}

struct config *
config_load_fd(int fd, const char *file)
{
	struct config *cfg;
	struct parser p;
	FILE *fp;

	tables_check();
	if ((fp = fdopen(fd, "r")) == NULL) {
		log_plain("%s:0: cannot read configuration file: %s", file,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	config_init(cfg, file);
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = file;
	p.tail = &cfg->proxies;
	proxy_init_defaults(&p.defaults);
	parse_file(&p, fp);
	fclose(fp);
	end_section(&p);
	global_finish(&p);
	userlist_finish(&p);
	check_config(&p);
	stick_finish(&p);
	parser_release(&p);
	if (p.errors == 0)
		return cfg;
	config_free(cfg);
	return NULL;
}

/* ---- inetd mode ---- */

/*
 * In inetd mode (-i) the connection is served by the process inetd
 * started, as it was started: no chroot, no change of user or group.
 * Lines asking for them would be ignored, and the connection served
 * with more privileges than the file says: each is reported.
 */
int
config_check_inetd(const struct config *cfg)
{
	const struct {
		const char *what;
		int line;
	} refused[] = {
		{ "chroot", cfg->chroot_line },
		{ "user/uid", cfg->uid_line },
		{ "group/gid", cfg->gid_line },
	};
	int errors = 0;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (refused[i].line == 0)
			continue;
		log_plain("%s:%d: '%s' cannot be honoured in inetd mode (-i): "
		    "the connection would be served without it; start "
		    "wsproxy under that identity or root directory instead.",
		    cfg->file, refused[i].line, refused[i].what);
		errors++;
	}
	/* A runtime socket needs a running parent to accept on it; each
	 * inetd connection is a wsproxy of its own, gone when it ends. */
	for (int i = 0; i < cfg->nstats_sockets; i++) {
		log_plain("%s:%d: 'stats socket' cannot be served in inetd "
		    "mode (-i): no process outlives the connection to accept "
		    "on it; remove it from the file used with -i.", cfg->file,
		    cfg->stats_sockets[i].line);
		errors++;
	}
	/* A stick table counts across the connections of one running
	 * wsproxy, in memory its processes share; under inetd each
	 * connection is a wsproxy of its own, and a limit would count one
	 * connection and never hold (fail closed). */
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		if (px->table == NULL)
			continue;
		log_plain("%s:%d: 'stick-table' cannot be honoured in inetd "
		    "mode (-i): each connection is a process of its own there, "
		    "and its limits would count one connection and never hold; "
		    "run wsproxy standalone.", cfg->file, px->table->line);
		errors++;
	}
	return errors;
}

/* ---- freeing ---- */

static void
proxy_free(struct proxy *px)
{
	free(px->name);
	free(px->default_backend_name);
	free(px->xff_header);
	free(px->httpchk_line);
	free(px->logs);
	for (int i = 0; i < px->nservers; i++) {
		free(px->servers[i].name);
		free(px->servers[i].addr_text);
	}
	free(px->servers);
	for (int i = 0; i < px->nrules; i++) {
		free(px->rules[i].backend_name);
		logfmt_free(px->rules[i].dynamic);
		acl_cond_free(px->rules[i].cond);
	}
	free(px->rules);
	rule_list_free(&px->tcp_conn);
	rule_list_free(&px->tcp_session);
	rule_list_free(&px->tcp_content);
	rule_list_free(&px->http_req);
	rule_list_free(&px->http_resp);
	rule_list_free(&px->redirects);
	reply_free_settings(px);
	stats_free_settings(&px->stats);
	for (int d = CAPTURE_REQ; d <= CAPTURE_RESP; d++) {
		for (int i = 0; i < px->ncaps[d]; i++)
			free(px->caps[d][i].name);
		free(px->caps[d]);
	}
	acl_free_list(px->acls);
	stick_table_free(px->table);
	free(px);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	while (cfg->proxies != NULL) {
		struct proxy *next = cfg->proxies->next;
		proxy_free(cfg->proxies);
		cfg->proxies = next;
	}
	/* the parent closes or hands over its sockets; any left is ours */
	for (int i = 0; i < cfg->nstats_sockets; i++) {
		struct stats_socket *ss = &cfg->stats_sockets[i];
		if (ss->fd >= 0)
			close(ss->fd);
		if (ss->dir_fd >= 0)
			close(ss->dir_fd);
		free(ss->path);
	}
	free(cfg->stats_sockets);
	/* listeners_close() closes them; any still open is ours */
	for (int i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].fd >= 0)
			close(cfg->listeners[i].fd);
	free(cfg->listeners);
	free(cfg->logs);
	free(cfg->chroot_dir);
	free(cfg->pidfile);
	free(cfg->log_tag);
	userlist_free_all(cfg->userlists);
	free(cfg);
}
