/*
 * kwtable.h - sorted keyword tables looked up with bsearch(), and the
 * check that keeps them sorted.
 *
 * A table is an array of structs whose first member is the keyword
 * (const char *name), or an array of const char * itself, described by
 * KWTABLE(). Each module with tables exports a MODULE_tables_check()
 * that runs kwtable_check() on every one of them, and config_load()
 * calls those checks before it reads a line: a table out of order stops
 * every start and every test, instead of making one keyword silently
 * "unknown".
 */
#ifndef WSPROXY_KWTABLE_H
#define WSPROXY_KWTABLE_H

#include <stddef.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct kwtable {
	const char *what;       /* "global keywords", for the message */
	const void *base;
	size_t count, size;
};

/* The element of t whose first member is name, or NULL. */
const void *kwtable_find(const struct kwtable *t, const char *name);

/* Describes a table: KWTABLE("options", option_kws). */
#define KWTABLE(what, array) \
	{ what, array, NELEM(array), sizeof((array)[0]) }

/*
 * 0 if t is strictly sorted; else -1 with a message naming the table and
 * the first pair out of order.
 */
int kwtable_check(const struct kwtable *t, char *err, size_t errlen);

#endif
