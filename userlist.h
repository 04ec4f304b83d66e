/*
 * userlist.h - "userlist" sections (users and their passwords, clear
 * or crypt(3) hashes), and checking a request's Basic credentials
 * against one: the http_auth(L) ACL and "http-request auth".
 */
#ifndef WSPROXY_USERLIST_H
#define WSPROXY_USERLIST_H

#include "http.h"

struct user {
	char *name;
	char *password;         /* clear text, or a crypt(3) hash */
	int insecure;           /* insecure-password: compared as is */
};

struct userlist {
	char *name;
	int line;
	struct user *users;
	int nusers;
	struct userlist *next;
};

/* 1 when req's Authorization header holds "Basic" credentials of a
 * user of ul with its password, else 0. */
int userlist_check(const struct userlist *ul, const struct http_msg *req);

struct userlist *userlist_find(struct userlist *list, const char *name);
void userlist_free_all(struct userlist *list);

#endif
