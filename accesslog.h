/*
 * accesslog.h - the traffic log lines: HAProxy's httplog format (one line
 * per request, or per WebSocket when its tunnel ends) and its tcplog
 * format (one line per connection) for proxies without "option httplog".
 */
#ifndef WSPROXY_ACCESSLOG_H
#define WSPROXY_ACCESSLOG_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "capture.h"
#include "scoreboard.h"

struct access_record {
	const struct sockaddr_storage *src;
	struct timeval date;        /* %tr: the request's first byte */
	const char *frontend;
	const char *backend;        /* NULL: none chosen (the frontend's) */
	const char *server;         /* NULL: <NOSRV> */
	int t_request;              /* TR: first byte -> end of head */
	int t_queue;                /* Tw */
	int t_connect;              /* Tc: all attempts */
	int t_response;             /* Tr: connected -> response head */
	int t_total;                /* Ta (httplog), Tt (tcplog) */
	int status;                 /* -1: nothing was sent */
	unsigned long long bytes;   /* sent to the client */
	char term[2];               /* who ended it, and at which stage */
	struct sb_counts counts;
	int retries;
	int redispatched;
	const struct captured *hr;  /* %hr, %hs: NULL or n 0, nothing */
	const struct captured *hs;
	const char *request_line;   /* NULL: <BADREQ> */
	size_t request_line_len;
};

size_t accesslog_http(const struct access_record *r, char *buf, size_t len);
size_t accesslog_tcp(const struct access_record *r, char *buf, size_t len);
/* The error format: only src, date and frontend of r are used. */
size_t accesslog_error(const struct access_record *r, const char *bind,
    const char *msg, char *buf, size_t len);

#endif
