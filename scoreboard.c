/*
 * scoreboard.c - the counters that processes share, and who holds them.
 *
 * One generation is one anonymous MAP_SHARED mapping, made by the parent
 * (at start and at each reload) and inherited by every child it forks:
 *
 *	struct generation           its layout; the parent's bookkeeping
 *	counters[0]                 the process tree's live connections
 *	counters[1 + PX_SLOTS * proxy + k]
 *	                            per proxy: k = 0 a frontend's live
 *	                            connections, 1 a backend's live server
 *	                            connections, 2 its round-robin position,
 *	                            3 its queued requests
 *	counters[1 + PX_SLOTS * nproxies + SRV_SLOTS * srv + k]
 *	                            per server: k = 0 live connections,
 *	                            1 down (0 = UP, so fresh pages mean UP)
 *	holders[maxconn]            one record per live child: what it holds
 *	ctrs[2 * nproxies + nservers]
 *	                            the stats' counters (counters.h): per
 *	                            proxy as a frontend and as a backend,
 *	                            then per server
 *	srvstates[nservers]         per server, its administrative state and
 *	                            its last check (srvstate.h)
 *
 * A reload maps a new generation; children forked before keep the old
 * one, and the parent keeps it mapped (the list "older") until the last
 * of them is reaped (a reload that fails after mapping one goes back to
 * the previous one: scoreboard_undo). A generation never has more live
 * children than its configuration's maxconn, so that many records are
 * enough.
 *
 * Who gives counts back. The process and frontend counts are the
 * parent's: it adds them when it forks and removes them when it reaps
 * (a reload carries them over into the new generation). The rest is
 * taken by the child while it serves a request: a server slot, the
 * backend connection, a place in the queue. A child killed then (SIGKILL,
 * a crash, the OOM killer) cannot give them back, so each is also written
 * in the child's record, which the parent picked before the fork; when
 * the parent reaps a child it gives back whatever the record still says,
 * into the child's generation, and frees the record. This is the one
 * place that says what a child holds: anything more a child comes to
 * hold across processes belongs in struct sb_holder and give_back().
 *
 * The count and the record are two writes, not one. Taking, the child
 * changes the count first and then the record; giving back, the record
 * first and then the count. So the record never claims more than the
 * child holds: a kill that falls between the two writes (a single
 * instruction apart) loses that one count, as any kill did before
 * records; it can never give a count back twice, which would let a
 * server exceed its maxconn. Nothing else is needed: the parent reads a
 * record only once waitpid() has said its child is dead.
 *
 * The generation's header and the records are written by the parent at
 * every fork and reap; in a private page each write would copy the page
 * for the parent and leave the old copy to the children forked before
 * (see parent_table() in wsproxy.c), so they live in the shared mapping.
 * Children never write the header, and each writes only its own record.
 */
#define _GNU_SOURCE
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "sticktable.h"
#include "track.h"
#include "scoreboard.h"
#include "counters.h"
#include "srvstate.h"

enum { PX_FE, PX_BE, PX_RR, PX_QUEUE, PX_SLOTS };
enum { SRV_CONNS, SRV_DOWN, SRV_SLOTS };

/* What one child holds; each field is an index + 1, 0 for nothing. */
struct sb_holder {
	int claimed;            /* the parent's: a live child owns it */
	pid_t pid;              /* the parent's: that child */
	atomic_int server;      /* the server whose connection slot it has */
	atomic_int backend;     /* the proxy whose %bc counts its connection */
	atomic_int queue;       /* the proxy in whose queue it waits */
	/* stick-table trackers (track.h): per scN, the entry, and the
	 * table as its number in the generation + 1 (0: none) */
	atomic_int trk_table[TRACK_NSC];
	atomic_int trk_entry[TRACK_NSC];
	/* tunnel-keeper (keeper.h): the keeper the child hands its tunnel
	 * to, written by the child before it does, so that the parent,
	 * reaping it, leaves the record to that keeper's "done" */
	atomic_int keeper;
	/* "shutdown sessions server": set before the signal, for a keeper,
	 * which holds many tunnels, to know which ones it meant */
	atomic_int killed;
};

struct generation {
	struct generation *older;       /* the parent's: still mapped */
	const struct config *cfg;       /* whose proxies it numbers */
	size_t map_len;
	int nproxies, nservers;
	atomic_int *counters;
	struct sb_holder *holders;
	int nholders;
	struct sb_ctr *ctrs;
	struct sb_srvstate *srvstates;
	struct sb_ctr proc;             /* the whole process tree's */
	/* the configuration's stick tables, each with a reference of the
	 * generation's (stk_ref), so that a child's trackers can be given
	 * back after a reload replaced the configuration */
	struct stk_table **tables;
	int ntables;
	int nclaimed;                   /* records of live children */
	int cursor;                     /* where the next claim looks first */
};

/* When the first generation was made: the process's start, for uptime. */
static struct timeval started;

/* The parent's newest generation; in a child, the one it was forked with. */
static struct generation *current;
/* A connection's child: its record. NULL in the parent, the checker and
 * inetd mode, where nobody would give anything back. */
static struct sb_holder *mine;

static size_t
align_up(size_t n, size_t alignment)
{
	return (n + alignment - 1) / alignment * alignment;
}

static void
generation_unmap(struct generation *g)
{
	for (int i = 0; i < g->ntables; i++)
		stk_unref(g->tables[i]);
	if (munmap(g, g->map_len) < 0)
		log_warn("munmap scoreboard");
}

/* g goes: the generation before it maps its servers past it. */
static void
skip_successors(const struct generation *g)
{
	const struct generation *before = g->older;

	if (before == NULL)
		return;
	for (int i = 0; i < before->nservers; i++) {
		int s = atomic_load(&before->srvstates[i].successor);
		if (s > 0 && s <= g->nservers)
			s = atomic_load(&g->srvstates[s - 1].successor);
		else
			s = 0;
		atomic_store(&before->srvstates[i].successor, s);
	}
}

/* Retired generations whose last child is gone: unmapped. */
static void
prune_retired(void)
{
	struct generation **link;

	if (current == NULL)
		return;
	link = &current->older;
	while (*link != NULL) {
		struct generation *g = *link;
		if (g->nclaimed > 0) {
			link = &g->older;
			continue;
		}
		*link = g->older;
		skip_successors(g);
		generation_unmap(g);
	}
}

static int
count_tables(const struct config *cfg)
{
	int n = 0;

	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		n += px->table != NULL && px->table->shm != NULL;
	return n;
}

static void
hold_tables(struct generation *g, const struct config *cfg)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		if (px->table == NULL || px->table->shm == NULL)
			continue;
		stk_ref(px->table->shm);
		g->tables[g->ntables++] = px->table->shm;
	}
}

/* A fresh generation's servers: the configuration's weight and state. */
static void
init_srvstates(struct generation *g, const struct config *cfg)
{
	for (const struct proxy *px = cfg->proxies; px; px = px->next)
		for (int i = 0; i < px->nservers; i++) {
			const struct server *srv = &px->servers[i];
			struct sb_srvstate *st = &g->srvstates[srv->index];
			atomic_store(&st->uweight, srv->weight);
			/* "disabled": HAProxy's CMAINT | FMAINT */
			atomic_store(&st->admin, srv->disabled ?
			    SRV_ADMF_CMAINT | SRV_ADMF_FMAINT : 0);
			atomic_store(&st->check_health, srv->rise);
			atomic_store(&st->check_duration, -1);
			atomic_store(&st->last_change, srv_now_ms());
		}
}

/* old's server named like srv in a backend named like be, or NULL. */
static const struct server *
old_server(const struct config *old, const struct proxy *be,
    const struct server *srv)
{
	const struct proxy *px = config_find_backend(old, be->name,
	    strlen(be->name));

	if (px == NULL)
		return NULL;
	for (int i = 0; i < px->nservers; i++)
		if (strcmp(px->servers[i].name, srv->name) == 0)
			return &px->servers[i];
	return NULL;
}

/*
 * A reload keeps what the runtime socket set on the servers that still
 * exist: maintenance, drain, health checks off, a weight changed from
 * the file's. "disabled" in the new file still counts, as at start.
 */
static void
carry_srvstates(struct generation *g, const struct config *cfg,
    const struct generation *prev)
{
	/* a reload undone (scoreboard_undo) left successors behind */
	for (int i = 0; i < prev->nservers; i++)
		atomic_store(&prev->srvstates[i].successor, 0);
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		for (int i = 0; i < px->nservers; i++) {
			const struct server *srv = &px->servers[i];
			const struct server *was = old_server(prev->cfg, px,
			    srv);
			struct sb_srvstate *st = &g->srvstates[srv->index];
			struct sb_srvstate *ost;
			int admin, uweight;
			if (was == NULL)
				continue;
			ost = &prev->srvstates[was->index];
			admin = atomic_load(&ost->admin);
			/* a "disabled" that the file dropped ends its
			 * maintenance; a new one starts it */
			if ((admin & SRV_ADMF_CMAINT) && !srv->disabled)
				admin &= ~(SRV_ADMF_FMAINT | SRV_ADMF_CMAINT);
			else if (!(admin & SRV_ADMF_CMAINT) && srv->disabled)
				admin |= SRV_ADMF_FMAINT | SRV_ADMF_CMAINT;
			atomic_store(&st->admin, admin);
			uweight = atomic_load(&ost->uweight);
			if (uweight != was->weight)
				atomic_store(&st->uweight, uweight);
			atomic_store(&st->check_off,
			    atomic_load(&ost->check_off));
			atomic_store(&st->last_change,
			    atomic_load(&ost->last_change));
			atomic_store(&ost->successor, srv->index + 1);
		}
	}
}

int
scoreboard_init(struct config *cfg)
{
	int nproxies = 0, nservers = 0;
	size_t ncounters, counters_off, holders_off, tables_off, len;
	size_t ctrs_off, srvstates_off;
	int ntables = count_tables(cfg);
	struct generation *g;
	void *map;

	for (struct proxy *px = cfg->proxies; px; px = px->next) {
		px->index = nproxies++;
		for (int i = 0; i < px->nservers; i++)
			px->servers[i].index = nservers++;
	}
	ncounters = 1 + PX_SLOTS * (size_t)nproxies +
	    SRV_SLOTS * (size_t)nservers;
	counters_off = align_up(sizeof(*g), alignof(atomic_int));
	holders_off = align_up(counters_off + ncounters * sizeof(atomic_int),
	    alignof(struct sb_holder));
	ctrs_off = align_up(holders_off +
	    (size_t)cfg->maxconn * sizeof(struct sb_holder),
	    alignof(struct sb_ctr));
	srvstates_off = align_up(ctrs_off + (2 * (size_t)nproxies +
	    (size_t)nservers) * sizeof(struct sb_ctr),
	    alignof(struct sb_srvstate));
	tables_off = align_up(srvstates_off +
	    (size_t)nservers * sizeof(struct sb_srvstate),
	    alignof(struct stk_table *));
	len = tables_off + (size_t)ntables * sizeof(struct stk_table *);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_warn("mmap scoreboard");
		return -1;
	}
	/* fresh anonymous pages are zero: every count and record too */
	if (started.tv_sec == 0)
		gettimeofday(&started, NULL);
	g = map;
	g->map_len = len;
	g->nproxies = nproxies;
	g->nservers = nservers;
	g->counters = (atomic_int *)(void *)((char *)map + counters_off);
	g->holders = (struct sb_holder *)(void *)((char *)map + holders_off);
	g->nholders = cfg->maxconn;
	g->ctrs = (struct sb_ctr *)(void *)((char *)map + ctrs_off);
	g->srvstates = (struct sb_srvstate *)(void *)((char *)map +
	    srvstates_off);
	init_srvstates(g, cfg);
	if (current != NULL)
		carry_srvstates(g, cfg, current);
	g->tables = (struct stk_table **)(void *)((char *)map + tables_off);
	hold_tables(g, cfg);
	g->cfg = cfg;
	/* the generation it replaces stays until the next reap or init,
	 * even without children, for scoreboard_undo() */
	prune_retired();
	g->older = current;
	current = g;
	return 0;
}

void
scoreboard_undo(const struct config *cfg)
{
	struct generation *g = current;

	if (g == NULL || g->cfg != cfg || g->older == NULL || g->nclaimed > 0)
		return;
	current = g->older;
	generation_unmap(g);
}

static size_t
px_slot(int px_index, int k)
{
	return 1 + PX_SLOTS * (size_t)px_index + (size_t)k;
}

/* g may be NULL (no scoreboard: nothing is counted). */
static size_t
srv_slot(const struct generation *g, int srv_index, int k)
{
	return 1 + PX_SLOTS * (size_t)(g ? g->nproxies : 0) +
	    SRV_SLOTS * (size_t)srv_index + (size_t)k;
}

static void
gen_add(const struct generation *g, size_t slot, int delta)
{
	atomic_fetch_add_explicit(&g->counters[slot], delta,
	    memory_order_relaxed);
}

static void
add(size_t slot, int delta)
{
	if (current != NULL)
		gen_add(current, slot, delta);
}

static int
get(size_t slot)
{
	return current ? atomic_load_explicit(&current->counters[slot],
	    memory_order_relaxed) : 0;
}

static void
set(size_t slot, int value)
{
	if (current != NULL)
		atomic_store_explicit(&current->counters[slot], value,
		    memory_order_relaxed);
}

/* ---- the parent's own counts ---- */

void
sb_add_process(int delta)
{
	add(0, delta);
}

void
sb_set_process(int value)
{
	set(0, value);
}

void
sb_add_frontend(const struct proxy *fe, int delta)
{
	add(px_slot(fe->index, PX_FE), delta);
}

int
sb_process_conns(void)
{
	return get(0);
}

int
sb_frontend_conns(const struct proxy *fe)
{
	return get(px_slot(fe->index, PX_FE));
}

/* ---- the records ---- */

struct sb_holder *
sb_holder_claim(void)
{
	struct generation *g = current;

	if (g == NULL)
		return NULL;
	for (int n = 0; n < g->nholders; n++) {
		struct sb_holder *h = &g->holders[g->cursor];
		g->cursor = (g->cursor + 1) % g->nholders;
		if (!h->claimed) {
			h->claimed = 1;
			h->pid = 0;
			atomic_store(&h->keeper, 0);
			atomic_store(&h->killed, 0);
			g->nclaimed++;
			return h;
		}
	}
	log_warnx("scoreboard: all %d child records in use: connection "
	    "closed", g->nholders);
	return NULL;
}

void
sb_holder_set_pid(struct sb_holder *h, pid_t pid)
{
	h->pid = pid;
}

void
sb_holder_enter(struct sb_holder *h)
{
	mine = h;
}

struct sb_holder *
sb_holder_mine(void)
{
	return mine;
}

void
sb_holder_hand_over(pid_t keeper)
{
	if (mine != NULL)
		atomic_store(&mine->keeper, (int)keeper);
}

pid_t
sb_holder_keeper(struct sb_holder *h)
{
	return h != NULL ? (pid_t)atomic_load(&h->keeper) : 0;
}

int
sb_holder_killed(struct sb_holder *h)
{
	return h != NULL && atomic_load(&h->killed);
}

static struct generation *
generation_of(const struct sb_holder *h)
{
	for (struct generation *g = current; g != NULL; g = g->older)
		if (h >= g->holders && h < g->holders + g->nholders)
			return g;
	return NULL;
}

/* Index + 1 as a record holds it, if it names one of n things; else 0. */
static int
held_index(atomic_int *field, int n)
{
	int id = atomic_exchange_explicit(field, 0, memory_order_relaxed);

	if (id < 0 || id > n) {
		log_warnx("scoreboard: a child record names #%d of %d", id, n);
		return 0;
	}
	return id;
}

/* The child is dead: what its record still holds goes back into g. */
static void
give_back(const struct generation *g, struct sb_holder *h)
{
	int srv = held_index(&h->server, g->nservers);
	int be = held_index(&h->backend, g->nproxies);
	int queue = held_index(&h->queue, g->nproxies);

	if (srv > 0)
		gen_add(g, srv_slot(g, srv - 1, SRV_CONNS), -1);
	if (be > 0)
		gen_add(g, px_slot(be - 1, PX_BE), -1);
	if (queue > 0)
		gen_add(g, px_slot(queue - 1, PX_QUEUE), -1);
	for (int sc = 0; sc < TRACK_NSC; sc++) {
		int t = held_index(&h->trk_table[sc], g->ntables);
		int idx = atomic_load_explicit(&h->trk_entry[sc],
		    memory_order_relaxed);
		if (t > 0)
			stk_untrack(g->tables[t - 1], idx);
	}
}

void
sb_holder_release(struct sb_holder *h)
{
	struct generation *g = generation_of(h);

	if (g == NULL || !h->claimed) {
		log_warnx("scoreboard: a child record that is not in use");
		return;
	}
	give_back(g, h);
	h->claimed = 0;
	g->nclaimed--;
	prune_retired();
}

/* The child's record says it holds id (index + 1; 0: nothing). */
static void
note(atomic_int *field, int id)
{
	atomic_store_explicit(field, id, memory_order_relaxed);
}

/* ---- what a child takes and gives back: count first, then record ---- */

int
sb_take_server(const struct server *srv, int maxconn)
{
	atomic_int *conns;
	int seen;

	if (current == NULL)
		return 1;
	conns = &current->counters[srv_slot(current, srv->index, SRV_CONNS)];
	if (maxconn <= 0) {
		atomic_fetch_add_explicit(conns, 1, memory_order_relaxed);
		goto taken;
	}
	/* compare-and-swap: two children must not both take the last slot */
	seen = atomic_load_explicit(conns, memory_order_relaxed);
	while (seen < maxconn) {
		if (atomic_compare_exchange_weak_explicit(conns, &seen,
		    seen + 1, memory_order_relaxed, memory_order_relaxed))
			goto taken;
	}
	return 0;
taken:
	if (mine != NULL)
		note(&mine->server, srv->index + 1);
	return 1;
}

void
sb_release_server(const struct server *srv)
{
	if (mine != NULL)
		note(&mine->server, 0);
	add(srv_slot(current, srv->index, SRV_CONNS), -1);
}

int
sb_server_conns(const struct server *srv)
{
	return get(srv_slot(current, srv->index, SRV_CONNS));
}

void
sb_hold_backend(const struct proxy *be)
{
	add(px_slot(be->index, PX_BE), 1);
	if (mine != NULL)
		note(&mine->backend, be->index + 1);
}

void
sb_release_backend(const struct proxy *be)
{
	if (mine != NULL)
		note(&mine->backend, 0);
	add(px_slot(be->index, PX_BE), -1);
}

void
sb_enter_queue(const struct proxy *be)
{
	add(px_slot(be->index, PX_QUEUE), 1);
	if (mine != NULL)
		note(&mine->queue, be->index + 1);
}

void
sb_leave_queue(const struct proxy *be)
{
	if (mine != NULL)
		note(&mine->queue, 0);
	add(px_slot(be->index, PX_QUEUE), -1);
}

/* The number + 1 of t among the current generation's tables, or 0. */
static int
table_number(const struct stk_table *t)
{
	if (current == NULL)
		return 0;
	for (int i = 0; i < current->ntables; i++)
		if (current->tables[i] == t)
			return i + 1;
	return 0;
}

/* The entry first, then the table that makes the record count. */
void
sb_hold_track(struct sb_holder *h, int sc, const struct stk_table *t,
    int idx)
{
	int number = table_number(t);

	if (h == NULL)
		h = mine;
	if (h == NULL || number == 0)
		return;
	atomic_store_explicit(&h->trk_entry[sc], idx, memory_order_relaxed);
	note(&h->trk_table[sc], number);
}

void
sb_release_track(struct sb_holder *h, int sc)
{
	if (h == NULL)
		h = mine;
	if (h != NULL)
		note(&h->trk_table[sc], 0);
}

/* ---- health and balancing ---- */

int
sb_server_up(const struct server *srv)
{
	return get(srv_slot(current, srv->index, SRV_DOWN)) == 0;
}

void
sb_set_server_up(const struct server *srv, int up)
{
	set(srv_slot(current, srv->index, SRV_DOWN), !up);
}

unsigned
sb_next_rr(const struct proxy *be)
{
	if (current == NULL)
		return 0;
	return (unsigned)atomic_fetch_add_explicit(
	    &current->counters[px_slot(be->index, PX_RR)], 1,
	    memory_order_relaxed);
}

void
sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out)
{
	out->process = get(0);
	out->frontend = get(px_slot(fe->index, PX_FE));
	out->backend = be ? get(px_slot(be->index, PX_BE)) : 0;
	out->server = srv ? get(srv_slot(current, srv->index, SRV_CONNS)) : 0;
	out->srv_queue = 0;
	out->be_queue = be ? get(px_slot(be->index, PX_QUEUE)) : 0;
}

/* ---- the stats' counters and the servers' state ---- */

/* A child of no scoreboard (inetd mode) counts into these: nobody reads
 * them. */
static struct sb_ctr unshared_ctr;
static struct sb_srvstate unshared_srvstate;

struct sb_ctr *
sb_fe_ctr(const struct proxy *px)
{
	return current ? &current->ctrs[2 * (size_t)px->index] : &unshared_ctr;
}

struct sb_ctr *
sb_be_ctr(const struct proxy *px)
{
	return current ? &current->ctrs[2 * (size_t)px->index + 1] :
	    &unshared_ctr;
}

struct sb_ctr *
sb_srv_ctr(const struct server *srv)
{
	return current ? &current->ctrs[2 * (size_t)current->nproxies +
	    (size_t)srv->index] : &unshared_ctr;
}

struct sb_srvstate *
sb_srv_state(const struct server *srv)
{
	return current ? &current->srvstates[srv->index] : &unshared_srvstate;
}

/* The generation just newer than g, or NULL for the current one. */
static const struct generation *
newer_of(const struct generation *g)
{
	for (const struct generation *n = current; n != NULL; n = n->older)
		if (n->older == g)
			return n;
	return NULL;
}

/* Server id (index + 1) of generation g as the current generation
 * numbers it, through the reloads since (0: it is gone). */
static int
current_id(const struct generation *g, int id)
{
	while (g != current && g != NULL && id > 0) {
		id = id <= g->nservers ?
		    atomic_load(&g->srvstates[id - 1].successor) : 0;
		g = newer_of(g);
	}
	return id;
}

/*
 * Children of older generations too: a tunnel outlives a reload. The
 * mark comes before the signal (and the keeper is read after it): a
 * tunnel on its way to a keeper is either signalled in its child or
 * found marked by the keeper when it arrives.
 */
void
sb_kill_sessions(const struct server *srv, void (*fn)(pid_t, void *),
    void *arg)
{
	for (const struct generation *g = current; g != NULL; g = g->older) {
		for (int i = 0; i < g->nholders; i++) {
			struct sb_holder *h = &g->holders[i];
			int keeper;
			if (!h->claimed || h->pid <= 0)
				continue;
			if (srv != NULL && current_id(g, atomic_load_explicit(
			    &h->server, memory_order_relaxed)) != srv->index + 1)
				continue;
			atomic_store(&h->killed, 1);
			keeper = atomic_load(&h->keeper);
			fn(keeper > 0 ? keeper : h->pid, arg);
		}
	}
}

struct sb_ctr *
sb_proc_ctr(void)
{
	return current ? &current->proc : &unshared_ctr;
}

struct timeval
sb_start_time(void)
{
	return started;
}
