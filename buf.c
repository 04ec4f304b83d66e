/*
 * buf.c - a connection's memory and the clock.
 *
 * Everything a child allocates per connection (its two buffers, the
 * header tables and rewritten heads) is a fresh anonymous mapping, not
 * malloc: a pointer into malloc's arena would share pages with what the
 * parent allocated, and writing there copies them (and malloc's own
 * bookkeeping) into every child. A page of a mapping costs memory only
 * once touched, and can be handed back (madvise) while the mapping
 * stays, which is how thousands of idle WebSocket tunnels cost little.
 *
 * now_ms() lives here because the relay times its buffers with it; it
 * is the one monotonic clock of the parent, the checker and the children.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "buf.h"

#define PAGE_BYTES 4096

int64_t
now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer (POSIX). */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
page_round(size_t n)
{
	return (n + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
}

void *
pages_map(size_t len)
{
	void *p = mmap(NULL, page_round(len), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
pages_release(void *p, size_t len)
{
	/* Advice only: on failure the pages simply stay. */
	(void)madvise(p, page_round(len), MADV_DONTNEED);
}

int
buf_alloc(struct buf *b, size_t cap)
{
	b->data = pages_map(cap);
	b->cap = cap;
	b->start = b->len = 0;
	b->touched = 1;         /* callers may read into it directly */
	return b->data ? 0 : -1;
}

void
buf_trim(struct buf *b)
{
	if (!b->touched || b->len > 0)
		return;
	b->start = 0;
	b->touched = 0;
	pages_release(b->data, b->cap);
}

void
buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	b->len -= n;
	if (b->len == 0)
		b->start = 0;
}

size_t
buf_room(struct buf *b)
{
	if (b->start + b->len == b->cap && b->start > 0) {
		memmove(b->data, b->data + b->start, b->len);
		b->start = 0;
	}
	return b->cap - b->start - b->len;
}
