/*
 * track.c - what connections and requests track in stick tables, and
 * the fetches that read it (track.h, reference 13).
 */
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"
#include "logfmt.h"
#include "rules.h"
#include "scoreboard.h"
#include "track.h"

/* ---- the actions ---- */

/* The key r tracks, in its table's type: 0, or -1 when there is none. */
static int
rule_key(const struct rule *r, struct stk_table *t, const struct lf_input *in,
    struct stk_key *key)
{
	char text[STK_MAX_KEY];
	ssize_t len;

	if (r->key_src)
		return in->src != NULL ? stk_key_addr(t, in->src, key) : -1;
	len = logfmt_expand(r->key, in, text, sizeof(text));
	if (len < 0)    /* longer than any key: its first bytes, as 2.6 */
		len = sizeof(text);
	if (len == 0)
		return -1;      /* no such header: 2.6 tracks nothing */
	return stk_key_str(t, text, (size_t)len, key);
}

static void
start_tracker(const struct rule *r, struct track_ctx *ctx,
    const struct lf_input *in, int per_request)
{
	struct track_sc *sc = &ctx->sc[r->sc];
	struct stk_table *t = r->table != NULL ? r->table->shm : NULL;
	struct stk_key key;
	int idx;

	if (sc->t != NULL || t == NULL || rule_key(r, t, in, &key) < 0)
		return;
	if ((idx = stk_track(t, &key)) < 0)
		return;
	sc->t = t;
	sc->idx = idx;
	sc->per_request = per_request;
	/* the parent records its trackers in the child's record later */
	sb_hold_track(NULL, r->sc, t, idx);
	if (per_request)
		stk_count(t, idx, STK_EV_HTTP_REQ, 1);
}

void
track_rule(const struct rule *r, struct track_ctx *ctx,
    const struct lf_input *in, int per_request)
{
	const struct track_sc *sc = &ctx->sc[r->sc];

	switch (r->action) {
	case ACT_TRACK_SC:
		start_tracker(r, ctx, in, per_request);
		break;
	case ACT_SC_INC_GPC:
		/* gpcX and gpcX_rate, as the scN_inc_gpcX fetch does */
		if (sc->t != NULL)
			(void)stk_gpc_inc(sc->t, sc->idx, r->gpc);
		break;
	case ACT_SC_SET_GPT0:
		if (sc->t != NULL)
			(void)stk_gpt_set(sc->t, sc->idx, r->gpt);
		break;
	default:
		break;
	}
}

/* ---- counting, and the end of trackers ---- */

void
track_count(const struct track_ctx *ctx, enum stk_event ev, uint64_t n)
{
	if (ctx == NULL)
		return;
	for (int i = 0; i < TRACK_NSC; i++)
		if (ctx->sc[i].t != NULL)
			stk_count(ctx->sc[i].t, ctx->sc[i].idx, ev, n);
}

/* The record first, then the count (scoreboard.h). */
static void
end_tracker(struct track_ctx *ctx, int i, struct sb_holder *h)
{
	struct track_sc *sc = &ctx->sc[i];

	sb_release_track(h, i);
	stk_untrack(sc->t, sc->idx);
	sc->t = NULL;
}

/* 2.6: http_err for a 4xx, or a request a rule or the parser refused;
 * http_fail for a 5xx other than 501 and 505. */
static void
count_outcome(const struct track_ctx *ctx, int status, int denied)
{
	if (denied || (status >= 400 && status < 500))
		track_count(ctx, STK_EV_HTTP_ERR, 1);
	else if (status >= 500 && status < 600 && status != 501 &&
	    status != 505)
		track_count(ctx, STK_EV_HTTP_FAIL, 1);
}

void
track_txn_end(struct track_ctx *ctx, int status, int denied,
    uint64_t bytes_in, uint64_t bytes_out)
{
	count_outcome(ctx, status, denied);
	if (bytes_in > 0)
		track_count(ctx, STK_EV_BYTES_IN, bytes_in);
	if (bytes_out > 0)
		track_count(ctx, STK_EV_BYTES_OUT, bytes_out);
	for (int i = 0; i < TRACK_NSC; i++)
		if (ctx->sc[i].t != NULL && ctx->sc[i].per_request)
			end_tracker(ctx, i, NULL);
}

void
track_release_all(struct track_ctx *ctx)
{
	for (int i = 0; i < TRACK_NSC; i++)
		if (ctx->sc[i].t != NULL) {
			stk_untrack(ctx->sc[i].t, ctx->sc[i].idx);
			ctx->sc[i].t = NULL;
		}
}

void
track_hold(const struct track_ctx *ctx, struct sb_holder *h)
{
	for (int i = 0; i < TRACK_NSC; i++)
		if (ctx->sc[i].t != NULL)
			sb_hold_track(h, i, ctx->sc[i].t, ctx->sc[i].idx);
}

/* ---- the tables' memory ---- */

static const struct stk_def *
prev_table(const struct config *prev, const char *name)
{
	if (prev == NULL)
		return NULL;
	for (const struct proxy *px = prev->proxies; px; px = px->next)
		if (px->table != NULL && px->table->shm != NULL &&
		    strcmp(px->name, name) == 0)
			return px->table;
	return NULL;
}

int
track_tables_map(struct config *cfg, const struct config *prev)
{
	char err[256];

	for (struct proxy *px = cfg->proxies; px; px = px->next) {
		struct stk_def *def = px->table;
		if (def == NULL || def->shm != NULL)
			continue;
		if (stk_map(def, prev_table(prev, px->name), err,
		    sizeof(err)) < 0) {
			log_warnx("stick-table of %s '%s': %s", px->kind,
			    px->name, err);
			return -1;
		}
	}
	return 0;
}
