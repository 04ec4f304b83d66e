/*
 * cfgreply.c - the lines that make wsproxy answer by itself: errorfile,
 * errorloc, errorloc302, errorloc303 (a response replacing a built-in
 * one) and monitor-uri, monitor fail (the health-check URI). Files are
 * read and checked here, at load: the response is kept in the
 * configuration, ready to send, so a child (chrooted or not) opens
 * nothing. Which reply is sent is reply.c's.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cfgparse.h"
#include "http.h"
#include "kwtable.h"

/* HAProxy 2.6's largest error file (its buffer size). */
#define REPLY_FILE_MAX 16384
/* Header lines of an error file: a file, not traffic. */
#define REPLY_MAX_HDRS 128

/* The codes 2.6 has a built-in message for (http.c http_err_codes). */
static const int reply_codes[] = { 200, 400, 401, 403, 404, 405, 407, 408,
    410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504 };

static int
parse_code(struct parser *p, const char *kw, const char *word, int *code)
{
	char *end;
	long v = strtol(word, &end, 10);

	for (size_t i = 0; *end == '\0' && i < NELEM(reply_codes); i++) {
		if (reply_codes[i] == v) {
			*code = (int)v;
			return 0;
		}
	}
	p_err(p, "%s : status code '%s' not handled.", kw, word);
	return -1;
}

/* The proxy's reply for code, replaced by a later line. */
static struct reply *
reply_slot(struct proxy *px, int code)
{
	struct reply *r;

	for (int i = 0; i < px->nreplies; i++) {
		if (px->replies[i].status == code) {
			free(px->replies[i].data);
			memset(&px->replies[i], 0, sizeof(px->replies[i]));
			px->replies[i].status = code;
			return &px->replies[i];
		}
	}
	r = grow(&px->replies, &px->nreplies, sizeof(*r));
	r->status = code;
	return r;
}

/* Reads at most cap bytes of the file; -1: cannot. Through stdio, as
 * every file the parser reads (the fuzz harness wraps fopen). */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "re");
	size_t len;
	int failed;

	if (fp == NULL)
		return -1;
	len = fread(buf, 1, cap, fp);
	failed = ferror(fp);
	fclose(fp);
	return failed ? -1 : (ssize_t)len;
}

/* Does the text start with a status line "HTTP/1.x NNN"? */
static int
status_line_ok(const char *buf, size_t len)
{
	return len >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 &&
	    (buf[7] == '0' || buf[7] == '1') && buf[8] == ' ' &&
	    isdigit((unsigned char)buf[9]) && isdigit((unsigned char)buf[10]) &&
	    isdigit((unsigned char)buf[11]);
}

/*
 * The file as it will be sent (HAProxy 2.6 parses it into a message and
 * writes that): CRLF line ends, header names in lower case, its
 * Connection header dropped, the body as is.
 */
static int
build_file_reply(struct parser *p, const char *path, const char *buf,
    size_t len, struct reply *r)
{
	struct http_hdr hdrs[REPLY_MAX_HDRS];
	struct http_msg msg;
	size_t head_end = http_head_end(buf, len), body_len, n, at;
	struct http_out out;
	const char *lf;

	if (head_end == 0 || http_parse_response(buf, head_end, &msg, hdrs,
	    REPLY_MAX_HDRS, 0) < 0) {
		p_err(p, "errorfile : '%s': unable to parse headers (error "
		    "offset: %d)", path, head_end == 0 &&
		    status_line_ok(buf, len) ? -2 : 0);
		return -1;
	}
	if (msg.body == BODY_CHUNKED || (msg.body == BODY_UNTIL_CLOSE &&
	    http_hdr_find(&msg, "transfer-encoding", 17, &(int){ 0 }))) {
		p_err(p, "errorfile : '%s': a Transfer-Encoding is not "
		    "supported by wsproxy; give a Content-Length or none.",
		    path);
		return -1;
	}
	body_len = len - head_end;
	if (http_hdr_find(&msg, "content-length", 14, &(int){ 0 }) != NULL &&
	    msg.content_length != body_len) {
		p_err(p, "errorfile : '%s': payload size does not match the "
		    "announced content-length (%zu != %llu)", path, body_len,
		    msg.content_length);
		return -1;
	}
	/* bare LFs become CRLFs: at most twice the head */
	out = (struct http_out){ xcalloc(1, 2 * head_end + body_len), 0,
	    2 * head_end + body_len, 0 };
	lf = memchr(buf, '\n', head_end);
	n = (size_t)(lf - buf);
	http_out_add(&out, buf, n > 0 && buf[n - 1] == '\r' ? n - 1 : n);
	http_out_lit(&out, "\r\n");
	for (int i = 0; i < msg.nhdrs; i++) {
		const struct http_hdr *h = &msg.hdrs[i];
		if (h->name_len == 10 && strncasecmp(h->name, "connection",
		    10) == 0)
			continue;
		at = out.len;
		http_out_add(&out, h->name, h->name_len);
		for (size_t j = 0; !out.overflow && j < h->name_len; j++)
			out.data[at + j] = (char)tolower((unsigned char)
			    out.data[at + j]);
		http_out_lit(&out, ": ");
		http_out_add(&out, h->value, h->value_len);
		http_out_lit(&out, "\r\n");
	}
	r->head_len = out.len;
	http_out_lit(&out, "\r\n");
	http_out_add(&out, buf + head_end, body_len);
	r->data = out.data;
	r->len = out.len;
	r->close_delimited = msg.body == BODY_UNTIL_CLOSE;
	r->http11 = msg.vminor == 1;
	return 0;
}

/*
 * Reads an errorfile into r, as it will be sent (an empty file: an empty
 * reply, which sends nothing). kw names the keyword in messages.
 */
int
reply_load_file(struct parser *p, const char *kw, const char *path,
    struct reply *r)
{
	char *buf = xcalloc(1, REPLY_FILE_MAX + 1);
	ssize_t len = read_file(path, buf, REPLY_FILE_MAX + 1);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (len < 0)
		p_err(p, "%s : error opening file '%s'.", kw, path);
	else if (len > REPLY_FILE_MAX)
		p_err(p, "custom error message file '%s' larger than %d "
		    "bytes. Truncating.", path, REPLY_FILE_MAX);
	else if (len == 0 || build_file_reply(p, path, buf, (size_t)len,
	    r) == 0)
		rc = 0;
	free(buf);
	return rc;
}

/* A payload file ("file F" of http-request return): its bytes as they
 * are, at most REPLY_FILE_MAX; NULL after an error. */
char *
reply_read_payload(struct parser *p, const char *kw, const char *path,
    size_t *len)
{
	char *buf = xcalloc(1, REPLY_FILE_MAX + 1);
	ssize_t n = read_file(path, buf, REPLY_FILE_MAX + 1);

	if (n < 0 || n > REPLY_FILE_MAX) {
		if (n < 0)
			p_err(p, "%s : error opening file '%s'.", kw, path);
		else
			p_err(p, "%s : file '%s' larger than %d bytes.", kw,
			    path, REPLY_FILE_MAX);
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

static int
px_errorfile(struct parser *p, struct proxy *px, char **w, int n)
{
	int code;
	struct reply r;

	if (n < 3) {
		p_err(p, "%s : expects <status_code> and <file> as arguments.",
		    w[0]);
		return -1;
	}
	if (parse_code(p, w[0], w[1], &code) < 0)
		return -1;
	if (reply_load_file(p, w[0], w[2], &r) < 0)
		return -1;
	r.status = code;
	*reply_slot(px, code) = r;
	return 0;
}

/* errorloc, errorloc302, errorloc303: a redirect to URL instead. */
static int
px_errorloc(struct parser *p, struct proxy *px, char **w, int n)
{
	static const char fmt[] = "HTTP/1.1 %s\r\ncache-control: no-cache\r\n"
	    "content-length: 0\r\nlocation: %s\r\n\r\n";
	const char *status_line = strcmp(w[0], "errorloc303") == 0 ?
	    "303 See Other" : "302 Found";
	struct reply *r;
	int code, len;
	char *data;

	if (n < 3) {
		p_err(p, "%s : expects <status_code> and <url> as arguments.",
		    w[0]);
		return -1;
	}
	if (parse_code(p, w[0], w[1], &code) < 0)
		return -1;
	len = snprintf(NULL, 0, fmt, status_line, w[2]);
	data = xcalloc(1, (size_t)len + 1);
	(void)snprintf(data, (size_t)len + 1, fmt, status_line, w[2]);
	r = reply_slot(px, code);
	r->data = data;
	r->len = (size_t)len;
	r->head_len = (size_t)len - 2;
	r->http11 = 1;
	return 0;
}

static int
px_monitor_uri(struct parser *p, struct proxy *px, char **w, int n)
{
	if (n < 2 || w[1][0] == '\0') {
		p_err(p, "'monitor-uri' expects an URI.");
		return -1;
	}
	if (!proxy_check_cap(p, px, w[0], CAP_FE))
		return 0;
	free(px->monitor_uri);
	px->monitor_uri = xstrdup(w[1]);
	return 0;
}

static int
px_monitor(struct parser *p, struct proxy *px, char **w, int n)
{
	struct acl_cond *cond;
	struct monitor_fail *mf;
	char err[512];

	if (n < 2 || strcmp(w[1], "fail") != 0) {
		p_err(p, "'monitor' expects 'fail'.");
		return -1;
	}
	if (n < 3 || (strcmp(w[2], "if") != 0 &&
	    strcmp(w[2], "unless") != 0)) {
		p_err(p, "'monitor fail' requires either 'if' or 'unless' "
		    "followed by a condition.");
		return -1;
	}
	if (!proxy_check_cap(p, px, "monitor fail", CAP_FE))
		return 0;
	cond = acl_cond_parse(&px->acls, w + 2, n - 2, err, sizeof(err));
	if (cond == NULL) {
		p_err(p, "error detected while parsing a 'monitor fail' "
		    "condition : %s", err);
		return -1;
	}
	mf = grow(&px->monitor_fail, &px->nmonitor_fail, sizeof(*mf));
	mf->cond = cond;
	mf->line = p->line;
	return 0;
}

int
reply_parse(struct parser *p, struct proxy *px, char **w, int n)
{
	if (strcmp(w[0], "errorfile") == 0)
		return px_errorfile(p, px, w, n);
	if (strncmp(w[0], "errorloc", 8) == 0)
		return px_errorloc(p, px, w, n);
	if (strcmp(w[0], "monitor-uri") == 0)
		return px_monitor_uri(p, px, w, n);
	return px_monitor(p, px, w, n);
}

void
reply_copy_settings(struct proxy *to, const struct proxy *from)
{
	to->monitor_uri = strdup_or_null(from->monitor_uri);
	to->monitor_fail = NULL;        /* not in defaults sections */
	to->nmonitor_fail = 0;
	to->replies = NULL;
	to->nreplies = 0;
	for (int i = 0; i < from->nreplies; i++) {
		const struct reply *f = &from->replies[i];
		struct reply *r = grow(&to->replies, &to->nreplies, sizeof(*r));
		*r = *f;
		if (f->len > 0) {
			r->data = xcalloc(1, f->len);
			memcpy(r->data, f->data, f->len);
		}
	}
}

void
reply_free_settings(struct proxy *px)
{
	free(px->monitor_uri);
	for (int i = 0; i < px->nmonitor_fail; i++)
		acl_cond_free(px->monitor_fail[i].cond);
	free(px->monitor_fail);
	for (int i = 0; i < px->nreplies; i++)
		free(px->replies[i].data);
	free(px->replies);
	px->monitor_uri = NULL;
	px->monitor_fail = NULL;
	px->replies = NULL;
	px->nmonitor_fail = px->nreplies = 0;
}
