/*
 * fuzz_request.c - libFuzzer target for the request side of http.c (and
 * the ACL evaluation of acl.c over the parsed request).
 *
 * The input is a client's byte stream: the head is cut with
 * http_head_end(), parsed with http_parse_request() into a header table of
 * HTTP_DEFAULT_MAXHDR entries, then every accessor is walked with bounds
 * checks, a fixed set of ACL conditions is evaluated, and the head wsproxy
 * would forward (http_build_request) is parsed again: its framing must be
 * the one the proxy decided on (no request smuggling through the rewrite).
 * Whatever follows the head is treated as a pipelined second request.
 *
 * Linked with -Wl,--wrap=getaddrinfo: evaluating a request must never
 * resolve a name (net.h: "never while a request waits").
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "http.h"
#include "acl.h"
#include "match.h"

/* ---- the ACLs, built once ---- */

static const char *const acl_lines[] = {
	"is_ws hdr_end(host) -i ws.example.com",
	"is_example hdr_end(host) -i example.com",
	"ws_path path_beg -i /websockets",
	"upg hdr(Upgrade) -i WebSocket",
	"dom hdr_dom(host) -i example.com",
	"first_host hdr_beg(host,1) www.",
	"ua hdr_sub(user-agent) -i curl",
	"api path_dir -i api",
	"udom url_dom example.com",
	"php url_end .php",
	"dbg url_sub ?debug",
	"long_path path_len gt 10",
	"short_host hdr_len(host) 0:3",
	"two_hosts hdr_cnt(host) gt 1",
	"many hdr_cnt ge 5",
	"last_xff hdr(x-forwarded-for,-1) -m ip 10.0.0.0/8 ::1 192.168.0.0/255.255.0.0",
	"xint hdr(x-int) -m int 1:100",
	"xlen hdr(x-len) -m len le 3",
	"meth method GET POST CUSTOM",
	"v10 req.ver 1.0",
	"lan src 192.0.2.0/24 2001:db8::/32",
	"dport dst_port 80 443 8000:8100",
	"evil hdr -m sub -i evil",
	"cookie hdr(cookie) -m found",
	"root url /",
	"static path_end -i .js .css",
	"pstr path -m str /index.html",
	"xbeg hdr(x-beg,2) -m beg ab",
	"xdir hdr(x-dir) -m dir a/b",
	"preg path_reg ^/api/\\d+(/[\\w.-]*)*$",
	"ureg url_reg -i \\?(.*&)?debug=[^&]*",
	"hreg hdr_reg(x-beg) ^a[b-z\\]]{1,3}$ \\bzz\\b",
	"mreg req.hdr(host) -m reg -i ^(www\\.)?example\\.com(:[0-9]+)?$",
};

static const char *const cond_lines[] = {
	"if is_ws || ws_path is_example",
	"if upg is_ws",
	"unless !meth || { hdr(host) -m beg -i WWW } !v10",
	"if HTTP_URL_ABS || HTTP_URL_SLASH || HTTP_URL_STAR",
	"if METH_GET METH_HEAD || METH_POST || METH_CONNECT || METH_OPTIONS",
	"if HTTP_CONTENT || HTTP_1.0 || HTTP_1.1 || HTTP",
	"if LOCALHOST || TRUE !FALSE",
	"if { path_sub -i admin } || { url_len 0:5 } || { hdr_cnt(via) 1: }",
};

#define NCOND_MAX 64
static struct acl *acls;
static struct acl_cond *conds[NCOND_MAX];
static int nconds;
static int in_test;             /* set while an input is being processed */

static int
split(char *s, char **words, int max)
{
	int n = 0;

	for (char *save = NULL, *w = strtok_r(s, " ", &save); w && n < max;
	    w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return n;
}

static void
add_cond(const char *text)
{
	char buf[256], *words[32], err[512];
	int n;

	snprintf(buf, sizeof(buf), "%s", text);
	n = split(buf, words, 32);
	CHECK(nconds < NCOND_MAX);
	conds[nconds] = acl_cond_parse(&acls, words, n, err, sizeof(err));
	if (conds[nconds] == NULL) {
		fprintf(stderr, "fuzz_request: condition '%s': %s\n", text,
		    err);
		abort();
	}
	nconds++;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(acl_lines) / sizeof(acl_lines[0]); i++) {
		char buf[256], *words[32], err[512], warn[512] = "";
		int n;
		snprintf(buf, sizeof(buf), "%s", acl_lines[i]);
		n = split(buf, words, 32);
		if (acl_parse(&acls, words[0], words + 1, n - 1, err,
		    sizeof(err), warn, sizeof(warn)) < 0) {
			fprintf(stderr, "fuzz_request: acl '%s': %s\n",
			    acl_lines[i], err);
			abort();
		}
	}
	for (size_t i = 0; i < sizeof(cond_lines) / sizeof(cond_lines[0]); i++)
		add_cond(cond_lines[i]);
	/* every named ACL alone, so that none is short-circuited away */
	for (struct acl *a = acls; a != NULL; a = a->next) {
		char text[128];
		if (a->name == NULL)
			continue;
		snprintf(text, sizeof(text), "if %s", a->name);
		add_cond(text);
	}
	return 0;
}

/* ---- getaddrinfo tripwire ---- */

int __real_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);

int
__wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	if (in_test) {
		fprintf(stderr, "fuzz_request: getaddrinfo(\"%s\") while "
		    "evaluating a request\n", node ? node : "(null)");
		abort();
	}
	return __real_getaddrinfo(node, service, hints, res);
}

/* ---- one request ---- */

static void
check_value_walk(const char *value, size_t len)
{
	size_t pos = 0, n, count = 0;
	const char *e;

	while (http_value_next(value, len, &pos, &e, &n)) {
		CHECK(fuzz_within(e, n, value, len));
		CHECK(++count <= len + 1);      /* it terminates */
	}
}

static void
check_headers(const struct http_msg *msg)
{
	static const char *const names[] = { "host", "connection", "upgrade",
	    "content-length", "transfer-encoding", "x-forwarded-for" };

	for (int i = 0; i < msg->nhdrs; i++) {
		const struct http_hdr *h = &msg->hdrs[i];
		const struct http_hdr *f;
		int idx = 0, found = 0, steps = 0;

		CHECK(h->name_len > 0);
		CHECK(fuzz_within(h->name, h->name_len, msg->head,
		    msg->head_len));
		CHECK(fuzz_within(h->value, h->value_len, msg->head,
		    msg->head_len));
		/* the header is found by its own name, in order */
		while ((f = http_hdr_find(msg, h->name, h->name_len, &idx))) {
			CHECK(f >= msg->hdrs && f < msg->hdrs + msg->nhdrs);
			CHECK(idx == (int)(f - msg->hdrs) + 1);
			found |= f == h;
			CHECK(++steps <= msg->nhdrs);
		}
		CHECK(found);
		CHECK(idx == msg->nhdrs);
		check_value_walk(h->value, h->value_len);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int idx = 0;
		const struct http_hdr *f;
		while ((f = http_hdr_find(msg, names[i], strlen(names[i]),
		    &idx)))
			check_value_walk(f->value, f->value_len);
	}
}

static const struct http_hdr *
first_host(const struct http_msg *msg)
{
	int idx = 0;

	return http_hdr_find(msg, "host", 4, &idx);
}

/*
 * The forwarded head must parse, be framed exactly as the original (or
 * the server reads the body differently from us: request smuggling) and
 * carry the Host the request was routed by.
 */
static void
check_rebuilt(const struct http_msg *req, const struct http_out *out)
{
	struct http_hdr hdrs[HTTP_DEFAULT_MAXHDR + 2];
	struct http_msg m;
	const struct http_hdr *h1, *h2;

	CHECK(!out->overflow);
	CHECK(out->len >= 4 && memcmp(out->data + out->len - 4, "\r\n\r\n",
	    4) == 0);
	CHECK(http_head_end(out->data, out->len) == out->len);
	CHECK(http_parse_request(out->data, out->len, &m, hdrs,
	    HTTP_DEFAULT_MAXHDR + 2) == 0);
	CHECK(m.method_len == req->method_len &&
	    memcmp(m.method, req->method, m.method_len) == 0);
	CHECK(m.uri_len == req->uri_len &&
	    memcmp(m.uri, req->uri, m.uri_len) == 0);
	CHECK(m.vmajor == req->vmajor && m.vminor == req->vminor);
	CHECK(m.body == req->body);
	if (m.body == BODY_LENGTH)
		CHECK(m.content_length == req->content_length);
	h1 = first_host(req);
	h2 = first_host(&m);
	CHECK((h1 == NULL) == (h2 == NULL));
	if (h1 != NULL)
		CHECK(h1->value_len == h2->value_len &&
		    memcmp(h1->value, h2->value, h1->value_len) == 0);
}

static void
one_request(const char *buf, size_t len, int v6_client)
{
	struct http_hdr hdrs[HTTP_DEFAULT_MAXHDR];
	struct http_msg msg;
	struct sockaddr_storage src;
	struct acl_input in = { 0 };
	struct http_out out = { 0 };
	struct http_fwd_opts opts;
	const char *path;
	size_t path_len;

	if (http_parse_request(buf, len, &msg, hdrs, HTTP_DEFAULT_MAXHDR) != 0)
		return;
	CHECK(msg.head == buf && msg.head_len == len);
	CHECK(msg.method_len > 0 &&
	    fuzz_within(msg.method, msg.method_len, buf, len));
	CHECK(msg.uri_len > 0 && fuzz_within(msg.uri, msg.uri_len, buf, len));
	CHECK(msg.vmajor == 1 && (msg.vminor == 0 || msg.vminor == 1));
	CHECK(msg.nhdrs >= 0 && msg.nhdrs <= HTTP_DEFAULT_MAXHDR);
	CHECK(msg.hdrs == hdrs);
	CHECK(msg.body == BODY_NONE || msg.body == BODY_LENGTH ||
	    msg.body == BODY_CHUNKED);
	if (msg.body == BODY_LENGTH)
		CHECK(msg.content_length > 0);

	/* What a rebuild adds to the head: a Connection header and X-F-F. */
	out.cap = len + 1024;
	out.data = malloc(out.cap);
	CHECK(out.data != NULL);

	http_req_path(&msg, &path, &path_len);
	CHECK(fuzz_within(path, path_len, msg.uri, msg.uri_len));
	(void)http_method_is(&msg, "GET");
	(void)http_method_is(&msg, "HEAD");
	check_headers(&msg);

	memset(&src, 0, sizeof(src));
	if (v6_client) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.7", &s4->sin_addr);
	}
	in.req = &msg;
	in.src = &src;
	in.dst_port = 8080;
	for (int i = 0; i < nconds; i++)
		(void)acl_cond_eval(conds[i], &in);

	opts.websocket_upgrade = 0;
	opts.xff_name = NULL;
	opts.xff_value = NULL;
	http_build_request(&msg, &opts, &out);
	check_rebuilt(&msg, &out);
	opts.websocket_upgrade = msg.upgrade_websocket &&
	    (msg.conn_tokens & CONN_UPGRADE);
	opts.xff_name = "X-Forwarded-For";
	opts.xff_value = "192.0.2.7";
	http_build_request(&msg, &opts, &out);
	check_rebuilt(&msg, &out);
	free(out.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	in_test = 1;
	/* at most two pipelined requests: the second starts after the
	 * first's head (bodies are not skipped: the target is the parser) */
	for (int round = 0; round < 2 && off < size; round++) {
		size_t head = http_head_end(buf + off, size - off);
		if (head == 0)
			break;
		CHECK(head >= 2 && head <= size - off);
		CHECK(buf[off + head - 1] == '\n');
		one_request(buf + off, head, (int)(size & 1));
		off += head;
	}
	in_test = 0;
	return 0;
}
