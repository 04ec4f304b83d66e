/*
 * statcsv.h - the statistics as HAProxy 2.6's CSV (config-reference
 * §14.3): its header line, then a line per frontend, server and backend,
 * every proxy in declaration order. Built from the scoreboard only (no
 * other process is asked), for "show stat" on the runtime socket and
 * for the stats page's ";csv".
 */
#ifndef WSPROXY_STATCSV_H
#define WSPROXY_STATCSV_H

#include "config.h"

/* Where the text goes: returns 0, or -1 to stop (the peer is gone). */
typedef int (*stat_emit)(void *arg, const char *data, size_t len);

/*
 * Writes the CSV of cfg's proxies through emit. fill_addr: the server
 * "addr" column filled (the socket does, the page leaves it empty).
 * Returns 0, or -1 if emit said stop.
 */
int stats_csv(const struct config *cfg, int fill_addr, stat_emit emit,
    void *arg);

/* "show stat IID TYPEMASK SID": the rows of the proxy numbered iid (its
 * "iid" column; -1: all), of the types in mask, and of its server sid
 * (-1: all); the header always. */
#define STATS_TYPE_FE 1
#define STATS_TYPE_BE 2
#define STATS_TYPE_SV 4
int stats_csv_filter(const struct config *cfg, int fill_addr, int iid,
    int mask, int sid, stat_emit emit, void *arg);

#endif
