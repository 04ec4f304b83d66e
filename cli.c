/*
 * cli.c - a runtime socket's connection, in its own child: command
 * lines, as HAProxy 2.6's CLI reads them (management.txt §9.3).
 *
 * One line is read; its commands, separated by ';', run in turn, each
 * answer followed by an empty line. Then the connection closes, unless
 * "prompt" turned on the interactive mode: "> " after each line, until
 * "quit", the end of input or "stats timeout" without a line. Every
 * read and write is bounded by that timeout, so a silent or slow client
 * only keeps its own child.
 *
 * What a command needs is its socket's level: user < operator < admin;
 * above it the answer is "Permission denied".
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "clicmd.h"
#include "log.h"

#define LINE_MAX_LEN 16384      /* HAProxy's CLI takes a bufsize line */
#define MAX_WORDS 64

struct command {
	const char *words[4];   /* what it starts with, NULL-terminated */
	enum cli_level level;
	void (*run)(struct cli_ctx *, char **, int);
	const char *usage;
};

/* The interactive state: set by "prompt", ended by "quit". */
static int interactive, quitting;

static void cmd_help(struct cli_ctx *c, char **w, int n);

static void
cmd_prompt(struct cli_ctx *c, char **w, int n)
{
	(void)c, (void)w, (void)n;
	interactive = !interactive;
}

static void
cmd_quit(struct cli_ctx *c, char **w, int n)
{
	(void)c, (void)w, (void)n;
	quitting = 1;
}

/* 2.6's usage lines, in its "help" order. */
static const struct command commands[] = {
	{ { "help", NULL }, CLI_LEVEL_USER, cmd_help,
	  "help [<command>]                        : list matching or all commands" },
	{ { "prompt", NULL }, CLI_LEVEL_USER, cmd_prompt,
	  "prompt                                  : toggle interactive mode with prompt" },
	{ { "quit", NULL }, CLI_LEVEL_USER, cmd_quit,
	  "quit                                    : disconnect" },
	{ { "clear", "table", NULL }, CLI_LEVEL_OPER, cmd_clear_table,
	  "clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)" },
	{ { "show", "table", NULL }, CLI_LEVEL_USER, cmd_show_table,
	  "show table <table> [<filter>]*          : report table usage stats or dump this table's contents" },
	{ { "disable", "health", NULL }, CLI_LEVEL_ADMIN, cmd_server_state,
	  "disable health <bk>/<srv>               : disable health checks" },
	{ { "disable", "server", NULL }, CLI_LEVEL_ADMIN, cmd_server_state,
	  "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)" },
	{ { "enable", "health", NULL }, CLI_LEVEL_ADMIN, cmd_server_state,
	  "enable health <bk>/<srv>                : enable health checks" },
	{ { "enable", "server", NULL }, CLI_LEVEL_ADMIN, cmd_server_state,
	  "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)" },
	{ { "get", "weight", NULL }, CLI_LEVEL_USER, cmd_get_weight,
	  "get weight <bk>/<srv>                   : report a server's current weight" },
	{ { "set", "server", NULL }, CLI_LEVEL_ADMIN, cmd_set_server,
	  "set server <bk>/<srv> [opts]            : change a server's state or weight" },
	{ { "set", "weight", NULL }, CLI_LEVEL_ADMIN, cmd_set_weight,
	  "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)" },
	{ { "show", "servers", "state", NULL }, CLI_LEVEL_USER,
	  cmd_show_servers_state,
	  "show servers state [<backend>]          : dump volatile server information (all or for a single backend)" },
	{ { "shutdown", "sessions", "server", NULL }, CLI_LEVEL_ADMIN,
	  cmd_server_state,
	  "shutdown sessions server <bk>/<srv>     : kill sessions on a server" },
	{ { "show", "info", NULL }, CLI_LEVEL_USER, cmd_show_info,
	  "show info                               : report information about the running process" },
	{ { "show", "stat", NULL }, CLI_LEVEL_USER, cmd_show_stat,
	  "show stat [<iid> <type> <sid>]          : report counters for each proxy and server" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- the reply ---- */

void
cli_write(struct cli_ctx *c, const char *data, size_t len)
{
	if (c->len + len > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *grown;
		while (cap < c->len + len)
			cap *= 2;
		if ((grown = realloc(c->buf, cap)) == NULL)
			fatal("cli: realloc");
		c->buf = grown;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
}

void
cli_printf(struct cli_ctx *c, const char *fmt, ...)
{
	char small[1024], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		cli_write(c, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("cli: vasprintf");
	cli_write(c, big, (size_t)n);
	free(big);
}

/* The socket's SO_SNDTIMEO bounds each write: a stuck peer ends us. */
void
cli_flush(struct cli_ctx *c)
{
	size_t done = 0;

	while (done < c->len) {
		ssize_t n = send(c->fd, c->buf + done, c->len - done,
		    MSG_NOSIGNAL);
		if (n <= 0)
			_exit(0);
		done += (size_t)n;
	}
	c->len = 0;
}

/* ---- help, and unknown commands ---- */

static int
starts_with(const struct command *cmd, char **w, int n)
{
	int i;

	for (i = 0; cmd->words[i] != NULL; i++)
		if (i >= n || strcmp(cmd->words[i], w[i]) != 0)
			return 0;
	return i;
}

static void
list_usage(struct cli_ctx *c, const char *first)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *cmd = &commands[i];
		if (cmd->level > c->level)
			continue;
		if (first != NULL && strcmp(cmd->words[0], first) != 0)
			continue;
		cli_printf(c, "  %s\n", cmd->usage);
	}
}

static void
cmd_help(struct cli_ctx *c, char **w, int n)
{
	(void)w, (void)n;
	cli_printf(c, "The following commands are valid at this level:\n");
	list_usage(c, NULL);
}

/* 2.6 lists the closest commands; here those of the same first word,
 * else every one. */
static void
unknown_command(struct cli_ctx *c, char **w)
{
	const char *first = w[0];
	int any = 0;

	for (size_t i = 0; i < NCOMMANDS; i++)
		any |= commands[i].level <= c->level &&
		    strcmp(commands[i].words[0], first) == 0;
	cli_printf(c, "Unknown command, but maybe one of the following ones "
	    "is a better match:\n");
	list_usage(c, any ? first : NULL);
}

/* ---- the command line ---- */

/* Words of one command, in place: blanks separate, '\' escapes. */
static int
split_command(char *cmd, char **w)
{
	int n = 0;
	char *out = cmd;

	while (*cmd != '\0' && n < MAX_WORDS - 1) {
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (*cmd == '\0')
			break;
		w[n++] = out;
		while (*cmd != '\0' && *cmd != ' ' && *cmd != '\t') {
			if (*cmd == '\\' && cmd[1] != '\0')
				cmd++;
			*out++ = *cmd++;
		}
		if (*cmd != '\0')
			cmd++;
		*out++ = '\0';
	}
	w[n] = NULL;
	return n;
}

static void
run_command(struct cli_ctx *c, char *text)
{
	char *w[MAX_WORDS];
	int n = split_command(text, w);
	const struct command *best = NULL;
	int best_len = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int len = starts_with(&commands[i], w, n);
		if (len > best_len) {
			best = &commands[i];
			best_len = len;
		}
	}
	if (best == NULL)
		unknown_command(c, w);
	else if (best->level > c->level)
		cli_printf(c, "Permission denied\n");
	else
		best->run(c, w, n);
	/* every answer ends with an empty line */
	cli_write(c, "\n", 1);
	cli_flush(c);
}

/* The commands of a line, separated by ';' ("\;" is one). */
static void
run_line(struct cli_ctx *c, char *line)
{
	char *start = line;

	for (char *p = line; ; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != ';' && *p != '\0')
			continue;
		{
			int end = *p == '\0';
			*p = '\0';
			run_command(c, start);
			if (end || quitting)
				break;
			start = p + 1;
		}
	}
}

/* A line (without its end) into line; 0 at the end of input, or -1 on
 * a timeout or an error. */
static int
read_line(int fd, char *line, size_t max, char *pending, size_t *npending)
{
	for (;;) {
		char *nl = memchr(pending, '\n', *npending);
		ssize_t n;
		if (nl != NULL || *npending == max) {
			size_t len = nl ? (size_t)(nl - pending) : max - 1;
			memcpy(line, pending, len);
			line[len] = '\0';
			if (len > 0 && line[len - 1] == '\r')
				line[len - 1] = '\0';
			len += nl != NULL;
			memmove(pending, pending + len, *npending - len);
			*npending -= len;
			return 1;
		}
		n = recv(fd, pending + *npending, max - *npending, 0);
		if (n < 0)
			return -1;
		if (n == 0) {
			if (*npending == 0)
				return 0;
			/* a last line without its newline still counts */
			memcpy(line, pending, *npending);
			line[*npending] = '\0';
			*npending = 0;
			return 1;
		}
		*npending += (size_t)n;
	}
}

static void
set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		log_warn("stats socket: timeouts");
}

void
cli_serve(const struct config *cfg, const struct stats_socket *ss, int fd)
{
	struct cli_ctx c = { cfg, ss->level, fd, NULL, 0, 0 };
	char *line = malloc(LINE_MAX_LEN), *pending = malloc(LINE_MAX_LEN);
	size_t npending = 0;

	if (line == NULL || pending == NULL)
		fatal("cli: malloc");
	set_timeouts(fd, cfg->stats_timeout);
	while (!quitting && read_line(fd, line, LINE_MAX_LEN, pending,
	    &npending) > 0) {
		run_line(&c, line);
		if (!interactive)
			break;
		if (!quitting) {
			cli_write(&c, "> ", 2);
			cli_flush(&c);
		}
	}
	_exit(0);
}
