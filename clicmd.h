/*
 * clicmd.h - between cli.c (the connection, the command line, levels)
 * and clicmd.c (what each command does and answers). Nothing else
 * includes it; cli.h is the interface.
 */
#ifndef WSPROXY_CLICMD_H
#define WSPROXY_CLICMD_H

#include <stddef.h>

#include "config.h"

struct cli_ctx {
	const struct config *cfg;
	enum cli_level level;
	int fd;
	char *buf;              /* the reply so far, not yet written */
	size_t len, cap;
};

/* The reply: buffered, written by cli_flush (a peer that is gone or too
 * slow ends the child). */
void cli_write(struct cli_ctx *c, const char *data, size_t len);
void cli_printf(struct cli_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_flush(struct cli_ctx *c);

/* The commands: w[0..n-1] is the whole command ("show", "info", ...). */
void cmd_show_info(struct cli_ctx *c, char **w, int n);
void cmd_show_stat(struct cli_ctx *c, char **w, int n);
void cmd_show_servers_state(struct cli_ctx *c, char **w, int n);
void cmd_show_table(struct cli_ctx *c, char **w, int n);
void cmd_clear_table(struct cli_ctx *c, char **w, int n);
void cmd_server_state(struct cli_ctx *c, char **w, int n);
void cmd_set_server(struct cli_ctx *c, char **w, int n);
void cmd_set_weight(struct cli_ctx *c, char **w, int n);
void cmd_get_weight(struct cli_ctx *c, char **w, int n);

#endif
