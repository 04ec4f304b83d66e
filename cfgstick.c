/*
 * cfgstick.c - the configuration of stick tables (reference 13): the
 * "stick-table" line of a proxy, the track-sc0..2, sc-inc-gpc0/1 and
 * sc-set-gpt0 actions of tcp-request and http-request rules, and what
 * is checked once the whole file is read: the tables the rules and the
 * fetches name, and that every fetch reads something a table stores.
 *
 * That last check is stricter than 2.6 (reference 13.7.3). There a
 * fetch of a data type that no table it can read stores has no value:
 * "deny if { sc0_http_req_rate gt 10 }" then never denies, and the
 * limit it was written for silently does not exist. Here it is an
 * error. So is a table shared with peers: wsproxy has none, and a limit
 * meant to hold across machines would hold on one only.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"
#include "kwtable.h"
#include "stkfetch.h"

/* The tail of every fail-closed message. */
#define INERT "it would never have a value, and a limit on it would never " \
	"apply (HAProxy 2.6 accepts this silently; wsproxy refuses it)."

/* ---- stick-table ---- */

struct store_kw {
	const char *name;
	enum stk_data data;
	int rate;               /* takes a period: name(P) */
};

/* Sorted (kwtable.h). */
static const struct store_kw store_kws[] = {
	{ "bytes_in_cnt",   STK_BYTES_IN_CNT,   0 },
	{ "bytes_in_rate",  STK_BYTES_IN_RATE,  1 },
	{ "bytes_out_cnt",  STK_BYTES_OUT_CNT,  0 },
	{ "bytes_out_rate", STK_BYTES_OUT_RATE, 1 },
	{ "conn_cnt",       STK_CONN_CNT,       0 },
	{ "conn_cur",       STK_CONN_CUR,       0 },
	{ "conn_rate",      STK_CONN_RATE,      1 },
	{ "gpc0",           STK_GPC0,           0 },
	{ "gpc0_rate",      STK_GPC0_RATE,      1 },
	{ "gpc1",           STK_GPC1,           0 },
	{ "gpc1_rate",      STK_GPC1_RATE,      1 },
	{ "gpt0",           STK_GPT0,           0 },
	{ "http_err_cnt",   STK_HTTP_ERR_CNT,   0 },
	{ "http_err_rate",  STK_HTTP_ERR_RATE,  1 },
	{ "http_fail_cnt",  STK_HTTP_FAIL_CNT,  0 },
	{ "http_fail_rate", STK_HTTP_FAIL_RATE, 1 },
	{ "http_req_cnt",   STK_HTTP_REQ_CNT,   0 },
	{ "http_req_rate",  STK_HTTP_REQ_RATE,  1 },
	{ "server_id",      STK_SERVER_ID,      0 },
	{ "sess_cnt",       STK_SESS_CNT,       0 },
	{ "sess_rate",      STK_SESS_RATE,      1 },
};

static const struct kwtable store_table = KWTABLE("stick-table store "
    "options", store_kws);

int
stick_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&store_table, err, errlen);
}

/* What 2.6 has and wsproxy does not: refused, never ignored. */
static void
refuse_option(struct parser *p, const char *what, const char *why)
{
	p_err(p, "stick-table: %s is not implemented by wsproxy (%s): remove "
	    "it, or use HAProxy.", what, why);
}

/* "type T [len N]": returns the next word, or -1. */
static int
parse_type(struct parser *p, struct stk_def *d, char **w, int n, int i)
{
	static const struct {
		const char *name;
		enum stk_type type;
		unsigned len;
	} types[] = {
		{ "integer", STK_INTEGER, 8 }, { "ip", STK_IP, 4 },
		{ "ipv6", STK_IPV6, 16 }, { "string", STK_STRING, 32 },
	};
	int len;

	if (i + 1 >= n) {
		p_err(p, "stick-table: missing type.");
		return -1;
	}
	for (size_t k = 0; k < NELEM(types); k++) {
		if (strcmp(w[i + 1], types[k].name) != 0)
			continue;
		d->type = types[k].type;
		d->key_len = types[k].len;
		if (d->type != STK_STRING || i + 2 >= n ||
		    strcmp(w[i + 2], "len") != 0)
			return i + 2;
		if (i + 3 >= n) {
			p_err(p, "stick-table: missing length for 'len'.");
			return -1;
		}
		if (parse_int(p, "stick-table len", w[i + 3], 1, STK_MAX_KEY,
		    &len) < 0)
			return -1;
		d->key_len = (unsigned)len;
		return i + 4;
	}
	if (strcmp(w[i + 1], "binary") == 0)
		refuse_option(p, "type 'binary'", "use type string");
	else
		p_err(p, "stick-table: unknown type '%s'.", w[i + 1]);
	return -1;
}

/* "size N[k|m|g]" */
static int
parse_size(struct parser *p, struct stk_def *d, char **w, int n, int i)
{
	unsigned long long v, mult = 1;
	char *end;

	if (i + 1 >= n || !isdigit((unsigned char)w[i + 1][0])) {
		p_err(p, "stick-table: missing size.");
		return -1;
	}
	errno = 0;
	v = strtoull(w[i + 1], &end, 10);
	if (*end == 'k' || *end == 'K')
		mult = 1024ULL;
	else if (*end == 'm' || *end == 'M')
		mult = 1024ULL * 1024ULL;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ULL * 1024ULL * 1024ULL;
	if (mult != 1)
		end++;
	if (errno != 0 || *end != '\0') {
		p_err(p, "stick-table: invalid size '%s'.", w[i + 1]);
		return -1;
	}
	if (v > (unsigned long long)STK_MAX_SIZE / mult) {
		p_err(p, "stick-table: size '%s' is more than wsproxy's maximum "
		    "of %u entries.", w[i + 1], STK_MAX_SIZE);
		return -1;
	}
	d->size = (unsigned)(v * mult);
	return i + 2;
}

static int
parse_expire(struct parser *p, struct stk_def *d, char **w, int n, int i)
{
	int ms;

	if (i + 1 >= n) {
		p_err(p, "stick-table: missing expire value.");
		return -1;
	}
	if (parse_time(p, "stick-table expire", w[i + 1], &ms) < 0)
		return -1;
	d->expire_ms = (unsigned)ms;
	return i + 2;
}

/* One DATA of a store list: "conn_cur", "http_req_rate(10s)". */
static int
parse_store_one(struct parser *p, struct stk_def *d, char *word)
{
	char *paren = strchr(word, '('), *arg = NULL;
	const struct store_kw *kw;
	int ms;

	if (paren != NULL) {
		size_t len = strlen(paren);
		if (paren[len - 1] != ')') {
			p_err(p, "stick-table: missing ')' after store option "
			    "'%s'.", word);
			return -1;
		}
		paren[len - 1] = '\0';
		*paren = '\0';
		arg = paren + 1;
	}
	if ((kw = kwtable_find(&store_table, word)) == NULL) {
		char what[64];
		snprintf(what, sizeof(what), "store option '%s'", word);
		if (strcmp(word, "gpc") == 0 || strcmp(word, "gpt") == 0 ||
		    strcmp(word, "gpc_rate") == 0)
			refuse_option(p, what, "arrays: use gpc0, gpc1, "
			    "gpc0_rate, gpc1_rate and gpt0");
		else
			p_err(p, "stick-table: unknown store option '%s'.", word);
		return -1;
	}
	if (kw->rate && (arg == NULL || *arg == '\0')) {
		p_err(p, "stick-table: missing argument to store option '%s'.",
		    word);
		return -1;
	}
	if (!kw->rate && arg != NULL) {
		p_err(p, "stick-table: store option '%s' takes no argument.",
		    word);
		return -1;
	}
	if (d->stored & (1u << kw->data)) {
		p_warn(p, "stick-table: store option '%s' already enabled, "
		    "ignored.", word);
		return 0;
	}
	if (kw->rate) {
		if (parse_time(p, "stick-table store", arg, &ms) < 0)
			return -1;
		if (ms == 0) {
			p_err(p, "stick-table: the period of store option '%s' "
			    "must not be 0.", word);
			return -1;
		}
		d->period_ms[kw->data] = (unsigned)ms;
	}
	d->stored |= 1u << kw->data;
	return 0;
}

/* "store D[,D...]": a comma in parentheses (gpc_rate(N,P)) is D's. */
static int
parse_store(struct parser *p, struct stk_def *d, char **w, int n, int i)
{
	char *list, *one;
	int rc = 0, depth = 0;

	if (i + 1 >= n) {
		p_err(p, "stick-table: missing data type after 'store'.");
		return -1;
	}
	list = xstrdup(w[i + 1]);
	one = list;
	for (char *c = list; rc == 0; c++) {
		if (*c == '(')
			depth++;
		else if (*c == ')' && depth > 0)
			depth--;
		else if ((*c == ',' && depth == 0) || *c == '\0') {
			int end = *c == '\0';
			*c = '\0';
			if (*one != '\0')
				rc = parse_store_one(p, d, one);
			if (end)
				break;
			one = c + 1;
		}
	}
	free(list);
	return rc < 0 ? -1 : i + 2;
}

static int
parse_table_word(struct parser *p, struct stk_def *d, char **w, int n,
    int i)
{
	if (strcmp(w[i], "type") == 0)
		return parse_type(p, d, w, n, i);
	if (strcmp(w[i], "size") == 0)
		return parse_size(p, d, w, n, i);
	if (strcmp(w[i], "expire") == 0)
		return parse_expire(p, d, w, n, i);
	if (strcmp(w[i], "store") == 0)
		return parse_store(p, d, w, n, i);
	if (strcmp(w[i], "nopurge") == 0) {
		d->nopurge = 1;
		return i + 1;
	}
	if (strcmp(w[i], "peers") == 0) {
		refuse_option(p, "'peers'", "wsproxy has no peers: a table "
		    "shared across machines would only count on this one");
		return -1;
	}
	if (strcmp(w[i], "srvkey") == 0 || strcmp(w[i], "write-to") == 0 ||
	    strcmp(w[i], "recv-only") == 0) {
		char what[64];
		snprintf(what, sizeof(what), "'%s'", w[i]);
		refuse_option(p, what, "wsproxy has no stick rules nor peers");
		return -1;
	}
	p_err(p, "stick-table: unknown argument '%s'.", w[i]);
	return -1;
}

int
stick_table_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	struct stk_def *d;
	int i = 1, has_type = 0;

	if (px->table != NULL) {
		p_err(p, "stick-table name '%s' conflicts with table declared "
		    "in %s '%s' at %s:%d.", px->name, px->kind, px->name,
		    p->file, px->table->line);
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	while (i > 0 && i < n) {
		has_type |= strcmp(w[i], "type") == 0;
		i = parse_table_word(p, d, w, n, i);
	}
	if (i > 0 && !has_type) {
		p_err(p, "stick-table: missing type.");
		i = -1;
	}
	if (i > 0 && d->size == 0) {
		p_err(p, "stick-table: missing size.");
		i = -1;
	}
	if (i < 0) {
		free(d);
		return -1;
	}
	d->name = xstrdup(px->name);
	d->line = p->line;
	px->table = d;
	return 0;
}

void
stick_table_free(struct stk_def *d)
{
	if (d == NULL)
		return;
	if (d->shm != NULL)
		stk_unref(d->shm);
	free(d->name);
	free(d);
}

/* ---- actions ---- */

int
stick_action_is(const char *word)
{
	return strncmp(word, "track-sc", 8) == 0 ||
	    strncmp(word, "sc-inc-gpc0", 11) == 0 ||
	    strncmp(word, "sc-inc-gpc1", 11) == 0 ||
	    strncmp(word, "sc-set-gpt0", 11) == 0;
}

/* "track-scN": N; "sc-inc-gpc0(N)", "sc-set-gpt0(N)": N, 0 without. */
static int
parse_sc_number(const char *word, size_t prefix, int *sc, char *err,
    size_t errlen)
{
	const char *s = word + prefix;
	char *end;
	long v;

	if (prefix != 8 && *s == '\0') {
		*sc = 0;
		return 0;
	}
	if (prefix != 8 && *s++ != '(') {
		snprintf(err, errlen, "invalid stick table track ID. Expects "
		    "%.*s(<Track ID>)", (int)prefix, word);
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 0 || (prefix == 8 ? *end != '\0' :
	    strcmp(end, ")") != 0)) {
		snprintf(err, errlen, "invalid stick table track ID '%s'.",
		    word);
		return -1;
	}
	if (v >= TRACK_NSC) {
		if (prefix == 8)
			snprintf(err, errlen, "%ld track-sc number exceeding %d "
			    "(MAX_SESS_STKCTR-1) value.", v, TRACK_NSC - 1);
		else
			snprintf(err, errlen, "invalid stick table track ID "
			    "'%s'. The max allowed ID is %d", word,
			    TRACK_NSC - 1);
		return -1;
	}
	*sc = (int)v;
	return 0;
}

/* track-scN KEY [table T] */
static int
parse_track(struct rule *r, char **w, int n, int i, const char *where,
    char *err, size_t errlen)
{
	char text[1024];
	const char *needs;

	if (i >= n || strcmp(w[i], "if") == 0 || strcmp(w[i], "unless") == 0) {
		snprintf(err, errlen, "missing fetch method.");
		return -1;
	}
	if (strcmp(w[i], "src") == 0) {
		r->key_src = 1;
	} else if (strpbrk(w[i], "]%") != NULL || (size_t)snprintf(text,
	    sizeof(text), "%%[%s]", w[i]) >= sizeof(text)) {
		snprintf(err, errlen, "invalid sample expression '%s'.", w[i]);
		return -1;
	} else if ((r->key = logfmt_parse_in(text, LF_CTX_REQ | LF_HTTP, err,
	    errlen)) == NULL) {
		return -1;
	}
	/* 2.6: a key read at connection or session level needs only what
	 * is known there */
	if (where != NULL && r->key != NULL &&
	    (needs = logfmt_needs_http(r->key)) != NULL) {
		snprintf(err, errlen, "fetch method '%s' extracts information "
		    "from '%s', none of which is available here", w[i], needs);
		return -1;
	}
	i++;
	if (i < n && strcmp(w[i], "table") == 0) {
		if (i + 1 >= n) {
			snprintf(err, errlen, "missing table name after "
			    "'table'.");
			return -1;
		}
		r->table_name = xstrdup(w[i + 1]);
		i += 2;
	}
	return i;
}

/* sc-set-gpt0(N) VALUE: an integer (2.6 takes an expression too). */
static int
parse_gpt_value(struct rule *r, char **w, int n, int i, char *err,
    size_t errlen)
{
	char *end;

	if (i >= n) {
		snprintf(err, errlen, "expects an integer value.");
		return -1;
	}
	errno = 0;
	r->gpt = strtoll(w[i], &end, 10);
	if (w[i][0] == '\0' || *end != '\0' || errno != 0) {
		snprintf(err, errlen, "only an integer value is supported by "
		    "wsproxy (got '%s').", w[i]);
		return -1;
	}
	return i + 1;
}

int
stick_action_parse(struct rule *r, char **w, int n, int i, const char *where,
    char *err, size_t errlen)
{
	const char *word = w[i];
	enum rule_action action = ACT_SC_INC_GPC;
	int next = i + 1;

	/* r->action only once it is all parsed: the end of the file does
	 * not look for the table of a rule that was an error */
	if (strncmp(word, "track-sc", 8) == 0) {
		action = ACT_TRACK_SC;
		if (parse_sc_number(word, 8, &r->sc, err, errlen) < 0)
			return -1;
		next = parse_track(r, w, n, i + 1, where, err, errlen);
	} else if (parse_sc_number(word, 11, &r->sc, err, errlen) < 0) {
		return -1;
	} else if (strncmp(word, "sc-set-gpt0", 11) == 0) {
		action = ACT_SC_SET_GPT0;
		next = parse_gpt_value(r, w, n, i + 1, err, errlen);
	} else {
		r->gpc = word[10] - '0';
	}
	if (next >= 0)
		r->action = action;
	return next;
}

/* ---- once the whole file is read ---- */

static struct stk_def *
find_table(const struct config *cfg, const char *name)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		if (px->table != NULL && strcmp(px->name, name) == 0)
			return px->table;
	return NULL;
}

static int
stores(const struct stk_def *d, int data)
{
	return data < 0 || (d->stored & (1u << data)) != 0;
}

/* What the rules that track scN say of the tables they track into:
 * whether there is one, and what any of them stores. */
struct sc_use {
	int tracked;            /* some rule tracks scN */
	uint32_t stored;        /* what the tables it tracks into store */
};

static void
resolve_rules(struct parser *p, struct proxy *px, struct rule_list *list,
    struct sc_use *use)
{
	for (int i = 0; i < list->n; i++) {
		struct rule *r = &list->rules[i];
		const char *name;
		if (r->action != ACT_TRACK_SC)
			continue;
		name = r->table_name != NULL ? r->table_name : px->name;
		r->table = find_table(p->cfg, name);
		if (r->table == NULL) {
			p_err_at(p, r->line, "Proxy '%s': unable to find table "
			    "'%s' referenced by track-sc%d.", px->name, name,
			    r->sc);
			continue;
		}
		use[r->sc].tracked = 1;
		use[r->sc].stored |= r->table->stored;
	}
}

/* sc-inc-gpcX and sc-set-gpt0 change what a table tracked as scN
 * stores: without one, the action would do nothing. */
static void
check_sc_actions(struct parser *p, const struct rule_list *list,
    const struct sc_use *use)
{
	for (int i = 0; i < list->n; i++) {
		const struct rule *r = &list->rules[i];
		int data;
		if (r->action == ACT_SC_INC_GPC)
			data = r->gpc ? STK_GPC1 : STK_GPC0;
		else if (r->action == ACT_SC_SET_GPT0)
			data = STK_GPT0;
		else
			continue;
		if (!use[r->sc].tracked)
			p_err_at(p, r->line, "%s(%d): no 'track-sc%d' rule in "
			    "the configuration: the action would never apply.",
			    r->action == ACT_SC_SET_GPT0 ? "sc-set-gpt0" :
			    r->gpc ? "sc-inc-gpc1" : "sc-inc-gpc0", r->sc,
			    r->sc);
		else if (!(use[r->sc].stored & (1u << data)))
			p_err_at(p, r->line, "%s(%d): no table that a "
			    "'track-sc%d' rule tracks into stores '%s': the "
			    "action would never apply.", r->action ==
			    ACT_SC_SET_GPT0 ? "sc-set-gpt0" : r->gpc ?
			    "sc-inc-gpc1" : "sc-inc-gpc0", r->sc, r->sc,
			    stk_data_name((enum stk_data)data));
	}
}

/* A key that needs the request cannot be read in tcp mode here, as no
 * content rule may inspect it there (tcprules_check). */
static void
check_tcp_keys(struct parser *p, const struct proxy *px)
{
	if (px->mode != MODE_TCP)
		return;
	for (int i = 0; i < px->tcp_content.n; i++) {
		const struct rule *r = &px->tcp_content.rules[i];
		if (r->action == ACT_TRACK_SC && r->key != NULL &&
		    logfmt_needs_http(r->key) != NULL)
			p_err_at(p, r->line, "tcp %s '%s': 'tcp-request content "
			    "track-sc%d' with a key read from the request is not "
			    "implemented by wsproxy in tcp mode (only src, dst "
			    "and their ports): remove the rule, or use HAProxy.",
			    px->kind, px->name, r->sc);
	}
}

/* 2.6's advice for an HTTP frontend (reference 10.2). */
static void
warn_content_tracking(struct parser *p, const struct proxy *px)
{
	if (px->mode != MODE_HTTP || !(px->cap & CAP_FE))
		return;
	for (int i = 0; i < px->tcp_content.n; i++) {
		const struct rule *r = &px->tcp_content.rules[i];
		if (r->action != ACT_TRACK_SC || (r->key != NULL &&
		    logfmt_needs_http(r->key) != NULL))
			continue;
		p_warn_at(p, r->line, "%s '%s' : a 'tcp-request content "
		    "track-sc*' rule not depending on request contents for an "
		    "HTTP frontend should be executed at the session level, "
		    "using a 'tcp-request session' rule (mandatory to track "
		    "invalid HTTP requests).", px->kind, px->name);
		return;
	}
}

/* The name a fetch was written with, sc_X(N) with its N. */
static void
fetch_label(const struct stk_fetch_ref *ref, char *buf, size_t len)
{
	if (strncmp(ref->kw, "sc_", 3) == 0)
		snprintf(buf, len, "%s(%d)", ref->kw, ref->f->sc);
	else
		snprintf(buf, len, "%s", ref->kw);
}

static void
check_sc_fetch(struct parser *p, const struct stk_fetch_ref *ref,
    const struct sc_use *use)
{
	const struct sc_use *u = &use[ref->f->sc];
	int data = stk_fetch_needs(ref->f);
	char label[96];

	fetch_label(ref, label, sizeof(label));
	if (!u->tracked)
		p_err_at(p, ref->line, "%s: no 'track-sc%d' rule in the "
		    "configuration: " INERT, label, ref->f->sc);
	else if (data >= 0 && !(u->stored & (1u << data)))
		p_err_at(p, ref->line, "%s: no table that a 'track-sc%d' rule "
		    "tracks into stores '%s': " INERT, label, ref->f->sc,
		    stk_data_name((enum stk_data)data));
}

static void
check_table_fetch(struct parser *p, const struct stk_fetch_ref *ref)
{
	const char *proxy = ref->proxy != NULL ? ref->proxy : "";
	const char *name = ref->table != NULL ? ref->table : proxy;
	int data = stk_fetch_needs(ref->f);

	ref->f->table = find_table(p->cfg, name);
	if (ref->f->table == NULL)
		p_err_at(p, ref->line, "unable to find table '%s' referenced in "
		    "arg 1 of %s '%s' in proxy '%s'.", name, ref->acl ?
		    "ACL keyword" : "sample fetch keyword", ref->kw, proxy);
	else if (!stores(ref->f->table, data))
		p_err_at(p, ref->line, "%s: table '%s' does not store '%s': "
		    INERT, ref->kw, name, stk_data_name((enum stk_data)data));
}

/* The pending list is newest first: its errors go out in file order. */
static void
check_fetches(struct parser *p, const struct sc_use *use)
{
	struct stk_fetch_ref **refs;
	size_t n = 0;

	for (struct stk_fetch_ref *ref = stk_fetch_pending(); ref != NULL;
	    ref = ref->next)
		n++;
	if (n == 0)
		return;
	refs = xcalloc(n, sizeof(struct stk_fetch_ref *));
	n = 0;
	for (struct stk_fetch_ref *ref = stk_fetch_pending(); ref != NULL;
	    ref = ref->next)
		refs[n++] = ref;
	while (n-- > 0) {
		if (refs[n]->f->src == SFS_SC)
			check_sc_fetch(p, refs[n], use);
		else
			check_table_fetch(p, refs[n]);
	}
	free(refs);
}

void
stick_finish(struct parser *p)
{
	struct sc_use use[TRACK_NSC];

	memset(use, 0, sizeof(use));
	for (struct proxy *px = p->cfg->proxies; px; px = px->next) {
		resolve_rules(p, px, &px->tcp_conn, use);
		resolve_rules(p, px, &px->tcp_session, use);
		resolve_rules(p, px, &px->tcp_content, use);
		resolve_rules(p, px, &px->http_req, use);
		check_tcp_keys(p, px);
		warn_content_tracking(p, px);
	}
	for (struct proxy *px = p->cfg->proxies; px; px = px->next) {
		check_sc_actions(p, &px->tcp_conn, use);
		check_sc_actions(p, &px->tcp_session, use);
		check_sc_actions(p, &px->tcp_content, use);
		check_sc_actions(p, &px->http_req, use);
	}
	check_fetches(p, use);
	stk_fetch_done();
}
