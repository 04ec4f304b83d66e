/*
 * acl.h - HAProxy ACLs: fetches, patterns, match methods, and the
 * conditions of use_backend rules, as acl.c parses them (match.h
 * evaluates them).
 */
#ifndef WSPROXY_ACL_H
#define WSPROXY_ACL_H

#include <regex.h>
#include <stddef.h>
#include <sys/socket.h>

#include "http.h"
#include "net.h"
#include "track.h"

enum acl_fetch {
	FETCH_HDR, FETCH_HDR_CNT, FETCH_PATH, FETCH_URL, FETCH_METHOD,
	FETCH_SRC, FETCH_DST_PORT, FETCH_REQ_VER, FETCH_BOOL_TRUE,
	FETCH_BOOL_FALSE, FETCH_HTTP, FETCH_CONTENT, FETCH_AUTH,
	FETCH_AUTH_GROUP,
	FETCH_STATUS, FETCH_RES_HDR,    /* http-response conditions */
	FETCH_STK               /* sc*_, sc_*(N), src_*, table_* (track.h) */
};

enum acl_match {
	MATCH_STR, MATCH_BEG, MATCH_END, MATCH_SUB, MATCH_DOM, MATCH_DIR,
	MATCH_FOUND, MATCH_LEN, MATCH_INT, MATCH_IP, MATCH_BOOL, MATCH_METH,
	MATCH_REG,
	MATCH_AUTH              /* http_auth_group: the user is in a group */
};

struct acl_pattern {
	char *str;              /* string methods; dom/dir: delimiters trimmed */
	regex_t *re;            /* MATCH_REG, compiled as -i was then */
	size_t len;
	int meth;               /* method code (MATCH_METH), 0 = other */
	long long lo, hi;       /* integer range (MATCH_INT, MATCH_LEN) */
	struct net_addr net;    /* MATCH_IP */
	int prefix_len;
};

struct userlist;

/*
 * The userlist an http_auth(L) or http_auth_group(L) line names. A
 * userlist may be declared after the proxies that use it, so the name
 * is resolved once the whole file is read; until then the reference is
 * pending (acl_userlist_claim(), acl_userlist_pending()). It is the
 * line's own allocation, so that it stays put while the proxy's arrays
 * of lines grow.
 */
struct acl_userlist_ref {
	char *name;                     /* L as written */
	const struct userlist *ul;      /* NULL until resolved: no match */
	const char *kw;                 /* the fetch keyword */
	char *acl_name;                 /* "" for an anonymous ACL */
	const struct acl_pattern *pats; /* the line's group names */
	int npats;
	enum acl_match match;
	int line;                       /* 0 until claimed */
	char *proxy;                    /* given with the line */
	struct acl_userlist_ref *next;  /* the pending list */
	struct acl_userlist_ref **prevp;        /* NULL: not pending */
};

/* One "acl" line: a fetch, how to match, and patterns that are ORed. */
struct acl_expr {
	enum acl_fetch fetch;
	const char *kw;         /* the fetch's keyword, for diagnostics */
	char *hdr_name;         /* hdr*(NAME); NULL: every header */
	size_t hdr_name_len;
	int hdr_occ;            /* hdr(NAME,OCC); 0: every element */
	enum acl_match match;
	int icase;
	struct acl_pattern *pats;
	int npats;
	struct acl_userlist_ref *auth;  /* http_auth*(L), else NULL */
	struct stk_fetch *stk;          /* FETCH_STK, else NULL */
};

/* A named ACL: its lines are ORed. */
struct acl {
	char *name;             /* NULL for an anonymous { ... } ACL */
	struct acl_expr *exprs;
	int nexprs;
	struct acl *next;
};

struct acl_term {
	struct acl *acl;
	int negate;
};

/* Terms written side by side are ANDed; groups separated by || are ORed. */
struct acl_group {
	struct acl_term *terms;
	int nterms;
};

struct acl_cond {
	int unless;
	struct acl_group *groups;
	int ngroups;
};

/* What a condition is evaluated against. */
struct acl_input {
	const struct http_msg *req;          /* NULL in tcp mode */
	const struct sockaddr_storage *src;  /* AF_UNSPEC if unknown */
	int dst_port;
	/* http-response rules: the response; hdr() then reads it, and req
	 * is NULL (request fetches never match there, as in 2.6). */
	const struct http_msg *resp;
	/* what the connection or request tracks; NULL: nothing (sc*
	 * fetches have no value, src_* still look the address up) */
	const struct track_ctx *trk;
};

/*
 * Parses the words after "acl NAME" into a new line of the ACL named name
 * in *list (creating it). Returns 0, or -1 with err set. warn is set (and
 * 0 returned) for a valid line that deserves a warning.
 */
int acl_parse(struct acl **list, const char *name, char **words, int nwords,
    char *err, size_t errlen, char *warn, size_t warnlen);

/*
 * Parses "if|unless COND" words. ACL names are looked up in list, then
 * among the predefined ACLs. Returns NULL with err set on error.
 */
struct acl_cond *acl_cond_parse(struct acl **list, char **words, int nwords,
    char *err, size_t errlen);

/* Frees a proxy's list of named ACLs, their lines and patterns. */
void acl_free_list(struct acl *list);
/* Frees a condition and the anonymous { ... } ACLs it holds; NULL is
 * fine. Named ACLs stay: they belong to a list or are predefined. */
void acl_cond_free(struct acl_cond *cond);

/*
 * The userlist references (http_auth*(L)) parsed since the last call
 * were read on line of proxy: the configuration parser calls this after
 * each line, so that whatever parsed a condition on it, its errors name
 * that line.
 */
void acl_userlist_claim(int line, const char *proxy);

/* The pending references, newest first (->next), until
 * acl_userlist_done() empties the list once they are resolved. */
struct acl_userlist_ref *acl_userlist_pending(void);
void acl_userlist_done(void);

/* 0 if acl.c's keyword tables are sorted (kwtable.h), else -1 and err. */
int acl_tables_check(char *err, size_t errlen);

#endif
