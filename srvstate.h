/*
 * srvstate.h - a server's state beyond UP/DOWN, shared by every process
 * in the scoreboard's mapping (scoreboard.h: sb_srv_state): what an
 * administrator set through the runtime socket or the stats page (drain,
 * maintenance, weight, health checks off) and what the health checker
 * last saw. Children read it to balance; the checker writes its part.
 */
#ifndef WSPROXY_SRVSTATE_H
#define WSPROXY_SRVSTATE_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

/* "shutdown sessions server": what a connection's child is sent; it
 * ends its relay and logs the termination state 'K' (relay.h). */
#define SRV_SHUTDOWN_SIGNAL SIGUSR2

/* srv_admin_state bits, HAProxy's values (show servers state) */
enum {
	SRV_ADMF_FMAINT = 0x01,         /* forced maintenance */
	SRV_ADMF_CMAINT = 0x04,         /* "disabled" in the configuration */
	SRV_ADMF_FDRAIN = 0x08,         /* forced drain */
};

/* The last check's result, HAProxy's check_status (CSV check_status). */
enum chk_status {
	CHK_NONE,       /* no check ran (yet), or the server has none */
	CHK_INI,        /* initializing */
	CHK_SOCKERR,
	CHK_L4OK, CHK_L4TOUT, CHK_L4CON,
	CHK_L7OK, CHK_L7TOUT, CHK_L7RSP, CHK_L7STS,
};

struct sb_srvstate {
	atomic_int admin;               /* SRV_ADMF_* */
	atomic_int uweight;             /* the weight now; the config's at start */
	atomic_int check_off;           /* "disable health": checks stopped */
	atomic_int check_status;        /* enum chk_status, the last check's */
	atomic_int check_code;          /* its HTTP status; 0: none */
	atomic_int check_duration;      /* its ms; -1: none */
	atomic_int check_health;        /* the rise/fall counter, HAProxy's */
	atomic_ullong chkfail;          /* failed checks */
	atomic_ullong chkdown;          /* UP to DOWN transitions */
	atomic_llong last_change;       /* ms since the epoch: last UP/DOWN/
	                                 * MAINT/DRAIN change (start: load) */
	atomic_llong downtime_ms;       /* DOWN time before the last UP */
	atomic_int successor;           /* after a reload: this server's
	                                 * index + 1 in the next generation
	                                 * (0: gone), so that "shutdown
	                                 * sessions" finds older children */
};

struct proxy;
struct server;

/*
 * The server's status as the stats show it (CSV "status"): "UP",
 * "DOWN", "MAINT", "DRAIN", "NOLB", "no check", or with the counter
 * while it runs, "UP 1/3", "DOWN 1/2"; written into buf (len bytes).
 */
const char *srv_status_text(const struct server *srv, char *buf,
    size_t len);
/* "L4OK", "L7STS", ... ("" for CHK_NONE) and HAProxy's description,
 * "Layer4 check passed", ... */
const char *chk_status_name(int status);
const char *chk_status_desc(int status);

/* What the runtime socket and the stats page's admin form can ask. */
enum srv_cmd {
	SRV_CMD_READY, SRV_CMD_DRAIN, SRV_CMD_MAINT,
	SRV_CMD_ENABLE_HEALTH, SRV_CMD_DISABLE_HEALTH,
	SRV_CMD_SHUTDOWN_SESSIONS,
};

/* srv has a health check configured ("check" and a port to probe). */
int srv_checked(const struct server *srv);
/* ... and not stopped by "disable health" (nor by maintenance). */
int srv_check_enabled(const struct server *srv);
/* Not in maintenance or drain, weight > 0, UP: may take new connections. */
int srv_usable(const struct server *srv);
/* be's usable servers now, active and backup, as HAProxy counts them. */
void srv_count_usable(const struct proxy *be, int *active, int *backup);
/* A server state message: to be's log targets (and stderr with -d), or
 * to the process's own when be has none. */
void srv_log(const struct proxy *be, int level, const char *msg);
/* The time, as last_change holds it (ms since the epoch). */
long long srv_now_ms(void);

/* Applies cmd to srv of be, logging the change as 2.6 does; 0, or -1. */
int srv_command(const struct proxy *be, const struct server *srv,
    enum srv_cmd cmd);

#endif
