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

#include "log.h"
#include "scoreboard.h"

enum { PX_FE, PX_BE, PX_RR, PX_QUEUE, PX_SLOTS };
enum { SRV_CONNS, SRV_DOWN, SRV_SLOTS };

/* What one child holds; each field is an index + 1, 0 for nothing. */
struct sb_holder {
	int claimed;            /* the parent's: a live child owns it */
	atomic_int server;      /* the server whose connection slot it has */
	atomic_int backend;     /* the proxy whose %bc counts its connection */
	atomic_int queue;       /* the proxy in whose queue it waits */
};

struct generation {
	struct generation *older;       /* the parent's: still mapped */
	const struct config *cfg;       /* whose proxies it numbers */
	size_t map_len;
	int nproxies, nservers;
	atomic_int *counters;
	struct sb_holder *holders;
	int nholders;
	int nclaimed;                   /* records of live children */
	int cursor;                     /* where the next claim looks first */
};

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
		if (munmap(g, g->map_len) < 0)
			log_warn("munmap scoreboard");
	}
}

int
scoreboard_init(struct config *cfg)
{
	int nproxies = 0, nservers = 0;
	size_t ncounters, counters_off, holders_off, len;
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
	len = holders_off + (size_t)cfg->maxconn * sizeof(struct sb_holder);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_warn("mmap scoreboard");
		return -1;
	}
	/* fresh anonymous pages are zero: every count and record too */
	g = map;
	g->map_len = len;
	g->nproxies = nproxies;
	g->nservers = nservers;
	g->counters = (atomic_int *)(void *)((char *)map + counters_off);
	g->holders = (struct sb_holder *)(void *)((char *)map + holders_off);
	g->nholders = cfg->maxconn;
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
	if (munmap(g, g->map_len) < 0)
		log_warn("munmap scoreboard");
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
			g->nclaimed++;
			return h;
		}
	}
	log_warnx("scoreboard: all %d child records in use: connection "
	    "closed", g->nholders);
	return NULL;
}

void
sb_holder_enter(struct sb_holder *h)
{
	mine = h;
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
