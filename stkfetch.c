/*
 * stkfetch.c - the stick-table fetches' names and arguments (stkfetch.h,
 * reference 13.3), and the list of those still to be checked once the
 * whole file is read.
 *
 * A name is a prefix that says which entry is read (sc0_ .. sc2_, sc_,
 * src_, table_) and a suffix that says what of it (one sorted table).
 * The suffixes are 2.6's; "gpc0" alone is not one (2.6 reads it with
 * get_gpc0, and so "sc0_gpc0" is an unknown fetch there as here).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwtable.h"
#include "stkfetch.h"
#include "sticktable.h"

struct what_kw {
	const char *name;
	enum stk_fetch_what what;
	int data;               /* SFW_DATA, the GPC ones: enum stk_data */
	int sc_only;            /* no src_ form */
};

/* Sorted (kwtable.h). */
static const struct what_kw what_kws[] = {
	{ "bytes_in_rate",  SFW_DATA,       STK_BYTES_IN_RATE,  0 },
	{ "bytes_out_rate", SFW_DATA,       STK_BYTES_OUT_RATE, 0 },
	{ "clr_gpc0",       SFW_CLR_GPC,    STK_GPC0,           0 },
	{ "clr_gpc1",       SFW_CLR_GPC,    STK_GPC1,           0 },
	{ "conn_cnt",       SFW_DATA,       STK_CONN_CNT,       0 },
	{ "conn_cur",       SFW_DATA,       STK_CONN_CUR,       0 },
	{ "conn_rate",      SFW_DATA,       STK_CONN_RATE,      0 },
	{ "get_gpc0",       SFW_GET_GPC,    STK_GPC0,           0 },
	{ "get_gpc1",       SFW_GET_GPC,    STK_GPC1,           0 },
	{ "get_gpt0",       SFW_GET_GPT0,   STK_GPT0,           0 },
	{ "gpc0_rate",      SFW_DATA,       STK_GPC0_RATE,      0 },
	{ "gpc1_rate",      SFW_DATA,       STK_GPC1_RATE,      0 },
	{ "http_err_cnt",   SFW_DATA,       STK_HTTP_ERR_CNT,   0 },
	{ "http_err_rate",  SFW_DATA,       STK_HTTP_ERR_RATE,  0 },
	{ "http_fail_cnt",  SFW_DATA,       STK_HTTP_FAIL_CNT,  0 },
	{ "http_fail_rate", SFW_DATA,       STK_HTTP_FAIL_RATE, 0 },
	{ "http_req_cnt",   SFW_DATA,       STK_HTTP_REQ_CNT,   0 },
	{ "http_req_rate",  SFW_DATA,       STK_HTTP_REQ_RATE,  0 },
	{ "inc_gpc0",       SFW_INC_GPC,    STK_GPC0,           0 },
	{ "inc_gpc1",       SFW_INC_GPC,    STK_GPC1,           0 },
	{ "kbytes_in",      SFW_KBYTES_IN,  STK_BYTES_IN_CNT,   0 },
	{ "kbytes_out",     SFW_KBYTES_OUT, STK_BYTES_OUT_CNT,  0 },
	{ "sess_cnt",       SFW_DATA,       STK_SESS_CNT,       0 },
	{ "sess_rate",      SFW_DATA,       STK_SESS_RATE,      0 },
	{ "tracked",        SFW_TRACKED,    -1,                 1 },
	{ "trackers",       SFW_TRACKERS,   -1,                 1 },
};

static const struct kwtable what_table = KWTABLE("stick-table fetches",
    what_kws);

int
stk_fetch_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&what_table, err, errlen);
}

/* Newest first; see stk_fetch_claim(). */
static struct stk_fetch_ref *pending;

/* ---- arguments ---- */

/* "ACL keyword 'x'" or "fetch method 'x'": 2.6's frames. */
static void
arg_err(char *err, size_t errlen, int acl, const char *name,
    const char *msg)
{
	snprintf(err, errlen, "%s '%s' : %s", acl ? "ACL keyword" :
	    "fetch method", name, msg);
}

/* sc_X(N): N is 0, 1 or 2; no table after it (not implemented). */
static int
parse_sc_arg(struct stk_fetch *f, const char *name, const char *args,
    int acl, char *err, size_t errlen)
{
	char msg[256];

	if (args == NULL || args[0] == '\0') {
		arg_err(err, errlen, acl, name, "missing arguments (got 0/1), "
		    "type 'integer' expected.");
		return -1;
	}
	if (strchr(args, ',') != NULL) {
		arg_err(err, errlen, acl, name, "a table argument is not "
		    "supported by wsproxy.");
		return -1;
	}
	if (args[1] != '\0' || args[0] < '0' || args[0] > '0' + TRACK_NSC - 1) {
		snprintf(msg, sizeof(msg), "invalid stick counter '%s' (0, 1 or "
		    "2 expected).", args);
		arg_err(err, errlen, acl, name, msg);
		return -1;
	}
	f->sc = args[0] - '0';
	return 0;
}

/* src_X([T]), table_X([T]): at most one argument, the table's name. */
static int
parse_table_arg(const char *name, const char *args, int acl, char **table,
    char *err, size_t errlen)
{
	const char *comma;
	char msg[256];

	*table = NULL;
	if (args == NULL || args[0] == '\0')
		return 0;
	if ((comma = strchr(args, ',')) != NULL) {
		snprintf(msg, sizeof(msg), "end of arguments expected at "
		    "position 2, but got '%s'.", comma + 1);
		arg_err(err, errlen, acl, name, msg);
		return -1;
	}
	if ((*table = strdup(args)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- names ---- */

/* The entry part of name: which counter (sc0_ .. sc2_, sc_), src_ or
 * table_; the rest is what of it. NULL: none of them. */
static const char *
split_prefix(const char *name, struct stk_fetch *f, int *sc_arg)
{
	*sc_arg = 0;
	if (strncmp(name, "table_", 6) == 0) {
		f->src = SFS_TABLE;
		return name + 6;
	}
	if (strncmp(name, "src_", 4) == 0) {
		f->src = SFS_SRC;
		return name + 4;
	}
	if (strncmp(name, "sc_", 3) == 0) {
		f->src = SFS_SC;
		*sc_arg = 1;
		return name + 3;
	}
	if (strncmp(name, "sc", 2) == 0 && name[2] >= '0' &&
	    name[2] < '0' + TRACK_NSC && name[3] == '_') {
		f->src = SFS_SC;
		f->sc = name[2] - '0';
		return name + 4;
	}
	return NULL;
}

static int
set_what(struct stk_fetch *f, const char *rest)
{
	const struct what_kw *kw;

	if (f->src == SFS_TABLE) {
		if (strcmp(rest, "cnt") != 0 && strcmp(rest, "avl") != 0)
			return 0;
		f->what = rest[0] == 'c' ? SFW_TABLE_CNT : SFW_TABLE_AVL;
		return 1;
	}
	kw = kwtable_find(&what_table, rest);
	if (kw == NULL || (kw->sc_only && f->src != SFS_SC))
		return 0;
	f->what = kw->what;
	if (kw->data >= 0)
		f->data = (enum stk_data)kw->data;
	f->gpc = kw->data == STK_GPC1;
	return 1;
}

static int
add_pending(struct stk_fetch *f, const char *name, char *table, int acl)
{
	struct stk_fetch_ref *ref = calloc(1, sizeof(*ref));

	if (ref == NULL || (ref->kw = strdup(name)) == NULL) {
		free(ref);
		return -1;
	}
	ref->f = f;
	ref->table = table;
	ref->acl = acl;
	ref->next = pending;
	pending = ref;
	return 0;
}

int
stk_fetch_parse(const char *name, const char *args, int acl,
    struct stk_fetch **out, char *err, size_t errlen)
{
	struct stk_fetch probe, *f;
	const char *rest;
	char *table = NULL;
	int sc_arg;

	memset(&probe, 0, sizeof(probe));
	if ((rest = split_prefix(name, &probe, &sc_arg)) == NULL ||
	    !set_what(&probe, rest))
		return 0;
	if (sc_arg && parse_sc_arg(&probe, name, args, acl, err, errlen) < 0)
		return -1;
	if (!sc_arg && probe.src == SFS_SC && args != NULL) {
		/* 2.6 reads the tracked key in another table: not here */
		arg_err(err, errlen, acl, name, "a table argument is not "
		    "supported by wsproxy.");
		return -1;
	}
	if (probe.src != SFS_SC &&
	    parse_table_arg(name, args, acl, &table, err, errlen) < 0)
		return -1;
	if ((f = malloc(sizeof(*f))) == NULL ||
	    add_pending(f, name, table, acl) < 0) {
		free(f);
		free(table);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*f = probe;
	*out = f;
	return 1;
}

/* ---- the pending list ---- */

static void
ref_free(struct stk_fetch_ref *ref)
{
	free(ref->kw);
	free(ref->table);
	free(ref->proxy);
	free(ref);
}

void
stk_fetch_free(struct stk_fetch *f)
{
	if (f == NULL)
		return;
	for (struct stk_fetch_ref **rp = &pending; *rp != NULL;
	    rp = &(*rp)->next) {
		if ((*rp)->f == f) {
			struct stk_fetch_ref *ref = *rp;
			*rp = ref->next;
			ref_free(ref);
			break;
		}
	}
	free(f);
}

void
stk_fetch_claim(int line, const char *proxy)
{
	for (struct stk_fetch_ref *ref = pending; ref != NULL &&
	    ref->line == 0; ref = ref->next) {
		ref->line = line;
		ref->proxy = strdup(proxy != NULL ? proxy : "");
	}
}

struct stk_fetch_ref *
stk_fetch_pending(void)
{
	return pending;
}

void
stk_fetch_done(void)
{
	while (pending != NULL) {
		struct stk_fetch_ref *next = pending->next;
		ref_free(pending);
		pending = next;
	}
}

int
stk_fetch_needs(const struct stk_fetch *f)
{
	switch (f->what) {
	case SFW_TRACKERS:
	case SFW_TRACKED:
	case SFW_TABLE_CNT:
	case SFW_TABLE_AVL:
		return -1;
	case SFW_KBYTES_IN:
		return STK_BYTES_IN_CNT;
	case SFW_KBYTES_OUT:
		return STK_BYTES_OUT_CNT;
	case SFW_GET_GPT0:
		return STK_GPT0;
	default:
		return (int)f->data;    /* the GPC ones: gpc0 or gpc1 */
	}
}

/* ---- reading them (track.h) ---- */

static const char *const data_names[STK_NDATA] = {
	[STK_CONN_CNT] = "conn_cnt",
	[STK_CONN_CUR] = "conn_cur",
	[STK_CONN_RATE] = "conn_rate",
	[STK_SESS_CNT] = "sess_cnt",
	[STK_SESS_RATE] = "sess_rate",
	[STK_HTTP_REQ_CNT] = "http_req_cnt",
	[STK_HTTP_REQ_RATE] = "http_req_rate",
	[STK_HTTP_ERR_CNT] = "http_err_cnt",
	[STK_HTTP_ERR_RATE] = "http_err_rate",
	[STK_HTTP_FAIL_CNT] = "http_fail_cnt",
	[STK_HTTP_FAIL_RATE] = "http_fail_rate",
	[STK_BYTES_IN_CNT] = "bytes_in_cnt",
	[STK_BYTES_IN_RATE] = "bytes_in_rate",
	[STK_BYTES_OUT_CNT] = "bytes_out_cnt",
	[STK_BYTES_OUT_RATE] = "bytes_out_rate",
	[STK_GPC0] = "gpc0",
	[STK_GPC0_RATE] = "gpc0_rate",
	[STK_GPC1] = "gpc1",
	[STK_GPC1_RATE] = "gpc1_rate",
	[STK_GPT0] = "gpt0",
	[STK_SERVER_ID] = "server_id",
};

const char *
stk_data_name(enum stk_data d)
{
	return d < STK_NDATA ? data_names[d] : NULL;
}

/* The entry f reads: a tracked counter's, or the client address's. */
static int
fetch_entry(const struct stk_fetch *f, const struct track_ctx *ctx,
    const struct sockaddr_storage *src, struct stk_table **t, int *idx,
    struct stk_key *key)
{
	if (f->src == SFS_SC) {
		if (ctx == NULL || ctx->sc[f->sc].t == NULL)
			return 0;
		*t = ctx->sc[f->sc].t;
		*idx = ctx->sc[f->sc].idx;
		return 1;
	}
	*t = f->table != NULL ? f->table->shm : NULL;
	*idx = -1;
	return *t != NULL && src != NULL && stk_key_addr(*t, src, key) == 0;
}

/* src_X: a lookup that neither creates nor touches the entry. */
static int
read_data(struct stk_table *t, int idx, const struct stk_key *key,
    enum stk_data d, long long *value)
{
	if (idx >= 0)
		return stk_read(t, idx, d, value);
	return stk_lookup_read(t, key, d, value);
}

static int
fetch_table(const struct stk_fetch *f, long long *value)
{
	struct stk_table *t = f->table != NULL ? f->table->shm : NULL;

	if (t == NULL)
		return 0;
	*value = stk_entries(t);
	if (f->what == SFW_TABLE_AVL)
		*value = (long long)stk_size(t) - *value;
	return 1;
}

int
track_fetch(const struct stk_fetch *f, const struct track_ctx *ctx,
    const struct sockaddr_storage *src, long long *value)
{
	struct stk_table *t;
	struct stk_key key;
	int idx;
	enum stk_data gpc;

	if (f->src == SFS_TABLE)
		return fetch_table(f, value);
	if (f->what == SFW_TRACKED) {
		*value = ctx != NULL && ctx->sc[f->sc].t != NULL;
		return 1;
	}
	if (!fetch_entry(f, ctx, src, &t, &idx, &key))
		return 0;
	gpc = f->gpc ? STK_GPC1 : STK_GPC0;
	switch (f->what) {
	case SFW_DATA:
		return read_data(t, idx, &key, f->data, value);
	case SFW_KBYTES_IN:
	case SFW_KBYTES_OUT:
		if (!read_data(t, idx, &key, f->what == SFW_KBYTES_IN ?
		    STK_BYTES_IN_CNT : STK_BYTES_OUT_CNT, value))
			return 0;
		*value /= 1024;
		return 1;
	case SFW_TRACKERS:
		if (idx < 0)
			return 0;
		*value = stk_trackers(t, idx);
		return 1;
	case SFW_GET_GPC:
		return read_data(t, idx, &key, gpc, value);
	case SFW_GET_GPT0:
		return read_data(t, idx, &key, STK_GPT0, value);
	case SFW_INC_GPC:
	case SFW_CLR_GPC:
		/* src_inc_gpc0 on an address with no entry: 2.6 creates
		 * it; wsproxy's src_* fetches read only (see wsproxy.conf.5) */
		if (idx < 0)
			return 0;
		*value = f->what == SFW_INC_GPC ? stk_gpc_inc(t, idx, f->gpc) :
		    stk_gpc_clr(t, idx, f->gpc);
		return *value >= 0;
	default:
		break;
	}
	return 0;
}
