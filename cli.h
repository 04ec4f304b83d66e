/*
 * cli.h - the runtime socket's commands ("stats socket"), served by a
 * child per connection: HAProxy 2.6's command lines, replies and levels
 * (reference §14.5, management.txt).
 */
#ifndef WSPROXY_CLI_H
#define WSPROXY_CLI_H

#include "config.h"

/*
 * The child of a connection accepted on ss: reads command lines (each
 * read and write under cfg->stats_timeout), answers them and exits;
 * never returns.
 */
void cli_serve(const struct config *cfg, const struct stats_socket *ss,
    int fd) __attribute__((noreturn));

#endif
