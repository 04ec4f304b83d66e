/*
 * scoreboard.c - one array of atomic counters in shared memory:
 *
 *	[0]                      the process tree's live connections
 *	[1 + 2 * proxy]          a frontend's live connections
 *	[2 + 2 * proxy]          a backend's live server connections
 *	[1 + 2 * nproxies + srv] a server's live connections
 *
 * A reload maps a new one; children forked before keep the old mapping.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "log.h"
#include "scoreboard.h"

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
	size = (size_t)(1 + 2 * n + nservers) * sizeof(atomic_int);
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
	add(1 + 2 * (size_t)fe->index, delta);
}

void
sb_add_backend(const struct proxy *be, int delta)
{
	add(2 + 2 * (size_t)be->index, delta);
}

void
sb_add_server(const struct server *srv, int delta)
{
	add(1 + 2 * (size_t)nproxies + (size_t)srv->index, delta);
}

void
sb_read(const struct proxy *fe, const struct proxy *be,
    const struct server *srv, struct sb_counts *out)
{
	out->process = get(0);
	out->frontend = get(1 + 2 * (size_t)fe->index);
	out->backend = be ? get(2 + 2 * (size_t)be->index) : 0;
	out->server = srv ? get(1 + 2 * (size_t)nproxies +
	    (size_t)srv->index) : 0;
}
