/*
 * cfguserlist.c - "userlist NAME" sections (HAProxy 2.6's configuration
 * manual, 3.4): "user NAME [password HASH | insecure-password PASS]
 * [groups G1,G2]" and "group NAME [users U1,U2]" lines, in any order: a
 * user may name a group declared after it and a group a user declared
 * after it, so the names are resolved once the whole file is read
 * (2.6's userlist_postinit), with 2.6's messages. So are the userlists
 * the http_auth(L) and http_auth_group(L) ACLs name (acl.h), since a
 * userlist may follow the proxies that use it.
 *
 * Where 2.6 only warns and ignores a line that repeats a userlist, user
 * or group, or takes the last of repeated options, these are errors
 * here: the line ignored might be the one meant (a changed password, a
 * group's members), and the file would then grant what it does not say.
 * A user needs a password, and a hash must be one this system's crypt(3)
 * verifies (userlist_hash_usable()).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"

/* 2.6's invalid_char(): the first character not allowed in a name. */
static const char *
invalid_char(const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.:", *c))
			return c;
	return NULL;
}

/* The name of "KEYWORD NAME ...", or NULL after the error. */
static const char *
any_name(struct parser *p, char **w, int n)
{
	if (n < 2 || w[1][0] == '\0') {
		p_err(p, "'%s' expects <name> as arguments.", w[0]);
		return NULL;
	}
	return w[1];
}

/* The same, for the userlist and group names 2.6 restricts (not user
 * names: "user ann@example.com" is valid). */
static const char *
section_name(struct parser *p, char **w, int n)
{
	const char *bad;

	if (any_name(p, w, n) == NULL)
		return NULL;
	if ((bad = invalid_char(w[1])) != NULL) {
		p_err(p, "character '%c' is not permitted in '%s' name '%s'.",
		    *bad, w[0], w[1]);
		return NULL;
	}
	return w[1];
}

void
userlist_section_start(struct parser *p, char **w, int n)
{
	const char *name = section_name(p, w, n);
	struct userlist *ul, **tail = &p->cfg->userlists;

	p->sec = SEC_USERLIST;
	p->ul_cur = NULL;               /* its lines are not read */
	if (name == NULL)
		return;
	if (n > 2) {
		p_err(p, "'%s' cannot handle unexpected argument '%s'.", w[0],
		    w[2]);
		return;
	}
	if ((ul = userlist_find(p->cfg->userlists, name)) != NULL) {
		p_err(p, "duplicated userlist '%s' (first declared at %s:%d).",
		    name, p->file, ul->line);
		return;
	}
	while (*tail != NULL)
		tail = &(*tail)->next;
	ul = xcalloc(1, sizeof(*ul));
	ul->name = xstrdup(name);
	ul->line = p->line;
	*tail = ul;
	p->ul_cur = ul;
}

/* ---- user lines ---- */

static struct user *
user_named(struct userlist *ul, const char *name)
{
	for (int i = 0; i < ul->nusers; i++)
		if (strcmp(ul->users[i].name, name) == 0)
			return &ul->users[i];
	return NULL;
}

/* The value of "OPTION VALUE" at w[i]; NULL after the error. again:
 * the option, or another it excludes, came before on the line. */
static const char *
option_value(struct parser *p, char **w, int n, int i, int again)
{
	if (i + 1 >= n || w[i + 1][0] == '\0') {
		p_err(p, "'%s' : '%s' expects a value.", w[0], w[i]);
		return NULL;
	}
	if (again) {
		p_err(p, "'%s' : '%s' given twice%s.", w[0], w[i],
		    strstr(w[i], "password") != NULL ? " (one password for each "
		    "user: 'password' or 'insecure-password')" : "");
		return NULL;
	}
	return w[i + 1];
}

/* The option at w[i] into u; -1 after an error. */
static int
user_option(struct parser *p, struct user *u, char **w, int n, int i)
{
	const char *value;

	if (strcmp(w[i], "groups") == 0) {
		value = option_value(p, w, n, i, u->group_names != NULL);
		if (value == NULL)
			return -1;
		u->group_names = xstrdup(value);
		return 0;
	}
	if (strcmp(w[i], "password") != 0 &&
	    strcmp(w[i], "insecure-password") != 0) {
		p_err(p, "'%s' only supports 'password', 'insecure-password' "
		    "and 'groups' options.", w[0]);
		return -1;
	}
	if ((value = option_value(p, w, n, i, u->password != NULL)) == NULL)
		return -1;
	u->insecure = strcmp(w[i], "insecure-password") == 0;
	if (!u->insecure && !userlist_hash_usable(value)) {
		p_err(p, "the encrypted password used for user '%s' is not "
		    "supported by crypt(3).", u->name);
		return -1;
	}
	u->password = xstrdup(value);
	return 0;
}

/* The options of a user line, into u; -1 after an error. */
static int
user_options(struct parser *p, struct user *u, char **w, int n)
{
	for (int i = 2; i < n; i += 2)
		if (user_option(p, u, w, n, i) < 0)
			return -1;
	if (u->password == NULL) {
		p_err(p, "user '%s' has no password: wsproxy needs 'password' "
		    "or 'insecure-password'.", u->name);
		return -1;
	}
	return 0;
}

static void
user_release(struct user *u)
{
	free(u->name);
	free(u->password);
	free(u->group_names);
	memset(u, 0, sizeof(*u));
}

static void
parse_user(struct parser *p, struct userlist *ul, char **w, int n)
{
	const char *name = any_name(p, w, n);
	struct user u, *dup;

	if (name == NULL)
		return;
	if ((dup = user_named(ul, name)) != NULL) {
		p_err(p, "duplicated user '%s' in userlist '%s' (first "
		    "declared at %s:%d).", name, ul->name, p->file, dup->line);
		return;
	}
	memset(&u, 0, sizeof(u));
	u.name = xstrdup(name);
	u.line = p->line;
	if (user_options(p, &u, w, n) < 0) {
		user_release(&u);
		return;
	}
	/* Basic credentials end the user name at the first colon */
	if (strchr(name, ':') != NULL)
		p_warn(p, "user '%s' can never authenticate: its name holds a "
		    "':'.", name);
	*(struct user *)grow(&ul->users, &ul->nusers, sizeof(u)) = u;
}

/* ---- group lines ---- */

static int
group_index(const struct userlist *ul, const char *name)
{
	for (int i = 0; i < ul->ngroups; i++)
		if (strcmp(ul->groups[i].name, name) == 0)
			return i;
	return -1;
}

static void
parse_group(struct parser *p, struct userlist *ul, char **w, int n)
{
	const char *name = section_name(p, w, n);
	char *user_names = NULL;
	struct user_group *g;
	int dup;

	if (name == NULL)
		return;
	if ((dup = group_index(ul, name)) >= 0) {
		p_err(p, "duplicated group '%s' in userlist '%s' (first "
		    "declared at %s:%d).", name, ul->name, p->file,
		    ul->groups[dup].line);
		return;
	}
	for (int i = 2; i < n; i += 2) {
		const char *value;
		if (strcmp(w[i], "users") != 0) {
			p_err(p, "'%s' only supports 'users' option.", w[0]);
			free(user_names);
			return;
		}
		value = option_value(p, w, n, i, user_names != NULL);
		if (value == NULL) {
			free(user_names);
			return;
		}
		user_names = xstrdup(value);
	}
	g = grow(&ul->groups, &ul->ngroups, sizeof(*g));
	g->name = xstrdup(name);
	g->line = p->line;
	g->user_names = user_names;
}

void
userlist_parse_line(struct parser *p, char **w, int n)
{
	if (strcmp(w[0], "user") != 0 && strcmp(w[0], "group") != 0) {
		p_err(p, "unknown keyword '%s' in '%s' section", w[0], "users");
		return;
	}
	if (p->ul_cur == NULL)
		return;         /* the section line was in error */
	if (strcmp(w[0], "user") == 0)
		parse_user(p, p->ul_cur, w, n);
	else
		parse_group(p, p->ul_cur, w, n);
}

/* ---- names resolved at the end of the file ---- */

static void
user_join(struct user *u, int group)
{
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == group)
			return;
	*(int *)grow(&u->groups, &u->ngroups, sizeof(int)) = group;
}

/* "groups G1,G2" of each user; empty elements are skipped, as 2.6's
 * strtok() does. */
static void
resolve_user_groups(struct parser *p, struct userlist *ul, struct user *u)
{
	char *save = NULL;

	for (char *g = strtok_r(u->group_names, ",", &save); g != NULL;
	    g = strtok_r(NULL, ",", &save)) {
		int index = group_index(ul, g);
		if (index < 0)
			p_err_at(p, u->line, "userlist '%s': no such group '%s' "
			    "specified in user '%s'", ul->name, g, u->name);
		else
			user_join(u, index);
	}
	free(u->group_names);
	u->group_names = NULL;
}

static void
resolve_group_users(struct parser *p, struct userlist *ul, int group)
{
	struct user_group *g = &ul->groups[group];
	char *save = NULL;

	for (char *name = strtok_r(g->user_names, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		struct user *u = user_named(ul, name);
		if (u == NULL)
			p_err_at(p, g->line, "userlist '%s': no such user '%s' "
			    "specified in group '%s'", ul->name, name, g->name);
		else
			user_join(u, group);
	}
	free(g->user_names);
	g->user_names = NULL;
}

static void
resolve_userlist(struct parser *p, struct userlist *ul)
{
	for (int i = 0; i < ul->nusers; i++)
		if (ul->users[i].group_names != NULL)
			resolve_user_groups(p, ul, &ul->users[i]);
	for (int i = 0; i < ul->ngroups; i++)
		if (ul->groups[i].user_names != NULL)
			resolve_group_users(p, ul, i);
}

/* http_auth_group(L) G...: each G must be a group of L (2.6's
 * acl_find_targets). */
static void
check_acl_groups(struct parser *p, const struct acl_userlist_ref *ref,
    const char *proxy)
{
	if (ref->match != MATCH_AUTH)
		return;         /* -m str...: matched against the user name */
	if (ref->npats == 0)
		p_err_at(p, ref->line, "proxy %s: acl %s %s(): no groups "
		    "specified.", proxy, ref->acl_name, ref->kw);
	for (int i = 0; i < ref->npats; i++)
		if (group_index(ref->ul, ref->pats[i].str) < 0)
			p_err_at(p, ref->line, "proxy %s: acl %s %s(): invalid "
			    "group '%s'.", proxy, ref->acl_name, ref->kw,
			    ref->pats[i].str);
}

static void
resolve_acl_ref(struct parser *p, struct acl_userlist_ref *ref)
{
	const char *proxy = ref->proxy != NULL ? ref->proxy : "";

	if (ref->name[0] == '\0') {
		p_err_at(p, ref->line, "missing userlist name in arg 1 of ACL "
		    "keyword '%s' in proxy '%s'.", ref->kw, proxy);
		return;
	}
	ref->ul = userlist_find(p->cfg->userlists, ref->name);
	if (ref->ul == NULL) {
		p_err_at(p, ref->line, "unable to find userlist '%s' "
		    "referenced in arg 1 of ACL keyword '%s' in proxy '%s'.",
		    ref->name, ref->kw, proxy);
		return;
	}
	if (strcmp(ref->kw, "http_auth_group") == 0)
		check_acl_groups(p, ref, proxy);
}

/* The pending reference index steps after the newest. */
static struct acl_userlist_ref *
pending_ref(int index)
{
	struct acl_userlist_ref *ref = acl_userlist_pending();

	while (index-- > 0)
		ref = ref->next;
	return ref;
}

/* Oldest first, so that the errors come in the file's order (a walk per
 * reference: a file has few http_auth ACLs). */
static void
resolve_acl_refs(struct parser *p)
{
	int n = 0;

	for (struct acl_userlist_ref *ref = acl_userlist_pending(); ref;
	    ref = ref->next)
		n++;
	while (n-- > 0)
		resolve_acl_ref(p, pending_ref(n));
	acl_userlist_done();
}

void
userlist_finish(struct parser *p)
{
	for (struct userlist *ul = p->cfg->userlists; ul; ul = ul->next)
		resolve_userlist(p, ul);
	resolve_acl_refs(p);
}
