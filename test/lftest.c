/*
 * lftest.c - parses a log-format value (logfmt.c) and expands it against
 * a request, a response and addresses given on the command line, for
 * test/logfmt.bats.
 *
 *   lftest [-x req|resp|tcp] [-r REQUEST] [-R RESPONSE] [-c CAP]
 *          [-s ADDR] [-d ADDR] [-b ADDR] [-S ADDR] [-B] [-H VALUE] [-L]
 *          FORMAT
 *
 * REQUEST and RESPONSE are complete heads ("\r\n\r\n" included). ADDR is
 * "1.2.3.4:80", "[::1]:80" or "unix"; -s/-d default to 127.0.0.1:40000
 * and 127.0.0.1:8080, -b/-S (our side to the server, the server) to none.
 * -B: a backend "be" and server "s1" were chosen (else none). The
 * frontend is "fe". -H VALUE adds a request header "x-raw: VALUE" after
 * parsing, bytes the parser would refuse (CR, LF) included. -L: then
 * a line "literal" when the value has nothing to expand, else "expanded".
 *
 * Prints the expansion and a newline. Exit 0; 2 with the parser's
 * message on stderr when FORMAT is refused; 3 when the expansion does
 * not fit in CAP bytes (default 4096); 1 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "../config.h"
#include "../http.h"
#include "../logfmt.h"

#define MAXHDR 64

static int
parse_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(text, "unix") == 0) {
		ss->ss_family = AF_UNIX;
		return 0;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - text) >= sizeof(host))
			return -1;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)atoi(close + 2));
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -1;
	}
	if ((colon = strchr(text, ':')) == NULL ||
	    (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	in4->sin_family = AF_INET;
	in4->sin_port = htons((unsigned short)atoi(colon + 1));
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: lftest [-x req|resp|tcp] [-r REQUEST] "
	    "[-R RESPONSE] [-c CAP] [-s ADDR] [-d ADDR] [-b ADDR] [-S ADDR] "
	    "[-B] [-H VALUE] [-L] FORMAT\n");
	return 1;
}

static int
context_flags(const char *name)
{
	if (strcmp(name, "req") == 0)
		return LF_CTX_REQ | LF_HTTP;
	if (strcmp(name, "resp") == 0)
		return LF_CTX_RESP | LF_HTTP;
	if (strcmp(name, "tcp") == 0)
		return LF_CTX_REQ;
	return -1;
}

struct heads {
	const char *req_text, *resp_text, *raw_value;
	struct http_msg req, resp;
	struct http_hdr req_hdrs[MAXHDR], resp_hdrs[MAXHDR];
};

/* The x-raw header of -H: appended as is, behind the parser's back. */
static int
add_raw_header(struct heads *h, const char *value)
{
	struct http_hdr *raw;

	if (h->req_text == NULL || h->req.nhdrs == MAXHDR)
		return -1;
	raw = &h->req_hdrs[h->req.nhdrs++];
	raw->name = "x-raw";
	raw->name_len = 5;
	raw->value = value;
	raw->value_len = strlen(value);
	return 0;
}

static int
parse_heads(struct heads *h, struct lf_input *in)
{
	if (h->req_text != NULL) {
		size_t len = strlen(h->req_text);
		if (http_head_end(h->req_text, len) != len ||
		    http_parse_request(h->req_text, len, &h->req, h->req_hdrs,
		    MAXHDR) != 0)
			return -1;
		in->req = &h->req;
		if (h->raw_value != NULL && add_raw_header(h, h->raw_value) < 0)
			return -1;
	}
	if (h->resp_text != NULL) {
		size_t len = strlen(h->resp_text);
		if (http_head_end(h->resp_text, len) != len ||
		    http_parse_response(h->resp_text, len, &h->resp,
		    h->resp_hdrs, MAXHDR, 0) != 0)
			return -1;
		in->resp = &h->resp;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct heads heads;
	struct sockaddr_storage src, dst, srv_src, srv_dst;
	struct proxy fe = { .name = "fe" }, be = { .name = "be" };
	struct server srv = { .name = "s1" };
	struct lf_input in = { .src = &src, .dst = &dst, .fe = &fe };
	struct logfmt *f;
	char err[512], *out;
	size_t cap = 4096;
	int flags = LF_CTX_REQ | LF_HTTP, opt, show_literal = 0;
	ssize_t n;

	parse_addr("127.0.0.1:40000", &src);
	parse_addr("127.0.0.1:8080", &dst);
	while ((opt = getopt(argc, argv, "x:r:R:c:s:d:b:S:BH:L")) != -1) {
		switch (opt) {
		case 'x':
			if ((flags = context_flags(optarg)) < 0)
				return usage();
			break;
		case 'r': heads.req_text = optarg; break;
		case 'R': heads.resp_text = optarg; break;
		case 'c': cap = (size_t)strtoul(optarg, NULL, 10); break;
		case 's': if (parse_addr(optarg, &src)) return usage(); break;
		case 'd': if (parse_addr(optarg, &dst)) return usage(); break;
		case 'b':
			if (parse_addr(optarg, &srv_src))
				return usage();
			in.srv_src = &srv_src;
			break;
		case 'S':
			if (parse_addr(optarg, &srv_dst))
				return usage();
			in.srv_dst = &srv_dst;
			break;
		case 'B': in.be = &be; in.srv = &srv; break;
		case 'H': heads.raw_value = optarg; break;
		case 'L': show_literal = 1; break;
		default: return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	if (parse_heads(&heads, &in) < 0) {
		fprintf(stderr, "lftest: a head does not parse\n");
		return 1;
	}
	if ((f = logfmt_parse_in(argv[optind], flags, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	/* exactly cap bytes, so that ASan sees a write past the end */
	if ((out = malloc(cap ? cap : 1)) == NULL)
		return 1;
	n = logfmt_expand(f, &in, out, cap);
	if (n < 0)
		printf("overflow\n");
	else
		printf("%.*s\n", (int)n, out);
	if (n >= 0 && show_literal)
		printf("%s\n", logfmt_literal(f) ? "literal" : "expanded");
	free(out);
	logfmt_free(f);
	return n < 0 ? 3 : 0;
}
