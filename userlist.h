/*
 * userlist.h - "userlist" sections (users and their passwords, clear
 * or crypt(3) hashes, and groups of users), and checking a request's
 * Basic credentials against one: the http_auth(L) and
 * http_auth_group(L) ACLs, on which "http-request auth" conditions rest.
 * cfguserlist.c reads the sections; userlist.c checks credentials.
 */
#ifndef WSPROXY_USERLIST_H
#define WSPROXY_USERLIST_H

#include "http.h"

struct user {
	char *name;
	char *password;         /* clear text, or a crypt(3) hash */
	int insecure;           /* insecure-password: compared as is */
	int line;
	char *group_names;      /* "groups G1,G2" until resolved, or NULL */
	int *groups;            /* indexes in the userlist's groups */
	int ngroups;
};

struct user_group {
	char *name;
	int line;
	char *user_names;       /* "users U1,U2" until resolved, or NULL */
};

struct userlist {
	char *name;
	int line;
	struct user *users;
	int nusers;
	struct user_group *groups;
	int ngroups;
	struct userlist *next;
};

/*
 * 1 and *user set when req's first Authorization header holds "Basic"
 * credentials (strict base64 of "name:password") of a user of ul with
 * its password; else 0. ul NULL never authenticates.
 */
int userlist_authenticate(const struct userlist *ul,
    const struct http_msg *req, const struct user **user);

/* userlist_authenticate() without the user. */
int userlist_check(const struct userlist *ul, const struct http_msg *req);

/* 1 if user belongs to ul's group named group, else 0. */
int userlist_in_group(const struct userlist *ul, const struct user *user,
    const char *group);

/* 1 if crypt(3) here can verify hash (so that some password matches it):
 * a hash it cannot is refused when the file is read. */
int userlist_hash_usable(const char *hash);

struct userlist *userlist_find(struct userlist *list, const char *name);
void userlist_free_all(struct userlist *list);

#endif
