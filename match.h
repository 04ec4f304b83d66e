/*
 * match.h - evaluating the ACL conditions that acl.c parsed.
 */
#ifndef WSPROXY_MATCH_H
#define WSPROXY_MATCH_H

#include "acl.h"

/* 1 if the condition holds for in (if/unless applied), else 0. */
int acl_cond_eval(const struct acl_cond *cond, const struct acl_input *in);

/* Whether the condition needs an HTTP request (never true in tcp mode). */
int acl_cond_needs_http(const struct acl_cond *cond);

/* The method's code for METH patterns (GET = 1 ... CONNECT = 8), or 0. */
int acl_method_code(const char *s, size_t len);

/* dom/dir patterns: does c delimit a component for match m? */
int acl_is_dom_delim(char c, enum acl_match m);

#endif
