/*
 * cfgparse.h - what the configuration parser's files share, and nothing
 * else includes: the parser's state, its diagnostics and allocation
 * helpers (cfgwords.c), and the entry points of each keyword family
 * (cfgglobal.c, cfgproxy.c, cfgoption.c, cfgserver.c, cfgreply.c,
 * cfgrules.c, cfgredirect.c, cfgtcprules.c, cfguserlist.c, cfgstick.c).
 * The public
 * interface is config.h.
 */
#ifndef WSPROXY_CFGPARSE_H
#define WSPROXY_CFGPARSE_H

#include <stddef.h>

#include "config.h"

#define MAX_WORDS 64

enum section {
	SEC_NONE, SEC_GLOBAL, SEC_DEFAULTS, SEC_PROXY, SEC_USERLIST
};

/*
 * What wsproxy does with a keyword it knows; every keyword table says it
 * for each entry, and wsproxy.conf.5 (UNSUPPORTED KEYWORDS) lists the
 * last three, which test/keywords.bats checks against these tables.
 */
enum kw_support {
	KW_DONE,        /* implemented */
	KW_WARN,        /* no effect here, and none on what is let through
	                   or on what the backend receives: a warning */
	KW_REFUSE,      /* denies, limits, authenticates, redirects or
	                   rewrites: ignoring it would be unsafe, an error */
	KW_TLS,         /* TLS: an error, wsproxy speaks none */
};

struct named_defaults {
	char *name;
	struct proxy px;
	struct named_defaults *next;
};

struct parser {
	struct config *cfg;
	const char *file;
	int line;
	int errors;
	enum section sec;
	struct proxy defaults;          /* the most recent defaults section */
	struct named_defaults *named;
	struct proxy *cur;              /* section being read */
	struct userlist *ul_cur;        /* userlist section being read */
	struct proxy **tail;
	int uid_set, gid_set;
	gid_t user_gid;                 /* primary group of "user"/"uid" */
	int user_gid_known;
};

/* cfgwords.c: diagnostics, "FILE:LINE: message" */
void p_err(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void p_warn(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void p_err_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void p_warn_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The diagnostic a known keyword without KW_DONE gets; what names it
 * ("'option tcpka'", "'server be/s1' : 'redir'"). */
void p_unsupported(struct parser *p, enum kw_support support,
    const char *what);

/* cfgwords.c: allocation (out of memory is fatal) */
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *strdup_or_null(const char *s);
size_t grow_capacity(size_t n);
/* Grows *array_ptr by one zeroed element of size bytes; returns it. */
void *grow(void *array_ptr, int *count, size_t size);

/* cfgwords.c: words and values */
struct wordbuf {
	char data[16384];
	size_t len;
	int overflow;
};
int split_words(struct parser *p, const char *line, struct wordbuf *wb,
    char **words);
int parse_time(struct parser *p, const char *kw, const char *s, int *ms);
int parse_int(struct parser *p, const char *kw, const char *s, long min,
    long max, int *out);
int need_args(struct parser *p, char **w, int n, int count,
    const char *what);
int parse_log_target(struct parser *p, char **w, int n,
    struct log_target *t);
int log_target_equal(const struct log_target *a,
    const struct log_target *b);

/* cfgglobal.c */
void global_parse_line(struct parser *p, char **w, int n);
void global_finish(struct parser *p);
int global_tables_check(char *err, size_t errlen);

/* cfgstats.c: "stats" lines of proxies and defaults */
int stats_parse(struct parser *p, struct proxy *px, char **w, int n);
void stats_copy_settings(struct stats_conf *to, const struct stats_conf *from);
void stats_free_settings(struct stats_conf *st);
int stats_tables_check(char *err, size_t errlen);

/* cfgproxy.c */
void proxy_parse_line(struct parser *p, char **w, int n);
int proxy_check_cap(struct parser *p, struct proxy *px, const char *kw,
    int cap);
const char *proxy_cap_name(int cap);
/* "ADDR:PORT[,ADDR:PORT...]": listeners of p->cur, the first index and
 * how many */
int proxy_parse_bind_list(struct parser *p, const char *list, int *first,
    int *count);
int proxy_tables_check(char *err, size_t errlen);

/* cfgoption.c: "option NAME ..." and "no option NAME" (w[0] "option") */
int option_parse(struct parser *p, struct proxy *px, char **w, int n,
    int negate);
int option_tables_check(char *err, size_t errlen);

/* cfgreply.c: errorfile, errorloc, errorloc302, errorloc303,
 * monitor-uri and monitor lines; a proxy's copy of a defaults' replies
 * and monitor-uri, and freeing them. */
int reply_parse(struct parser *p, struct proxy *px, char **w, int n);
void reply_copy_settings(struct proxy *to, const struct proxy *from);
void reply_free_settings(struct proxy *px);
/* An errorfile as it will be sent; a payload file's bytes. */
int reply_load_file(struct parser *p, const char *kw, const char *path,
    struct reply *r);
char *reply_read_payload(struct parser *p, const char *kw, const char *path,
    size_t *len);

/* cfgrules.c: "http-request" and "http-response" lines (w[0] is the
 * keyword); the checks run once the whole file is read. */
int rules_parse_http(struct parser *p, struct proxy *px, char **w, int n);
int rules_check_proxy(struct parser *p, const struct proxy *px);
int rules_tables_check(char *err, size_t errlen);

/* cfgredirect.c: "redirect" lines into px->redirects, and what is
 * checked of them once the file is read. */
int redirect_rule_parse(struct parser *p, struct proxy *px, char **w,
    int n);
void redirect_check(struct parser *p, const struct proxy *px);

/* cfgtcprules.c: "tcp-request" lines; what only the whole proxy tells
 * (its mode) is checked once every line is read. */
int tcprules_parse(struct parser *p, struct proxy *px, char **w, int n);
void tcprules_check(struct parser *p, const struct proxy *px);

/* cfgstick.c: "stick-table" lines; the track-sc0..2, sc-inc-gpc0/1 and
 * sc-set-gpt0 actions of tcp-request and http-request (w[i] is the
 * action: stick_action_is() says whether it is one of them; where is
 * "tcp-request connection" or "session" when only the connection is
 * known there, else NULL; returns the next word, or -1 with err set);
 * the tables they and the fetches name, checked at the end of the file. */
int stick_table_parse(struct parser *p, struct proxy *px, char **w, int n);
void stick_table_free(struct stk_def *d);
int stick_action_is(const char *word);
int stick_action_parse(struct rule *r, char **w, int n, int i,
    const char *where, char *err, size_t errlen);
void stick_finish(struct parser *p);
int stick_tables_check(char *err, size_t errlen);

/* cfgserver.c: "server" and "default-server" lines */
void server_init_defaults(struct server *srv);
int server_parse(struct parser *p, struct proxy *px, char **w, int n);
int server_parse_defaults(struct parser *p, struct proxy *px, char **w,
    int n);
int server_tables_check(char *err, size_t errlen);

/* cfguserlist.c: "userlist NAME" sections and their user and group
 * lines; at the end of the file, the user and group names they give
 * each other, and the userlists http_auth*(L) ACLs name. */
void userlist_section_start(struct parser *p, char **w, int n);
void userlist_parse_line(struct parser *p, char **w, int n);
void userlist_finish(struct parser *p);

#endif
