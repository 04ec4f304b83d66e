#!/usr/bin/env bats
# log-format values (config-reference.md 10.9) parsed and expanded by
# logfmt.c outside the proxy: test/lftest builds the request, response
# and addresses from its arguments and prints the expansion (see the
# comment at the top of test/lftest.c). The values rules put in headers
# are checked end to end by the rules' own tests.

load helpers

LF="$BATS_TEST_DIRNAME/lftest"
REQ=$'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: Ex.Com:81\r\nX-In: v1, v2\r\nX-In: v3\r\nUser-Agent: t\r\n\r\n'

# lf [lftest args] FORMAT: sets $status and $output (run).
lf() {
	run "$LF" "$@"
}

# expands WANT [lftest args] FORMAT: the expansion is exactly WANT.
expands() {
	local want="$1"; shift
	lf "$@"
	[ "$status" -eq 0 ] && [ "$output" = "$want" ] || {
		echo "want: [$want]" >&2; echo "got ($status): [$output]" >&2
		return 1; }
}

# refused MESSAGE [lftest args] FORMAT: the parser's message is MESSAGE.
refused_with() {
	local want="$1"; shift
	run "$LF" "$@"
	[ "$status" -eq 2 ] && [ "$output" = "$want" ] || {
		echo "want: [$want]" >&2; echo "got ($status): [$output]" >&2
		return 1; }
}

@test "literal text, %% and what a config word keeps" {
	expands 'a b 100% c' -r "$REQ" 'a b 100%% c'
	expands '' -r "$REQ" ''
	# text only: the caller may skip expanding (logfmt_literal)
	expands $'x%y\nliteral' -L 'x%%y'
	expands $'x127.0.0.1\nexpanded' -L 'x%[src]'
}

@test "%ci %cp %fi %fp and %[src] for IPv4, IPv6 and a UNIX socket" {
	expands '127.0.0.1:40000 127.0.0.1 40000 127.0.0.1:8080 8080' -r "$REQ" \
		'%ci:%cp %[src] %[src_port] %fi:%fp %[dst_port]'
	expands '::1:36524 ::1 | 2001:db8::5:443' -r "$REQ" \
		-s '[::1]:36524' -d '[2001:db8::5]:443' '%ci:%cp %[src] | %fi:%fp'
	expands '10.1.2.3 10.1.2.3' -r "$REQ" -d 10.1.2.3:80 '%fi %[dst]'
	# a UNIX socket client: %ci is "unix", %[src] gives nothing
	expands 'unix []' -r "$REQ" -s unix '%ci [%[src]]'
}

@test "%bi %bp %si %sp %f %ft %b %s, before and after a server is chosen" {
	# no server yet: empty (2.6 prints "-" only in log lines, +M)
	expands '[:] [:] fe fe fe <NOSRV> []' -r "$REQ" '[%bi:%bp] [%si:%sp] %f %ft %b %s [%{+Q}si]'
	expands '10.0.0.1:5555 192.0.2.7:80 be/s1' -r "$REQ" -B \
		-b 10.0.0.1:5555 -S 192.0.2.7:80 '%bi:%bp %si:%sp %b/%s'
	expands "$(hostname)" -r "$REQ" '%H'
}

@test "+Q quotes addresses and names, not ports nor %[src]; +X writes hex" {
	expands '"127.0.0.1":40000 "fe" 127.0.0.1' -r "$REQ" '%{+Q}ci:%{+Q}cp %{+Q}f %{+Q}[src]'
	expands '7F000001:9C40' -r "$REQ" '%{+X}ci:%{+X}cp'
	expands '00000000000000000000000000000001' -r "$REQ" -s '[::1]:1' '%{+X}ci'
	expands '"Ex.Com:81" []' -r "$REQ" '%{+Q}[req.hdr(host)] [%{+Q}[req.hdr(nope)]]'
	expands '127.0.0.1' -r "$REQ" '%{+Q,-Q}ci'
	refused_with "unsupported log-format flag in '%{+E}': only +Q and +X are." '%{+E}ci'
}

@test "request fetches: url, path, query, method, req.ver, base" {
	expands '/a/b?x=1&y=2|/a/b|x=1&y=2|GET|1.1|Ex.Com:81/a/b' -r "$REQ" \
		'%[url]|%[path]|%[query]|%[method]|%[req.ver]|%[base]'
	expands '1.0||/p' -r $'POST /p HTTP/1.0\r\n\r\n' '%[req.ver]|%[query]|%[base]'
	expands '|' -r $'GET /q? HTTP/1.1\r\nHost: h\r\n\r\n' '%[query]|'
	# base is two pieces of the head, whatever their length
	local host path
	host=$(printf 'h%.0s' {1..6000}); path=/$(printf 'p%.0s' {1..6000})
	expands "$host$path" -c 20000 -r "GET $path?q HTTP/1.1"$'\r\n'"Host: $host"$'\r\n\r\n' '%[base]'
	expands 'http://h:8/x?a|/x|a' -r $'GET http://h:8/x?a HTTP/1.1\r\nHost: h:8\r\n\r\n' \
		'%[url]|%[path]|%[query]'
}

@test "req.hdr: the last element of the last line; fhdr the whole line; occurrences" {
	expands 'ex.com:81 EX.COM:81' -r "$REQ" '%[req.hdr(host),lower] %[hdr(Host),upper]'
	expands 'v3|v3|v1|v2|v1, v2|v3' -r "$REQ" \
		'%[req.hdr(x-in)]|%[hdr(X-IN)]|%[req.hdr(x-in,1)]|%[req.hdr(x-in,-2)]|%[req.fhdr(x-in,1)]|%[req.fhdr(x-in)]'
	# beyond the last occurrence, and without a name: the last header
	expands '||t' -r "$REQ" '%[req.hdr(x-in,9)]|%[req.hdr(x-in,-9)]|%[req.hdr]'
}

@test "fetches that find nothing give an empty string" {
	expands 'a==b' -r $'GET /p HTTP/1.1\r\nHost: h\r\n\r\n' \
		'a=%[req.hdr(x-forwarded-for)]%[query]=b'
	# no request at all (tcp mode): HTTP fetches are empty, addresses are not
	expands '[]127.0.0.1' -x req '[%[path]%[method]]%[src]'
}

@test "control bytes from a fetched value are written %XX: no CR LF reaches a header" {
	expands $'a%0D%0AX-Injected: 1%7F\tb|A%0D%0AX-INJECTED: 1%7F\tB' \
		-r "$REQ" -H $'a\r\nX-Injected: 1\x7f\tb' '%[req.hdr(x-raw)]|%[req.fhdr(x-raw),upper]'
}

@test "the expansion never passes cap: -1 when it does not fit, exact fits work" {
	expands 'abcdef' -c 6 'abcdef'
	lf -c 5 'abcdef'
	[ "$status" -eq 3 ] && [ "$output" = overflow ]
	expands '127.0.0.1' -c 9 -r "$REQ" '%[src]'
	lf -c 8 -r "$REQ" '%[src]'
	[ "$status" -eq 3 ]
	lf -c 8 -r "$REQ" '%ci'
	[ "$status" -eq 3 ]
	lf -c 4 -r "$REQ" '%[req.hdr(host)]'
	[ "$status" -eq 3 ]
	# a %XX encoding that would straddle the end
	lf -c 2 -r "$REQ" -H $'\r' '%[req.hdr(x-raw)]'
	[ "$status" -eq 3 ]
	expands '' -c 0 -r "$REQ" '%[req.hdr(nope)]'
}

@test "response rules: status and res.hdr; request header fetches are refused there" {
	local resp=$'HTTP/1.1 404 Not Found\r\nX-A: 1, 2\r\nContent-Length: 0\r\n\r\n'
	expands '404|2|2|1, 2|GET|127.0.0.1' -x resp -r "$REQ" -R "$resp" \
		'%[status]|%[res.hdr(x-a)]|%[shdr(x-a)]|%[res.fhdr(x-a)]|%[method]|%[src]'
	refused_with "sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here" \
		-x resp '%[path]'
	refused_with "sample fetch <hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here" \
		-x resp '%[hdr(host)]'
}

@test "request rules refuse response fetches; tcp proxies refuse HTTP fetches" {
	refused_with "sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here" '%[status]'
	refused_with "sample fetch <res.hdr(x)]x> may not be reliably used here because it needs 'HTTP response headers' which is not available here" '%[res.hdr(x)]x'
	refused_with "failed to parse sample expression <path]> : fetch method 'path' needs an HTTP proxy (mode http)." -x tcp '%[path]'
	expands '127.0.0.1:8080' -x tcp '%[src]:%[dst_port]'
}

@test "parse errors: 2.6's messages" {
	refused_with "failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'." '%[nosuch]'
	refused_with "failed to parse sample expression <nosuch]tail> : unknown fetch method 'nosuch'." 'x%[nosuch]tail'
	refused_with "failed to parse sample expression <src,nosuchconv]> : unknown converter 'nosuchconv'." '%[src,nosuchconv]'
	refused_with "missing ']' after 'src'." '%[src'
	refused_with "missing ']' after 'req.hdr(host),lower'." 'a%[req.hdr(host),lower'
	refused_with "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'." '%zz'
	refused_with "no such format variable ''. If you wanted to emit the '%' character verbatim, you need to use '%%'." '100%'
	refused_with "format variable 'Tr' is not supported in values." '%Tr'
	refused_with "failed to parse sample expression <src(1)]> : fetch method 'src' : no argument supported, but got '1'." '%[src(1)]'
	refused_with "failed to parse sample expression <lower]> : unknown fetch method 'lower'." '%[lower]'
	refused_with "failed to parse sample expression <src,lower(x)]> : converter 'lower' does not take any argument." '%[src,lower(x)]'
	refused_with "failed to parse sample expression <hdr(a,b)]> : invalid occurrence in 'a,b'." '%[hdr(a,b)]'
	refused_with "failed to parse sample expression <]> : missing fetch method." '%[]'
}

@test "stick-table fetches: nothing tracked gives nothing, sc*_tracked gives 0, in tcp proxies too" {
	expands '[]0[][]' -r "$REQ" '[%[sc0_conn_cur]]%[sc1_tracked][%[src_http_req_rate]][%[table_cnt]]'
	expands '0|' -x tcp '%[sc_tracked(2)]|%[sc2_kbytes_in]'
	refused_with "failed to parse sample expression <sc0_gpc0]> : unknown fetch method 'sc0_gpc0'." '%[sc0_gpc0]'
	refused_with "failed to parse sample expression <sc_conn_cur(3)]> : fetch method 'sc_conn_cur' : invalid stick counter '3' (0, 1 or 2 expected)." '%[sc_conn_cur(3)]'
	refused_with "failed to parse sample expression <src_conn_cur(a,b)]> : fetch method 'src_conn_cur' : end of arguments expected at position 2, but got 'b'." '%[src_conn_cur(a,b)]'
}
