/*
 * buf.h - what a child's connection is made of in memory, and the clock
 * it is timed with: byte buffers, each a mapping of its own; page-aligned
 * anonymous memory whose pages can be handed back while it stays mapped;
 * and now_ms(), the one monotonic clock of every process.
 */
#ifndef WSPROXY_BUF_H
#define WSPROXY_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Bytes [start, start + len) of data are pending. */
struct buf {
	char *data;
	size_t cap, start, len;
	int touched;             /* pages may be in memory (see buf_trim) */
};

/* data is a mapping of its own, so that an idle tunnel can hand its
 * pages back to the kernel; it lasts as long as the process (a child,
 * which exits when its connection ends). */
int  buf_alloc(struct buf *b, size_t cap);
void buf_consume(struct buf *b, size_t n);

/* Room to read into, moving pending bytes to the front if needed. */
size_t buf_room(struct buf *b);

/* An empty buffer's pages go back to the kernel (read as zeros after). */
void buf_trim(struct buf *b);

/* Page-aligned anonymous memory (NULL on failure), for what a child
 * allocates per connection; pages_release() gives the pages back while
 * keeping the mapping (they read as zeros afterwards). */
void *pages_map(size_t len);
void  pages_release(void *p, size_t len);

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and durations only. */
int64_t now_ms(void);

#endif
