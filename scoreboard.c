/*
 * scoreboard.c - one array of atomic counters in shared memory:
 *
 *	[0]                         the process tree's live connections
 *	[1 + PX_SLOTS * proxy + k]  per proxy: k = 0 a frontend's live
 *	                            connections, 1 a backend's live server
 *	                            connections, 2 its round-robin position,
 *	                            3 its queued requests
 *	[1 + PX_SLOTS * nproxies
 *	   + SRV_SLOTS * srv + k]   per server: k = 0 live connections,
 *	                            1 down (0 = UP, so fresh pages mean UP)
 *
 * A reload maps a new one; children forked before keep the old mapping.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "log.h"
#include "scoreboard.h"

enum { PX_FE, PX_BE, PX_RR, PX_QUEUE, PX_SLOTS };
enum { SRV_CONNS, SRV_DOWN, SRV_SLOTS };

static atomic_int *counters;
static size_t counters_size;
static int nproxies;

int
scoreboard_init(struct config *cfg)
{
	int nservers = 0, n = 0;
	size_t size;
	void *map;

	for (struct proxy *px = cfg->proxies; px; px = px->next) {
		n++;
		nservers += px->nservers;
	}
	size = (size_t)(1 + PX_SLOTS * n + SRV_SLOTS * nservers) *
	    sizeof(atomic_int);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_warn("mmap scoreboard");
		return -1;
	}
	if (counters != NULL)
		(void)munmap(counters, counters_size);
	/* fresh anonymous pages are zero: every counter starts at 0 */
	counters = map;
	counters_size = size;
	nproxies = 0;
	nservers = 0;
	for (struct proxy *px = cfg->proxies; px; px = px->next) {
		px->index = nproxies++;
		for (int i = 0; i < px->nservers; i++)
			px->servers[i].index = nservers++;
	}
	return 0;
}

static size_t
px_slot(const struct proxy *px, int k)
{
	return 1 + PX_SLOTS * (size_t)px->index + (size_t)k;
}

static size_t
srv_slot(const struct server *srv, int k)
{
	return 1 + PX_SLOTS * (size_t)nproxies +
	    SRV_SLOTS * (size_t)srv->index + (size_t)k;
}

static void
add(size_t slot, int delta)
{
	if (counters != NULL)
		atomic_fetch_add_explicit(&counters[slot], delta,
		    memory_order_relaxed);
}

static int
get(size_t slot)
{
	return counters ? atomic_load_explicit(&counters[slot],
	    memory_order_relaxed) : 0;
}

void
sb_add_process(int delta)
{
	add(0, delta);
}

void
sb_set_process(int value)
{
	if (counters != NULL)
		atomic_store_explicit(&counters[0], value,
		    memory_order_relaxed);
}

void
sb_add_frontend(const struct proxy *fe, int delta)
{
	add(px_slot(fe, PX_FE), delta);
}

int
sb_frontend_conns(const struct proxy *fe)
{
	return get(px_slot(fe, PX_FE));
}

void
sb_add_backend(const struct proxy *be, int delta)
{
	add(px_slot(be, PX_BE), delta);
}

void
sb_add_server(const struct server *srv, int delta)
{
	add(srv_slot(srv, SRV_CONNS), delta);
}

int
sb_take_server(const struct server *srv, int maxconn)
{
	atomic_int *conns;
	int seen;

	if (counters == NULL)
		return 1;
	conns = &counters[srv_slot(srv, SRV_CONNS)];
	if (maxconn <= 0) {
		atomic_fetch_add_explicit(conns, 1, memory_order_relaxed);
		return 1;
	}
	/* compare-and-swap: two children must not both take the last slot */
	seen = atomic_load_explicit(conns, memory_order_relaxed);
	while (seen < maxconn) {
		if (atomic_compare_exchange_weak_explicit(conns, &seen,
		    seen + 1, memory_order_relaxed, memory_order_relaxed))
			return 1;
	}
	return 0;
}

int
sb_server_conns(const struct server *srv)
{
	return get(srv_slot(srv, SRV_CONNS));
}

int
sb_server_up(const struct server *srv)
{
	return get(srv_slot(srv, SRV_DOWN)) == 0;
}

void
sb_set_server_up(const struct server *srv, int up)
{
	if (counters != NULL)
		atomic_store_explicit(&counters[srv_slot(srv, SRV_DOWN)],
		    !up, memory_order_relaxed);
}

unsigned
sb_next_rr(const struct proxy *be)
{
	if (counters == NULL)
		return 0;
	return (unsigned)atomic_fetch_add_explicit(
	    &counters[px_slot(be, PX_RR)], 1, memory_order_relaxed);
}

void
sb_add_queue(const struct proxy *be, int delta)
{
	add(px_slot(be, PX_QUEUE), delta);
}

void
sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out)
{
	out->process = get(0);
	out->frontend = get(px_slot(fe, PX_FE));
	out->backend = be ? get(px_slot(be, PX_BE)) : 0;
	out->server = srv ? get(srv_slot(srv, SRV_CONNS)) : 0;
	out->srv_queue = 0;
	out->be_queue = be ? get(px_slot(be, PX_QUEUE)) : 0;
}
