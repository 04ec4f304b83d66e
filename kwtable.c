/*
 * kwtable.c - lookups in sorted keyword tables, and their order check.
 * The first member of every element is its name, so one comparison
 * serves every table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwtable.h"

static const char *
name_at(const struct kwtable *t, size_t i)
{
	return *(const char *const *)(const void *)
	    ((const char *)t->base + i * t->size);
}

static int
name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

const void *
kwtable_find(const struct kwtable *t, const char *name)
{
	return bsearch(name, t->base, t->count, t->size, name_cmp);
}

int
kwtable_check(const struct kwtable *t, char *err, size_t errlen)
{
	for (size_t i = 1; i < t->count; i++) {
		if (strcmp(name_at(t, i - 1), name_at(t, i)) < 0)
			continue;
		snprintf(err, errlen, "internal error: the table of %s is not "
		    "sorted ('%s' before '%s')", t->what, name_at(t, i - 1),
		    name_at(t, i));
		return -1;
	}
	return 0;
}
