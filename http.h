/*
 * http.h - HTTP/1.x message heads: parsing requests and responses,
 * walking header values, rewriting heads for forwarding, and the error
 * responses wsproxy generates.
 */
#ifndef WSPROXY_HTTP_H
#define WSPROXY_HTTP_H

#include <stddef.h>

#define HTTP_DEFAULT_MAXHDR 101

/* The length of a string literal, counted by the compiler. */
#define LITERAL_LEN(s) (sizeof(s "") - 1)

struct http_hdr {
	const char *name;
	size_t name_len;
	const char *value;    /* trimmed of surrounding spaces and tabs */
	size_t value_len;
};

enum http_body {
	BODY_NONE,
	BODY_LENGTH,          /* Content-Length bytes */
	BODY_CHUNKED,
	BODY_UNTIL_CLOSE      /* responses only: read until the server closes */
};

/* Tokens found in the Connection header(s). */
#define CONN_CLOSE     0x1
#define CONN_KEEPALIVE 0x2
#define CONN_UPGRADE   0x4

/*
 * A parsed head. Every pointer points into the caller's buffer, which
 * must stay unchanged while the message is in use.
 */
struct http_msg {
	const char *head;     /* the first byte of the head */
	const char *method;   /* requests */
	size_t method_len;
	const char *uri;
	size_t uri_len;
	int status;           /* responses */
	int vmajor, vminor;
	struct http_hdr *hdrs;
	int nhdrs;
	size_t head_len;      /* bytes of the head, empty line included */
	enum http_body body;
	unsigned long long content_length;
	unsigned conn_tokens;     /* CONN_* */
	int upgrade_websocket;    /* Upgrade lists "websocket" */
	const char *line;         /* the first line as rewritten by a rule */
	size_t line_len;          /* (without CRLF); NULL: the original */
};

enum { HTTP_INCOMPLETE = 0, HTTP_INVALID = -1 };

/* Length of the head at the start of buf (CRLFCRLF or LFLF), or 0. */
size_t http_head_end(const char *buf, size_t len);

/*
 * Parse a complete head (len = http_head_end()). hdrs has room for
 * maxhdrs entries. Return 0, or HTTP_INVALID.
 */
int http_parse_request(const char *buf, size_t len, struct http_msg *msg,
    struct http_hdr *hdrs, int maxhdrs);
int http_parse_response(const char *buf, size_t len, struct http_msg *msg,
    struct http_hdr *hdrs, int maxhdrs, int request_was_head);

/* Next header named name (case-insensitive) from *idx on, or NULL. */
const struct http_hdr *http_hdr_find(const struct http_msg *msg,
    const char *name, size_t name_len, int *idx);

/*
 * Iterates over the comma-separated elements of a header value, skipping
 * commas inside double quotes and trimming each element. *pos starts at 0.
 * Returns 1 with the element in elem/elem_len, 0 at the end.
 */
int http_value_next(const char *value, size_t len, size_t *pos,
    const char **elem, size_t *elem_len);

/* The request's path: from the first '/' (after any scheme://authority)
 * up to '?' (excluded). */
void http_req_path(const struct http_msg *msg, const char **path,
    size_t *path_len);

int http_method_is(const struct http_msg *msg, const char *method);

/*
 * The output for a rewritten head: the caller's storage of cap bytes.
 * What does not fit sets overflow (HAProxy too refuses a rewritten head
 * that outgrows its buffer).
 */
struct http_out {
	char *data;
	size_t len, cap;
	int overflow;
};

void http_out_add(struct http_out *out, const char *data, size_t len);
void http_out_str(struct http_out *out, const char *s);
#define http_out_lit(out, s) http_out_add((out), (s), LITERAL_LEN(s))

/* What the request forwarded to a server should carry. */
struct http_fwd_opts {
	int websocket_upgrade;        /* keep Connection's upgrade token */
	const char *xff_name;         /* NULL: no forwardfor header */
	const char *xff_value;
};

/* Writes the head to forward: the client's bytes minus Connection,
 * plus forwardfor, plus Connection: close (or the upgrade tokens). */
void http_build_request(const struct http_msg *req,
    const struct http_fwd_opts *opts, struct http_out *out);

/* Writes the response head for the client with our Connection header. */
void http_build_response(const struct http_msg *resp, int client_close,
    int client_is_http10, struct http_out *out);

/* A 101's head as the server sent it, with the header list as rules
 * left it (Connection and Upgrade included). */
void http_build_upgrade_response(const struct http_msg *resp,
    struct http_out *out);

/* Whether 2.6 has a built-in page for status (deny_status, errorfile). */
int http_error_known(int status);

/* 2.6's reason phrase for status. */
const char *http_reason(int status);

/* The complete error response for status (400, 408, 502, 503, 504...). */
size_t http_error_page(int status, const char **page);

/* The body of that page and its status line ("503 Service Unavailable");
 * 200 is the monitor's ("Service ready."). */
const char *http_error_body(int status, const char **status_line);

#endif
