/*
 * userlist.c - userlist sections (userlist.h). Placeholder until the
 * parser lands: no userlist can be declared, so nothing matches.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "userlist.h"

int
userlist_check(const struct userlist *ul, const struct http_msg *req)
{
	(void)ul;
	(void)req;
	return 0;
}

struct userlist *
userlist_find(struct userlist *list, const char *name)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

void
userlist_free_all(struct userlist *list)
{
	while (list != NULL) {
		struct userlist *next = list->next;
		for (int i = 0; i < list->nusers; i++) {
			free(list->users[i].name);
			free(list->users[i].password);
		}
		free(list->users);
		free(list->name);
		free(list);
		list = next;
	}
}
