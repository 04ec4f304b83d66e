/*
 * counters.c - the arithmetic of the stats' counters (counters.h). The
 * counters themselves live in the scoreboard's shared mapping.
 */
#include "counters.h"

/*
 * Moves f to second now: the count of the second before stays as prev
 * (0 if that second saw nothing). Two processes may both see the change
 * of second; the compare-and-swap lets one of them move the counts.
 */
static void
freq_rotate(struct sb_freq *f, unsigned now)
{
	unsigned sec = atomic_load_explicit(&f->sec, memory_order_relaxed);

	if (sec == now)
		return;
	if (!atomic_compare_exchange_strong_explicit(&f->sec, &sec, now,
	    memory_order_relaxed, memory_order_relaxed))
		return;         /* another process moved it */
	unsigned curr = atomic_exchange_explicit(&f->curr, 0,
	    memory_order_relaxed);
	atomic_store_explicit(&f->prev, sec + 1 == now ? curr : 0,
	    memory_order_relaxed);
}

unsigned
freq_add(struct sb_freq *f, unsigned now, unsigned n)
{
	freq_rotate(f, now);
	atomic_fetch_add_explicit(&f->curr, n, memory_order_relaxed);
	return freq_read(f, now);
}

unsigned
freq_read(struct sb_freq *f, unsigned now)
{
	unsigned sec = atomic_load_explicit(&f->sec, memory_order_relaxed);

	if (sec == now)
		return atomic_load_explicit(&f->prev, memory_order_relaxed);
	if (sec + 1 == now)
		return atomic_load_explicit(&f->curr, memory_order_relaxed);
	return 0;
}

void
ctr_add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void
ctr_max(atomic_uint *max, unsigned value)
{
	unsigned seen = atomic_load_explicit(max, memory_order_relaxed);

	while (seen < value && !atomic_compare_exchange_weak_explicit(max,
	    &seen, value, memory_order_relaxed, memory_order_relaxed))
		;
}
