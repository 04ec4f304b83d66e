/*
 * logfmt.c - log-format values (logfmt.h). A value is parsed once, at
 * load, into a list of nodes: literal text, a variable (%ci, %b...) or
 * a sample expression (%[fetch,conv,...]). Expanding walks the nodes
 * and writes into the caller's buffer, never past its end.
 *
 * Fetches walk the head with http.c's helpers (http_hdr_find,
 * http_value_next, http_req_path), as match.c does for ACLs. Which
 * fetch a context allows follows 2.6's sample capabilities: request
 * header fetches (path, url, req.hdr...) are refused in response rules,
 * response fetches (status, res.hdr) in request rules; method and the
 * connection's addresses work in both.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "kwtable.h"
#include "logfmt.h"
#include "net.h"
#include "stkfetch.h"

enum lf_kind { LF_TEXT, LF_VAR, LF_EXPR };

enum lf_fetch {
	F_BASE, F_DST, F_DST_PORT, F_METHOD, F_PATH, F_QUERY, F_REQ_FHDR,
	F_REQ_HDR, F_REQ_VER, F_RES_FHDR, F_RES_HDR, F_SRC, F_SRC_PORT,
	F_STATUS, F_URL,
	F_STK                   /* sc*_, src_*, table_* (stkfetch.h) */
};

/* What a fetch reads: 2.6's sample sources, named as its messages do. */
enum lf_need {
	NEED_CONN,              /* addresses: always there */
	NEED_REQ_HDRS,          /* "HTTP request headers": request rules */
	NEED_REQ,               /* "HTTP request" (method): both */
	NEED_RESP_HDRS,         /* "HTTP response headers": response rules */
	NEED_RESP               /* "HTTP response" (status) */
};

static const char *const need_names[] = {
	"client address", "HTTP request headers", "HTTP request",
	"HTTP response headers", "HTTP response"
};

enum lf_arg { ARG_NONE, ARG_HDR };      /* hdr(NAME[,OCC]) */

struct fetch_kw {
	const char *name;
	enum lf_fetch fetch;
	enum lf_need need;
	enum lf_arg arg;
};

/* Sorted (kwtable.h). hdr and shdr are 2.6's aliases of req.hdr and
 * res.hdr. */
static const struct fetch_kw fetch_kws[] = {
	{ "base",     F_BASE,     NEED_REQ_HDRS,  ARG_NONE },
	{ "dst",      F_DST,      NEED_CONN,      ARG_NONE },
	{ "dst_port", F_DST_PORT, NEED_CONN,      ARG_NONE },
	{ "hdr",      F_REQ_HDR,  NEED_REQ_HDRS,  ARG_HDR },
	{ "method",   F_METHOD,   NEED_REQ,       ARG_NONE },
	{ "path",     F_PATH,     NEED_REQ_HDRS,  ARG_NONE },
	{ "query",    F_QUERY,    NEED_REQ_HDRS,  ARG_NONE },
	{ "req.fhdr", F_REQ_FHDR, NEED_REQ_HDRS,  ARG_HDR },
	{ "req.hdr",  F_REQ_HDR,  NEED_REQ_HDRS,  ARG_HDR },
	{ "req.ver",  F_REQ_VER,  NEED_REQ_HDRS,  ARG_NONE },
	{ "res.fhdr", F_RES_FHDR, NEED_RESP_HDRS, ARG_HDR },
	{ "res.hdr",  F_RES_HDR,  NEED_RESP_HDRS, ARG_HDR },
	{ "shdr",     F_RES_HDR,  NEED_RESP_HDRS, ARG_HDR },
	{ "src",      F_SRC,      NEED_CONN,      ARG_NONE },
	{ "src_port", F_SRC_PORT, NEED_CONN,      ARG_NONE },
	{ "status",   F_STATUS,   NEED_RESP,      ARG_NONE },
	{ "url",      F_URL,      NEED_REQ_HDRS,  ARG_NONE },
};

enum lf_conv { CONV_LOWER, CONV_UPPER };

struct conv_kw {
	const char *name;
	enum lf_conv conv;
};

static const struct conv_kw conv_kws[] = {
	{ "lower", CONV_LOWER },
	{ "upper", CONV_UPPER },
};

enum lf_var {
	V_B, V_BI, V_BP, V_CI, V_CP, V_F, V_FI, V_FP, V_FT, V_H, V_S, V_SI,
	V_SP
};

struct var_kw {
	const char *name;
	enum lf_var var;
};

static const struct var_kw var_kws[] = {
	{ "H",  V_H },
	{ "b",  V_B },
	{ "bi", V_BI },
	{ "bp", V_BP },
	{ "ci", V_CI },
	{ "cp", V_CP },
	{ "f",  V_F },
	{ "fi", V_FI },
	{ "fp", V_FP },
	{ "ft", V_FT },
	{ "s",  V_S },
	{ "si", V_SI },
	{ "sp", V_SP },
};

/* 2.6's other variables (timers, counters, the request line...): a
 * value using one is refused as unsupported rather than unknown. */
static const char *const other_vars[] = {
	"B", "CC", "CS", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "ST",
	"T", "TR", "Ta", "Tc", "Td", "Th", "Ti", "Tq", "Tr", "Ts", "Tt",
	"Tw", "U", "ac", "bc", "bq", "fc", "hr", "hrl", "hs", "hsl", "lc",
	"ms", "o", "pid", "r", "rc", "rt", "sc", "sq", "sslc", "sslv", "t",
	"tr", "trg", "trl", "ts", "tsc"
};

static const struct kwtable fetch_table = KWTABLE("log-format fetches",
    fetch_kws);
static const struct kwtable conv_table = KWTABLE("log-format converters",
    conv_kws);
static const struct kwtable var_table = KWTABLE("log-format variables",
    var_kws);
static const struct kwtable other_var_table = KWTABLE(
    "2.6's other log-format variables", other_vars);

#define LF_OPT_QUOTE 0x1        /* +Q */
#define LF_OPT_HEX   0x2        /* +X */
#define LF_MAX_CONVS 8

struct lf_node {
	enum lf_kind kind;
	unsigned opts;          /* LF_OPT_* */
	char *text;             /* LF_TEXT: the text; LF_EXPR: header name */
	size_t len;
	enum lf_var var;
	enum lf_fetch fetch;
	int occ;                /* hdr(NAME,OCC); default -1: the last */
	enum lf_conv convs[LF_MAX_CONVS];
	int nconvs;
	struct stk_fetch *stk;  /* F_STK */
	enum lf_need need;      /* what its fetch reads */
};

struct logfmt {
	struct lf_node *nodes;
	int n;
	char *literal;          /* no variable nor expression: the text */
};

int
logfmt_tables_check(char *err, size_t errlen)
{
	const struct kwtable *tables[] = { &fetch_table, &conv_table,
	    &var_table, &other_var_table };

	for (size_t i = 0; i < NELEM(tables); i++)
		if (kwtable_check(tables[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* ---- parsing ---- */

struct lf_parse {
	const char *text;       /* the whole value, for messages */
	int flags;              /* LF_CTX_*, LF_HTTP */
	char *err;
	size_t errlen;
	struct logfmt *f;
};

static struct lf_node *
add_node(struct lf_parse *ps, enum lf_kind kind)
{
	struct lf_node *nodes = reallocarray(ps->f->nodes,
	    (size_t)ps->f->n + 1, sizeof(*nodes));

	if (nodes == NULL) {
		snprintf(ps->err, ps->errlen, "out of memory.");
		return NULL;
	}
	ps->f->nodes = nodes;
	memset(&nodes[ps->f->n], 0, sizeof(nodes[0]));
	nodes[ps->f->n].kind = kind;
	nodes[ps->f->n].occ = -1;
	return &nodes[ps->f->n++];
}

/* Appends literal text, to the previous text node when there is one. */
static int
add_text(struct lf_parse *ps, const char *s, size_t n)
{
	struct lf_node *last = ps->f->n ? &ps->f->nodes[ps->f->n - 1] : NULL;
	char *text;

	if (last == NULL || last->kind != LF_TEXT)
		if ((last = add_node(ps, LF_TEXT)) == NULL)
			return -1;
	if ((text = realloc(last->text, last->len + n + 1)) == NULL) {
		snprintf(ps->err, ps->errlen, "out of memory.");
		return -1;
	}
	memcpy(text + last->len, s, n);
	last->len += n;
	text[last->len] = '\0';
	last->text = text;
	return 0;
}

/* "%{+Q}", "%{+Q,+X}", "%{+Q+X}": the flags 2.6 has that we implement;
 * others (+E escaping...) change the output, so they are refused.
 * Returns where the flags end (after '}'), or NULL. */
static const char *
parse_opts(struct lf_parse *ps, const char *p, unsigned *opts)
{
	const char *end = strchr(p, '}');

	if (end == NULL) {
		snprintf(ps->err, ps->errlen, "missing '}' after '%%{%s'.", p);
		return NULL;
	}
	while (p < end) {
		int add = *p == '+';
		unsigned bit;
		if (*p == ',') {
			p++;
			continue;
		}
		bit = p + 1 >= end ? 0 : p[1] == 'Q' ? LF_OPT_QUOTE :
		    p[1] == 'X' ? LF_OPT_HEX : 0;
		if ((*p != '+' && *p != '-') || bit == 0 ||
		    (p + 2 < end && p[2] != ',' && p[2] != '+' &&
		    p[2] != '-')) {
			snprintf(ps->err, ps->errlen, "unsupported log-format "
			    "flag in '%%{%.*s}': only +Q and +X are.",
			    (int)(end - p), p);
			return NULL;
		}
		*opts = add ? *opts | bit : *opts & ~bit;
		p += 2;
	}
	return end + 1;
}

static int
is_var_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *
parse_var(struct lf_parse *ps, const char *p, unsigned opts)
{
	char name[16];
	size_t n = 0;
	const struct var_kw *kw;
	struct lf_node *node;

	while (is_var_char(p[n]))
		n++;
	if (n == 0 || n >= sizeof(name)) {
		snprintf(ps->err, ps->errlen, "no such format variable '%.*s'. "
		    "If you wanted to emit the '%%' character verbatim, you "
		    "need to use '%%%%'.", (int)n, p);
		return NULL;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	if ((kw = kwtable_find(&var_table, name)) == NULL) {
		if (kwtable_find(&other_var_table, name) != NULL)
			snprintf(ps->err, ps->errlen, "format variable '%s' is "
			    "not supported in values.", name);
		else
			snprintf(ps->err, ps->errlen, "no such format variable "
			    "'%s'. If you wanted to emit the '%%' character "
			    "verbatim, you need to use '%%%%'.", name);
		return NULL;
	}
	if ((node = add_node(ps, LF_VAR)) == NULL)
		return NULL;
	node->var = kw->var;
	node->opts = opts;
	return p + n;
}

/* The message for a bad expression: 2.6 quotes the value from the
 * expression's start to the end of the text. */
static void
expr_error(struct lf_parse *ps, const char *expr, const char *what,
    const char *name, size_t name_len)
{
	snprintf(ps->err, ps->errlen, "failed to parse sample expression <%s> "
	    ": %s '%.*s'.", expr, what, (int)name_len, name);
}

/* hdr(NAME[,OCC]): the header name and the occurrence. */
static int
parse_hdr_args(struct lf_parse *ps, struct lf_node *node, const char *args,
    size_t len, const char *expr)
{
	const char *comma = memchr(args, ',', len);
	size_t name_len = comma ? (size_t)(comma - args) : len;

	if (comma != NULL) {
		char occ[16], *end;
		size_t occ_len = len - name_len - 1;
		long v;
		if (occ_len == 0 || occ_len >= sizeof(occ))
			goto bad_occ;
		memcpy(occ, comma + 1, occ_len);
		occ[occ_len] = '\0';
		v = strtol(occ, &end, 10);
		if (*end != '\0' || v < -1000000 || v > 1000000)
			goto bad_occ;
		node->occ = (int)v;
	}
	if ((node->text = strndup(args, name_len)) == NULL) {
		snprintf(ps->err, ps->errlen, "out of memory.");
		return -1;
	}
	node->len = name_len;
	return 0;
bad_occ:
	snprintf(ps->err, ps->errlen, "failed to parse sample expression <%s> "
	    ": invalid occurrence in '%.*s'.", expr, (int)len, args);
	return -1;
}

/* The context check: 2.6 refuses a fetch whose data is not there. */
static int
fetch_allowed(struct lf_parse *ps, const struct fetch_kw *kw,
    const char *expr)
{
	int ok;

	switch (kw->need) {
	case NEED_CONN:
		return 1;
	case NEED_REQ_HDRS:
		ok = (ps->flags & LF_CTX_REQ) != 0;
		break;
	case NEED_REQ:
		ok = 1;
		break;
	default:
		ok = (ps->flags & LF_CTX_RESP) != 0;
		break;
	}
	if (!(ps->flags & LF_HTTP)) {
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : fetch method '%s' needs an HTTP proxy (mode http).",
		    expr, kw->name);
		return 0;
	}
	if (!ok)
		snprintf(ps->err, ps->errlen, "sample fetch <%s> may not be "
		    "reliably used here because it needs '%s' which is not "
		    "available here", expr, need_names[kw->need]);
	return ok;
}

/* "name" or "name(args)" in [word, word + len): the name's length and
 * the arguments (NULL when none). -1 when the ')' is missing. */
static int
split_call(const char *word, size_t len, size_t *name_len,
    const char **args, size_t *args_len)
{
	const char *paren = memchr(word, '(', len);

	*args = NULL;
	*args_len = 0;
	*name_len = paren ? (size_t)(paren - word) : len;
	if (paren == NULL)
		return 0;
	if (word[len - 1] != ')')
		return -1;
	*args = paren + 1;
	*args_len = len - *name_len - 2;
	return 0;
}

/* sc0_conn_cur, src_http_req_rate(t)...: read the connection's
 * counters, so they are allowed wherever the addresses are. */
static int
parse_stk_fetch(struct lf_parse *ps, struct lf_node *node, const char *name,
    const char *args, size_t args_len, const char *expr)
{
	char arg[256], err[256];
	int rc;

	if (args != NULL && args_len >= sizeof(arg)) {
		expr_error(ps, expr, "arguments too long for fetch method",
		    name, strlen(name));
		return -1;
	}
	if (args != NULL) {
		memcpy(arg, args, args_len);
		arg[args_len] = '\0';
	}
	rc = stk_fetch_parse(name, args != NULL ? arg : NULL, 0, &node->stk,
	    err, sizeof(err));
	if (rc == 0)
		expr_error(ps, expr, "unknown fetch method", name, strlen(name));
	else if (rc < 0)
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : %s", expr, err);
	if (rc <= 0)
		return -1;
	node->fetch = F_STK;
	node->need = NEED_CONN;
	return 0;
}

static int
parse_fetch(struct lf_parse *ps, struct lf_node *node, const char *word,
    size_t len, const char *expr)
{
	char name[32];
	const char *args;
	size_t name_len, args_len;
	const struct fetch_kw *kw = NULL;

	if (split_call(word, len, &name_len, &args, &args_len) < 0) {
		expr_error(ps, expr, "missing closing ')' after arguments to "
		    "fetch keyword", word, strcspn(word, "("));
		return -1;
	}
	if (name_len < sizeof(name)) {
		memcpy(name, word, name_len);
		name[name_len] = '\0';
		kw = kwtable_find(&fetch_table, name);
	}
	if (kw == NULL && name_len < sizeof(name))
		return parse_stk_fetch(ps, node, name, args, args_len, expr);
	if (kw == NULL) {
		expr_error(ps, expr, "unknown fetch method", word, name_len);
		return -1;
	}
	if (!fetch_allowed(ps, kw, expr))
		return -1;
	node->fetch = kw->fetch;
	node->need = kw->need;
	if (kw->arg == ARG_HDR && args != NULL && args_len > 0)
		return parse_hdr_args(ps, node, args, args_len, expr);
	if (kw->arg == ARG_NONE && args != NULL) {
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : fetch method '%s' : no argument supported, but got "
		    "'%.*s'.", expr, name, (int)args_len, args);
		return -1;
	}
	return 0;
}

static int
parse_conv(struct lf_parse *ps, struct lf_node *node, const char *word,
    size_t len, const char *expr)
{
	char name[32];
	size_t name_len = strcspn(word, "(");
	const struct conv_kw *kw = NULL;

	if (name_len > len)
		name_len = len;
	if (name_len < sizeof(name)) {
		memcpy(name, word, name_len);
		name[name_len] = '\0';
		kw = kwtable_find(&conv_table, name);
	}
	if (kw == NULL) {
		expr_error(ps, expr, "unknown converter", word, name_len);
		return -1;
	}
	if (name_len != len) {
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : converter '%s' does not take any argument.", expr,
		    name);
		return -1;
	}
	if (node->nconvs == LF_MAX_CONVS) {
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : more than %d converters.", expr, LF_MAX_CONVS);
		return -1;
	}
	node->convs[node->nconvs++] = kw->conv;
	return 0;
}

/* The end of one comma-separated word of an expression: commas inside
 * parentheses (hdr(x,2)) belong to the word. */
static size_t
word_len(const char *p, size_t len)
{
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && depth > 0)
			depth--;
		else if (p[i] == ',' && depth == 0)
			return i;
	}
	return len;
}

/* p is just after "%[": the fetch, its converters, the ']'. */
static const char *
parse_expr(struct lf_parse *ps, const char *p, unsigned opts)
{
	const char *end = strchr(p, ']');
	struct lf_node *node;
	size_t len, n;

	if (end == NULL) {
		snprintf(ps->err, ps->errlen, "missing ']' after '%s'.", p);
		return NULL;
	}
	if ((node = add_node(ps, LF_EXPR)) == NULL)
		return NULL;
	node->opts = opts;
	len = (size_t)(end - p);
	n = word_len(p, len);
	if (n == 0) {
		snprintf(ps->err, ps->errlen, "failed to parse sample expression "
		    "<%s> : missing fetch method.", p);
		return NULL;
	}
	if (parse_fetch(ps, node, p, n, p) < 0)
		return NULL;
	for (size_t at = n; at < len; at += n) {
		at++;                                   /* the comma */
		n = word_len(p + at, len - at);
		if (parse_conv(ps, node, p + at, n, p) < 0)
			return NULL;
	}
	return end + 1;
}

/* After a '%': "%%", "%{flags}", then a variable or "[expr]". */
static const char *
parse_percent(struct lf_parse *ps, const char *p)
{
	unsigned opts = 0;

	if (*p == '%')
		return add_text(ps, "%", 1) < 0 ? NULL : p + 1;
	if (*p == '{' && (p = parse_opts(ps, p + 1, &opts)) == NULL)
		return NULL;
	if (*p == '[')
		return parse_expr(ps, p + 1, opts);
	return parse_var(ps, p, opts);
}

/* The literal text of a format with nothing to expand, for callers that
 * can skip expanding (logfmt_literal). */
static int
set_literal(struct logfmt *f)
{
	if (f->n > 1 || (f->n == 1 && f->nodes[0].kind != LF_TEXT))
		return 0;
	f->literal = f->n ? strndup(f->nodes[0].text, f->nodes[0].len) :
	    strdup("");
	return f->literal == NULL ? -1 : 0;
}

struct logfmt *
logfmt_parse_in(const char *text, int flags, char *err, size_t errlen)
{
	struct lf_parse ps = { text, flags, err, errlen, NULL };
	const char *p = text;

	if ((ps.f = calloc(1, sizeof(*ps.f))) == NULL) {
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "%");
		if (n > 0)
			p = add_text(&ps, p, n) < 0 ? NULL : p + n;
		else
			p = parse_percent(&ps, p + 1);
	}
	if (p == NULL)
		goto fail;
	if (set_literal(ps.f) < 0) {
		snprintf(err, errlen, "out of memory.");
		goto fail;
	}
	return ps.f;
fail:
	logfmt_free(ps.f);
	return NULL;
}

struct logfmt *
logfmt_parse(const char *text, char *err, size_t errlen)
{
	return logfmt_parse_in(text, LF_CTX_REQ | LF_HTTP, err, errlen);
}

struct logfmt *
logfmt_new_literal(const char *text, size_t len)
{
	struct logfmt *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->nodes = calloc(1, sizeof(*f->nodes))) == NULL ||
	    (f->nodes[0].text = malloc(len + 1)) == NULL) {
		logfmt_free(f);
		return NULL;
	}
	f->n = 1;
	f->nodes[0].kind = LF_TEXT;
	memcpy(f->nodes[0].text, text, len);
	f->nodes[0].text[len] = '\0';
	f->nodes[0].len = len;
	if (set_literal(f) < 0) {
		logfmt_free(f);
		return NULL;
	}
	return f;
}

const char *
logfmt_needs_http(const struct logfmt *f)
{
	for (int i = 0; i < f->n; i++)
		if (f->nodes[i].kind == LF_EXPR &&
		    f->nodes[i].need != NEED_CONN)
			return need_names[f->nodes[i].need];
	return NULL;
}

const char *
logfmt_literal(const struct logfmt *f)
{
	return f->literal;
}

void
logfmt_free(struct logfmt *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < f->n; i++) {
		free(f->nodes[i].text);
		stk_fetch_free(f->nodes[i].stk);
	}
	free(f->nodes);
	free(f->literal);
	free(f);
}

/* ---- expanding ---- */

struct lf_out {
	char *buf;
	size_t len, cap;
	int overflow;
};

static void
out_add(struct lf_out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len) {
		/* keep the prefix that fits: a tracked key is truncated */
		memcpy(o->buf + o->len, s, o->cap - o->len);
		o->len = o->cap;
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
out_str(struct lf_out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* A fetched value; SMP_NONE: the fetch found nothing. */
enum smp_type { SMP_NONE, SMP_STR, SMP_IP, SMP_INT };

struct lf_sample {
	enum smp_type type;
	const char *str, *str2;         /* str2: base's second piece */
	size_t len, len2;
	const struct sockaddr_storage *ip;
	long long num;
};

static int
is_inet(const struct sockaddr_storage *ss)
{
	return ss != NULL && (ss->ss_family == AF_INET ||
	    ss->ss_family == AF_INET6);
}

/* The OCCth value of header name (positive: from the first, negative:
 * from the last), each line whole (full) or each comma-separated
 * element. */
static int
fetch_hdr(const struct http_msg *msg, const struct lf_node *node, int full,
    struct lf_sample *smp)
{
	int total = 0, want, index = 0;

	for (int pass = node->occ < 0 ? 0 : 1; pass < 2; pass++) {
		int idx = 0;
		const struct http_hdr *h;
		want = node->occ < 0 ? total + node->occ + 1 : node->occ;
		while ((h = http_hdr_find(msg, node->text, node->len,
		    &idx)) != NULL) {
			size_t pos = 0;
			const char *e = h->value;
			size_t n = h->value_len;
			while (full ? pos++ == 0 : http_value_next(h->value,
			    h->value_len, &pos, &e, &n)) {
				if (pass == 0) {
					total++;
					continue;
				}
				if (++index == want) {
					smp->type = SMP_STR;
					smp->str = e;
					smp->len = n;
					return 1;
				}
			}
		}
	}
	return 0;
}

/* hdr() without a name: 2.6 gives the last element of the last line
 * (the only occurrence we support without a name). */
static int
fetch_hdr_any(const struct http_msg *msg, const struct lf_node *node,
    int full, struct lf_sample *smp)
{
	const struct http_hdr *h;
	const char *e;
	size_t pos = 0, n;

	if (node->occ != -1 || msg->nhdrs == 0)
		return 0;
	h = &msg->hdrs[msg->nhdrs - 1];
	smp->type = SMP_STR;
	smp->str = h->value;
	smp->len = h->value_len;
	while (!full && http_value_next(h->value, h->value_len, &pos, &e,
	    &n)) {
		smp->str = e;
		smp->len = n;
	}
	return 1;
}

static void
fetch_query(const struct http_msg *req, struct lf_sample *smp)
{
	const char *q = memchr(req->uri, '?', req->uri_len);

	if (q == NULL)
		return;
	smp->type = SMP_STR;
	smp->str = q + 1;
	smp->len = req->uri_len - (size_t)(q + 1 - req->uri);
}

static int
fetch_headers(const struct http_msg *msg, const struct lf_node *node,
    int full, struct lf_sample *smp)
{
	if (msg == NULL)
		return 0;
	if (node->text == NULL)
		return fetch_hdr_any(msg, node, full, smp);
	return fetch_hdr(msg, node, full, smp);
}

/* base: the first Host line and the path, no query; two pieces that
 * are not contiguous in the head, written one after the other. */
static void
fetch_base(const struct http_msg *req, struct lf_sample *smp)
{
	int idx = 0;
	const struct http_hdr *host = http_hdr_find(req, "host", 4, &idx);

	smp->type = SMP_STR;
	if (host != NULL) {
		smp->str = host->value;
		smp->len = host->value_len;
	}
	http_req_path(req, &smp->str2, &smp->len2);
}

static void
fetch_request(const struct lf_node *node, const struct http_msg *req,
    struct lf_sample *smp)
{
	switch (node->fetch) {
	case F_PATH:
		smp->type = SMP_STR;
		http_req_path(req, &smp->str, &smp->len);
		break;
	case F_URL:
		smp->type = SMP_STR;
		smp->str = req->uri;
		smp->len = req->uri_len;
		break;
	case F_QUERY:
		fetch_query(req, smp);
		break;
	case F_METHOD:
		smp->type = SMP_STR;
		smp->str = req->method;
		smp->len = req->method_len;
		break;
	case F_REQ_VER:
		smp->type = SMP_STR;
		smp->str = req->vminor ? "1.1" : "1.0";
		smp->len = 3;
		break;
	case F_BASE:
		fetch_base(req, smp);
		break;
	default:
		break;
	}
}

static void
fetch_sample(const struct lf_node *node, const struct lf_input *in,
    struct lf_sample *smp)
{
	memset(smp, 0, sizeof(*smp));   /* SMP_NONE */
	switch (node->fetch) {
	case F_SRC:
	case F_DST:
		smp->ip = node->fetch == F_SRC ? in->src : in->dst;
		/* a UNIX socket has no address: no sample (reference 10.9) */
		smp->type = is_inet(smp->ip) ? SMP_IP : SMP_NONE;
		return;
	case F_SRC_PORT:
	case F_DST_PORT:
		smp->ip = node->fetch == F_SRC_PORT ? in->src : in->dst;
		smp->type = is_inet(smp->ip) ? SMP_INT : SMP_NONE;
		smp->num = smp->type ? net_port(smp->ip) : 0;
		return;
	case F_STK:
		/* no value (not tracked, not stored): nothing (ref 13.3) */
		smp->type = track_fetch(node->stk, in->trk, in->src,
		    &smp->num) ? SMP_INT : SMP_NONE;
		return;
	case F_STATUS:
		smp->type = in->resp ? SMP_INT : SMP_NONE;
		smp->num = in->resp ? in->resp->status : 0;
		return;
	case F_REQ_HDR:
	case F_REQ_FHDR:
		fetch_headers(in->req, node, node->fetch == F_REQ_FHDR, smp);
		return;
	case F_RES_HDR:
	case F_RES_FHDR:
		fetch_headers(in->resp, node, node->fetch == F_RES_FHDR, smp);
		return;
	default:
		if (in->req != NULL)
			fetch_request(node, in->req, smp);
		return;
	}
}

static char
convert(const struct lf_node *node, char c)
{
	for (int i = 0; i < node->nconvs; i++) {
		if (node->convs[i] == CONV_LOWER && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (node->convs[i] == CONV_UPPER && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
	}
	return c;
}

/* 2.6's encoding of sample values in header values: control bytes but
 * HTAB (0x00-0x08, 0x0a-0x1f, 0x7f) become "%XX". That is what keeps a
 * fetched CR or LF from starting a header line of its own. */
static int
needs_encoding(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void
out_value(struct lf_out *o, const struct lf_node *node, const char *s,
    size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !o->overflow; i++) {
		unsigned char c = (unsigned char)convert(node, s[i]);
		char enc[3] = { '%', hex[c >> 4], hex[c & 0xf] };
		if (needs_encoding(c))
			out_add(o, enc, sizeof(enc));
		else
			out_add(o, (const char *)&c, 1);
	}
}

/* "7F000001" (+X): 2.6 writes an address's bytes in hex. */
static void
ip_hex(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const unsigned char *b;
	size_t n;

	if (ss->ss_family == AF_INET) {
		b = (const unsigned char *)
		    &((const struct sockaddr_in *)ss)->sin_addr;
		n = 4;
	} else {
		b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		n = 16;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02X", b[i]);
}

static void
expand_expr(struct lf_out *o, const struct lf_node *node,
    const struct lf_input *in)
{
	struct lf_sample smp;
	char num[INET6_ADDRSTRLEN + 8];
	int quote;

	fetch_sample(node, in, &smp);
	/* 2.6 quotes neither an address nor an absent value (ref 10.9) */
	quote = (node->opts & LF_OPT_QUOTE) && smp.type == SMP_STR;
	if (quote)
		out_add(o, "\"", 1);
	switch (smp.type) {
	case SMP_NONE:
		break;
	case SMP_STR:
		out_value(o, node, smp.str, smp.len);
		out_value(o, node, smp.str2, smp.len2);
		break;
	case SMP_IP:
		net_ntop(smp.ip, num, sizeof(num));
		out_value(o, node, num, strlen(num));
		break;
	case SMP_INT:
		snprintf(num, sizeof(num), "%lld", smp.num);
		out_value(o, node, num, strlen(num));
		break;
	}
	if (quote)
		out_add(o, "\"", 1);
}

/* %ci, %fi...: the address ("unix" for a UNIX socket), nothing when
 * there is none (no server yet for %bi, %si): 2.6 prints "-" only in
 * log lines (their +M option), not in values. */
static void
var_addr(char *buf, size_t len, const struct sockaddr_storage *ss,
    unsigned opts)
{
	if (ss == NULL || ss->ss_family == AF_UNSPEC)
		buf[0] = '\0';
	else if ((opts & LF_OPT_HEX) && is_inet(ss))
		ip_hex(ss, buf, len);
	else
		net_ntop(ss, buf, len);
}

static void
var_port(char *buf, size_t len, const struct sockaddr_storage *ss,
    unsigned opts)
{
	if (ss == NULL || ss->ss_family == AF_UNSPEC)
		buf[0] = '\0';
	else
		snprintf(buf, len, (opts & LF_OPT_HEX) ? "%04X" : "%d",
		    net_port(ss));
}

static const char *
var_name(const struct lf_node *node, const struct lf_input *in,
    char *buf, size_t len)
{
	switch (node->var) {
	case V_F:
	case V_FT:
		return in->fe ? in->fe->name : "-";
	case V_B:
		/* no backend chosen yet: 2.6 names the frontend */
		return in->be ? in->be->name : in->fe ? in->fe->name : "-";
	case V_S:
		return in->srv ? in->srv->name : "<NOSRV>";
	default:
		if (gethostname(buf, len) < 0)
			snprintf(buf, len, "-");
		buf[len - 1] = '\0';
		return buf;
	}
}

static void
expand_var(struct lf_out *o, const struct lf_node *node,
    const struct lf_input *in)
{
	char buf[256];
	const char *text = buf;
	int quote = (node->opts & LF_OPT_QUOTE) != 0;

	switch (node->var) {
	case V_CI: var_addr(buf, sizeof(buf), in->src, node->opts); break;
	case V_FI: var_addr(buf, sizeof(buf), in->dst, node->opts); break;
	case V_BI: var_addr(buf, sizeof(buf), in->srv_src, node->opts); break;
	case V_SI: var_addr(buf, sizeof(buf), in->srv_dst, node->opts); break;
	case V_CP: var_port(buf, sizeof(buf), in->src, node->opts); break;
	case V_FP: var_port(buf, sizeof(buf), in->dst, node->opts); break;
	case V_BP: var_port(buf, sizeof(buf), in->srv_src, node->opts); break;
	case V_SP: var_port(buf, sizeof(buf), in->srv_dst, node->opts); break;
	default:
		text = var_name(node, in, buf, sizeof(buf));
		break;
	}
	/* 2.6 quotes (+Q) names and addresses, not ports, nor (ref 10.9)
	 * an absent value */
	if (node->var == V_CP || node->var == V_FP || node->var == V_BP ||
	    node->var == V_SP || text[0] == '\0')
		quote = 0;
	if (quote)
		out_add(o, "\"", 1);
	out_str(o, text);
	if (quote)
		out_add(o, "\"", 1);
}

ssize_t
logfmt_expand(const struct logfmt *f, const struct lf_input *in, char *out,
    size_t cap)
{
	struct lf_out o = { out, 0, cap, 0 };

	for (int i = 0; i < f->n && !o.overflow; i++) {
		const struct lf_node *node = &f->nodes[i];
		if (node->kind == LF_TEXT)
			out_add(&o, node->text, node->len);
		else if (node->kind == LF_VAR)
			expand_var(&o, node, in);
		else
			expand_expr(&o, node, in);
	}
	return o.overflow ? -1 : (ssize_t)o.len;
}
