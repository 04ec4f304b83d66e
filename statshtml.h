/*
 * statshtml.h - the stats page's HTML (reference 14.2), as 2.6 lays it
 * out: the process block, the legend, a table per proxy with a row per
 * frontend, server and backend. Built from the scoreboard only.
 */
#ifndef WSPROXY_STATSHTML_H
#define WSPROXY_STATSHTML_H

#include "config.h"
#include "strbuf.h"

struct stats_view {
	const struct config *cfg;
	const struct proxy *px;         /* whose page it is */
	int norefresh;                  /* ";norefresh" */
	int up_only;                    /* ";up": DOWN servers hidden */
	int admin;                      /* "stats admin" holds: the forms */
	char st[16];                    /* ";st=": the last action's result */
};

void stats_html(const struct stats_view *v, struct strbuf *out);

/* "4d2h", "1h05m", "3m12s", "7s": 2.6's short durations. */
void stats_human_time(struct strbuf *out, long long seconds);

#endif
