/*
 * fuzz_common.h - shared bits of the libFuzzer targets (test/fuzz/).
 * Only the harnesses include this; the proxy's sources are compiled as
 * they are.
 */
#ifndef WSPROXY_FUZZ_COMMON_H
#define WSPROXY_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An invariant of the code under test: abort() so the fuzzer records it
 * (assert() could be compiled out by -DNDEBUG). */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Is [p, p + n) inside [base, base + len)? */
static inline int
fuzz_within(const void *p, size_t n, const void *base, size_t len)
{
	const char *c = p, *b = base;

	return c >= b && c <= b + len && n <= (size_t)(b + len - c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
