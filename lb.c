/*
 * lb.c - which server of a backend gets a request.
 *
 * Children are separate processes, so everything that must hold across
 * them lives in the scoreboard: each server's live connections (for
 * leastconn and maxconn), its health (written by the checker) and the
 * backend's round-robin position. What can be derived from the config
 * (the candidate list, weights, the weighted maps) is recomputed per
 * request: a handful of servers, a few microseconds, and it always
 * reflects the servers that are UP at that moment.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "lb.h"
#include "log.h"
#include "scoreboard.h"

/* The servers a request may go to now, and their weights. */
struct candidates {
	const struct server **srv;
	int *weight;            /* divided by the GCD of all of them */
	int n;
	int total;              /* sum of weight[] */
};

/* Not in maintenance or drain, weight > 0, UP (srvstate.c). */
static int
server_usable(const struct server *srv)
{
	return srv_usable(srv);
}

int
lb_usable(const struct proxy *be)
{
	int n = 0;

	for (int i = 0; i < be->nservers; i++)
		n += server_usable(&be->servers[i]);
	return n;
}

static int
gcd(int a, int b)
{
	while (b != 0) {
		int r = a % b;
		a = b;
		b = r;
	}
	return a;
}

/*
 * Active servers if any is usable; otherwise the first usable backup, or
 * every usable backup with "option allbackups" (HAProxy's rule).
 */
static void
candidates_collect(const struct proxy *be, struct candidates *c)
{
	int divisor = 0;

	c->n = 0;
	c->total = 0;
	for (int pass = 0; pass < 2 && c->n == 0; pass++) {
		for (int i = 0; i < be->nservers; i++) {
			const struct server *srv = &be->servers[i];
			int weight;
			if (srv->backup != pass || !server_usable(srv))
				continue;
			/* the runtime weight ("set server ... weight"), read
			 * once: it may change under us */
			weight = atomic_load(&sb_srv_state(srv)->uweight);
			if (weight <= 0)
				continue;
			c->weight[c->n] = weight;
			c->srv[c->n++] = srv;
			if (pass == 1 && !(be->options & OPT_ALLBACKUPS))
				break;
		}
	}
	for (int i = 0; i < c->n; i++)
		divisor = gcd(divisor, c->weight[i]);
	for (int i = 0; i < c->n; i++) {
		c->weight[i] /= divisor;
		c->total += c->weight[i];
	}
}

/*
 * Does candidate i's claim on a slot beat candidate best's? HAProxy's
 * map (static-rr, source) compares (score + T) / T, so that within a
 * whole unit the earlier server wins; the smooth rotation (roundrobin)
 * compares the scores themselves, which interleaves the servers and
 * puts the heaviest first. HAProxy's own roundrobin order differs in
 * details; the proportions are the same.
 */
static int
claim_beats(const struct candidates *c, const int *score, int i, int best,
    int smooth)
{
	if (smooth)
		return score[i] > score[best];
	return (score[i] + c->total) / c->total >
	    (score[best] + c->total) / c->total;
}

/*
 * Slot `slot` of a weighted sequence of T = total slots: for each slot
 * every server's score grows by its weight, the best claim takes the
 * slot and pays T.
 */
static int
weighted_slot(const struct candidates *c, int slot, int *score, int smooth)
{
	int best = 0;

	memset(score, 0, (size_t)c->n * sizeof(*score));
	for (int o = 0; o <= slot; o++) {
		best = 0;
		for (int i = 0; i < c->n; i++) {
			score[i] += c->weight[i];
			if (claim_beats(c, score, i, best, smooth))
				best = i;
		}
		score[best] -= c->total;
	}
	return best;
}

/* Takes a slot on candidate i unless it is the one to avoid. */
static int
try_take(const struct candidates *c, int i, const struct server *avoid)
{
	if (c->srv[i] == avoid && c->n > 1)
		return 0;
	return sb_take_server(c->srv[i], c->srv[i]->maxconn);
}

/*
 * roundrobin and static-rr: the shared position says which map slot is
 * next; a full server's slot is passed over to the following ones.
 */
static int
pick_rotation(const struct proxy *be, const struct candidates *c,
    const struct server *avoid, int *score)
{
	unsigned pos = sb_next_rr(be);

	for (int step = 0; step < c->total; step++) {
		int slot = (int)((pos + (unsigned)step) % (unsigned)c->total);
		int i = weighted_slot(c, slot, score,
		    be->balance == BALANCE_ROUNDROBIN);
		if (try_take(c, i, avoid))
			return i;
	}
	return -1;
}

/* a has fewer connections per unit of weight than b. */
static int
less_loaded(int conns_a, int weight_a, int conns_b, int weight_b)
{
	return (long long)conns_a * weight_b < (long long)conns_b * weight_a;
}

/*
 * leastconn: fewest live connections per unit of weight; ties go round
 * the list from the rotating position. A server that turns out full
 * (another child took its last slot meanwhile) is struck off and the
 * next best tried.
 */
static int
pick_leastconn(const struct proxy *be, const struct candidates *c,
    const struct server *avoid, int *tried)
{
	int start = (int)(sb_next_rr(be) % (unsigned)c->n);

	memset(tried, 0, (size_t)c->n * sizeof(*tried));
	for (int round = 0; round < c->n; round++) {
		int best = -1, best_conns = 0;
		for (int k = 0; k < c->n; k++) {
			int i = (start + k) % c->n;
			int conns = sb_server_conns(c->srv[i]);
			if (tried[i])
				continue;
			if (best < 0 || less_loaded(conns, c->weight[i],
			    best_conns, c->weight[best])) {
				best = i;
				best_conns = conns;
			}
		}
		if (best < 0)
			break;
		tried[best] = 1;
		if (try_take(c, best, avoid))
			return best;
	}
	return -1;
}

/* first: the first server in declaration order with a free slot. */
static int
pick_first(const struct candidates *c, const struct server *avoid)
{
	for (int i = 0; i < c->n; i++)
		if (try_take(c, i, avoid))
			return i;
	return -1;
}

/*
 * HAProxy's source hash key: an IPv4 address as an integer, an IPv6 one
 * as the XOR of its four 32-bit words; no further hashing, so parity
 * with HAProxy holds client by client.
 */
static uint32_t
source_key(const struct sockaddr_storage *src)
{
	if (src->ss_family == AF_INET)
		return ntohl(((const struct sockaddr_in *)src)->sin_addr.s_addr);
	if (src->ss_family == AF_INET6) {
		const unsigned char *a =
		    ((const struct sockaddr_in6 *)src)->sin6_addr.s6_addr;
		uint32_t key = 0;
		for (const unsigned char *w = a; w < a + 16; w += 4)
			key ^= (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 |
			    (uint32_t)w[2] << 8 | w[3];
		return key;
	}
	return 0;
}

/*
 * source: always the same server for a client while the set of usable
 * servers is unchanged; a full server makes the request wait for it
 * rather than move (stickiness is the point). A redispatch lands on the
 * same server too, as in HAProxy.
 */
static int
pick_source(const struct candidates *c, const struct sockaddr_storage *src,
    int *score)
{
	uint32_t key = c->n > 1 ? source_key(src) : 0;
	int i = weighted_slot(c, (int)(key % (uint32_t)c->total), score, 0);

	return sb_take_server(c->srv[i], c->srv[i]->maxconn) ? i : -1;
}

static int
pick_index(const struct proxy *be, const struct candidates *c,
    const struct sockaddr_storage *src, const struct server *avoid,
    int *scratch)
{
	switch (be->balance) {
	case BALANCE_LEASTCONN:
		return pick_leastconn(be, c, avoid, scratch);
	case BALANCE_FIRST:
		return pick_first(c, avoid);
	case BALANCE_SOURCE:
		return pick_source(c, src, scratch);
	case BALANCE_ROUNDROBIN:
	case BALANCE_STATIC_RR:
		break;
	}
	return pick_rotation(be, c, avoid, scratch);
}

/*
 * The per-pick arrays for up to this many servers live on the stack.
 * The child avoids malloc where it can: its arena shares pages with
 * what the parent allocated, and writing there copies them.
 */
#define LB_STACK_SERVERS 32

const struct server *
lb_pick(const struct proxy *be, const struct sockaddr_storage *src,
    const struct server *avoid, int *full)
{
	const struct server *srv_space[LB_STACK_SERVERS];
	int weight_space[LB_STACK_SERVERS], scratch_space[LB_STACK_SERVERS];
	int on_stack = be->nservers <= LB_STACK_SERVERS;
	struct candidates c;
	const struct server *chosen = NULL;
	int *scratch, i;

	*full = 0;
	if (be->nservers == 0)
		return NULL;
	if (on_stack) {
		memset(scratch_space, 0, sizeof(scratch_space));
		c.srv = srv_space;
		c.weight = weight_space;
		scratch = scratch_space;
	} else {
		c.srv = calloc((size_t)be->nservers,
		    sizeof(const struct server *));
		c.weight = calloc((size_t)be->nservers, sizeof(*c.weight));
		scratch = calloc((size_t)be->nservers, sizeof(*scratch));
		if (c.srv == NULL || c.weight == NULL || scratch == NULL)
			fatal("server selection: out of memory");
	}
	candidates_collect(be, &c);
	if (c.n > 0) {
		i = pick_index(be, &c, src, avoid, scratch);
		if (i >= 0) {
			chosen = c.srv[i];
			count_lb(be, chosen);
		}
		else
			*full = 1;
	}
	if (!on_stack) {
		free(c.srv);
		free(c.weight);
		free(scratch);
	}
	return chosen;
}
