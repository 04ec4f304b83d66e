/*
 * config.h - the configuration, parsed from HAProxy syntax into plain
 * structs by the parent, at start and on each reload, before any fork.
 * The parser is config.c and the cfg*.c files (cfgparse.h).
 */
#ifndef WSPROXY_CONFIG_H
#define WSPROXY_CONFIG_H

#include <sys/types.h>

#include "acl.h"
#include "net.h"
#include "rules.h"
#include "sticktable.h"
#include "userlist.h"

enum proxy_mode { MODE_TCP, MODE_HTTP };

/* option http-keep-alive / http-server-close / httpclose: one setting. */
enum http_conn_mode { CONN_MODE_KAL, CONN_MODE_SCL, CONN_MODE_CLO };

/* balance: the algorithms wsproxy implements (others fall back to rr). */
enum balance_algo {
	BALANCE_ROUNDROBIN, BALANCE_STATIC_RR, BALANCE_LEASTCONN,
	BALANCE_FIRST, BALANCE_SOURCE
};

#define CAP_FE 0x1
#define CAP_BE 0x2

/* Timeouts in milliseconds; 0 means unset (no timeout). */
struct timeouts {
	int connect, client, server, tunnel;
	int http_request, http_keep_alive, queue, check;
	int client_fin, server_fin;     /* half-closed sides; 0: none */
	int tarpit;                     /* 0: timeout connect */
};

struct log_target {
	struct net_addr addr;
	int fd;                 /* 1 or 2 for "log stdout|stderr", else -1 */
	int facility;
	int max_level, min_level;
	int len;
	int raw;                /* "format raw": the message alone */
};

struct server {
	char *name;             /* NULL in a default-server template */
	char *addr_text;
	struct net_addr addr;
	enum port_mode port_mode;
	int port_offset;
	int weight, maxconn, disabled, backup, check;
	int inter, fastinter, downinter;  /* ms; the last two 0 = inter */
	int rise, fall;
	int send_proxy;         /* 0, 1 (send-proxy) or 2 (send-proxy-v2) */
	int check_send_proxy;   /* check-send-proxy: checks send one too */
	int check_port;         /* "port N": checks go there; 0 = server's */
	int line;
	int index;              /* in the scoreboard */
};

struct listener {
	struct net_addr addr;
	int fd;                 /* -1 until bound */
	int accept_proxy;
	int backlog;            /* 0: the frontend's maxconn */
	int taken;              /* the fd came from the previous config */
	int line;
	struct proxy *fe;
};

struct switch_rule {
	char *backend_name;
	struct logfmt *dynamic; /* use_backend %[...]: the name, per request */
	struct proxy *backend;
	struct acl_cond *cond;  /* NULL: always */
	int line;
};

/*
 * A response of our own configured by errorfile, errorloc, errorloc302
 * or errorloc303 (cfgreply.c), ready to send: read and checked at load,
 * so a child needs no file. data holds the head without its empty line
 * (head_len bytes), then "\r\n" and the body; len 0 is the empty file
 * (nothing is sent, the connection closes).
 */
struct reply {
	int status;             /* the code it stands for */
	char *data;
	size_t len, head_len;
	int close_delimited;    /* no Content-Length: the close ends it */
	int http11;             /* HTTP/1.1: "connection: close" may be added */
};

/* monitor fail if|unless COND: a monitor-uri request gets a 503. */
struct monitor_fail {
	struct acl_cond *cond;
	int line;
};

#define OPT_REDISPATCH  0x01
#define OPT_HTTPLOG     0x02
#define OPT_DONTLOGNULL 0x04
#define OPT_FORWARDFOR  0x08
#define OPT_XFF_IFNONE  0x10
#define OPT_ALLBACKUPS  0x20
#define OPT_HTTPCHK     0x40

/*
 * The stats page of a proxy (reference 14.1): any "stats" line turns it
 * on; the defaults are 2.6's. A defaults section's is copied into every
 * proxy after it (cfgstats.c).
 */
struct stats_conf {
	int enabled;
	char *uri;              /* the prefix; NULL: "/haproxy?stats" */
	char *realm;            /* NULL: "HAProxy Statistics" */
	struct user *auth;      /* stats auth: clear passwords; none: open */
	int nauth;
	int refresh;            /* seconds; 0: no refresh header */
	struct acl_cond *admin; /* stats admin if|unless COND; NULL: never */
	int hide_version, show_legends;
	int show_node, show_desc;
	char *node, *desc;      /* show-node NAME, show-desc TEXT; NULL: the
	                           host's name, the proxy's description */
	char **scope;           /* proxies shown; none: all; "." this one */
	int nscope;
	int line;
};

/* capture request/response header NAME len N (frontends). */
enum capture_dir { CAPTURE_REQ, CAPTURE_RESP };
struct capture {
	char *name;
	size_t len;             /* characters kept of the value */
};

struct proxy {
	char *name;
	int cap;                /* CAP_FE and/or CAP_BE */
	const char *kind;       /* "frontend", "backend", "listen", "defaults" */
	int line;
	enum proxy_mode mode;
	enum http_conn_mode conn_mode;
	struct timeouts to;
	unsigned timeouts_set;  /* bit per timeout, to warn on redefinition */
	int maxconn;
	int retries;
	enum balance_algo balance;
	unsigned options;       /* OPT_* */
	char *httpchk_line;     /* option httpchk: "METHOD URI VERSION" */
	int httpchk_status;     /* http-check expect status N; 0: 2xx/3xx */
	char *xff_header;       /* option forwardfor header NAME */
	struct net_addr xff_except;
	int xff_except_len;     /* -1: no except */
	struct log_target *logs;
	int nlogs;
	char *default_backend_name;
	int default_backend_line;
	struct proxy *default_backend;
	struct server *servers;
	int nservers;
	struct server defsrv;   /* default-server: where each server starts */
	struct acl *acls;
	struct stk_def *table;          /* its stick-table, or NULL */
	struct switch_rule *rules;
	int nrules;
	char *monitor_uri;      /* NULL: none */
	struct monitor_fail *monitor_fail;
	int nmonitor_fail;
	struct reply *replies;  /* errorfile / errorloc, one per code */
	int nreplies;
	struct rule_list tcp_conn;      /* tcp-request connection (parent) */
	struct rule_list tcp_session;   /* tcp-request session */
	struct rule_list tcp_content;   /* tcp-request content */
	int inspect_delay;              /* tcp-request inspect-delay, ms */
	struct rule_list http_req;      /* http-request */
	struct rule_list http_resp;     /* http-response */
	struct rule_list redirects;     /* redirect: ACT_REDIRECT rules */
	struct stats_conf stats;
	struct capture *caps[2];        /* by enum capture_dir, in order */
	int ncaps[2];
	int nbinds;
	int index;              /* in the scoreboard */
	struct proxy *next;
};

/* What a runtime socket's client may do (HAProxy's levels). */
enum cli_level { CLI_LEVEL_USER, CLI_LEVEL_OPER, CLI_LEVEL_ADMIN };

/*
 * "stats socket PATH [mode M] [uid U] [gid G] [user U] [group G]
 * [level L]" in global: a unix socket for the runtime commands (cli.c),
 * made by the parent before it drops privileges (clisock.c).
 */
struct stats_socket {
	char *path;
	int mode;               /* -1: as the umask leaves it */
	uid_t uid;              /* -1 cast: unchanged */
	gid_t gid;
	enum cli_level level;
	int line;
	/* the parent's: a reload hands them over (clisock.c) */
	int fd;                 /* -1 until created */
	int dir_fd;             /* its directory, to remove it in a chroot */
};

struct config {
	const char *file;
	int maxconn;
	char *chroot_dir;
	uid_t uid;
	gid_t gid;              /* "user"/"uid" alone: the user's group */
	int chroot_line, uid_line, gid_line;    /* 0: not in the file */
	int daemon;
	int quiet;
	char *pidfile;
	char *log_tag;          /* log-tag; default "wsproxy" */
	int bufsize;            /* tune.bufsize */
	int maxhdr;             /* tune.http.maxhdr */
	struct log_target *logs;
	int nlogs;
	struct proxy *proxies;  /* frontends, backends and listens, in order */
	struct listener *listeners;
	int nlisteners;
	struct userlist *userlists;
	struct stats_socket *stats_sockets;
	int nstats_sockets;
	int stats_timeout;      /* ms; "stats timeout", default 10 s */
	int stats_maxconn;      /* concurrent socket clients; default 10 */
	int tunnel_keepers;     /* tunnel-keeper: processes; 0: off */
};

/*
 * Parses file. Errors and warnings are logged (log_plain) as
 * "FILE:LINE: message"; returns NULL if there was any error, having
 * freed all it built.
 */
struct config *config_load(const char *file);
/* The same, from an open file (closed here): a reload inside a chroot. */
struct config *config_load_fd(int fd, const char *file);

/*
 * Frees everything cfg owns, and closes the listening sockets still
 * open in it (listeners_close() normally has). The log targets' sockets
 * are logtarget.c's, shared by every configuration: they stay.
 */
void config_free(struct config *cfg);

/*
 * Inetd mode serves the connection with the identity and root directory
 * it was started with: logs "FILE:LINE: message" for each chroot, user,
 * uid, group or gid line, and returns how many there were.
 */
int config_check_inetd(const struct config *cfg);

struct proxy *config_find_frontend(const struct config *cfg,
    const char *name);

/* The backend or listen section named by len bytes of name, or NULL (a
 * frontend never is one). */
const struct proxy *config_find_backend(const struct config *cfg,
    const char *name, size_t len);

#endif
