#!/usr/bin/env bats
# monitor-uri and monitor fail, and the responses errorfile, errorloc,
# errorloc302 and errorloc303 put in place of wsproxy's own (HAProxy
# 2.6's semantics, config-reference.md 10.6 and 10.7): the exact bytes,
# which proxy's applies, when the connection stays open, what is logged,
# and every configuration error.

load helpers

PAGE_200='HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'
PAGE_503='HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'

# files: the error files the tests use, in $W.
files() {
	# Debian's /etc/haproxy/errors form: HTTP/1.0, no Content-Length
	printf 'HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n' > "$W/503-10.http"
	# HTTP/1.1 without Content-Length, bare LFs
	printf 'HTTP/1.1 503 Service Unavailable\nX-Why: nolen\n\nno length\n' > "$W/503-11.http"
	# HTTP/1.1 with Content-Length, a Connection header and mixed case
	printf 'HTTP/1.1 503 Busy\r\nX-Custom-Header: A\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nbusy\n' > "$W/503-len.http"
	printf 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 7\r\n\r\nfe-502\n' > "$W/fe-502.http"
	printf 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 7\r\n\r\nbe-502\n' > "$W/be-502.http"
	printf 'HTTP/1.1 504 Gateway Time-out\r\nContent-Length: 7\r\n\r\nfe-504\n' > "$W/fe-504.http"
	printf 'HTTP/1.1 504 Gateway Time-out\r\nContent-Length: 7\r\n\r\nbe-504\n' > "$W/be-504.http"
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nup\n' > "$W/200.http"
	printf 'HTTP/1.1 400 Mine\r\nContent-Length: 5\r\n\r\nmine\n' > "$W/400.http"
	: > "$W/empty.http"
}

# monitor_proxy [frontend lines]: www backend, a frontend on $PPORT with
# monitor-uri /healthz and httplog to the udpsink "log"; /down goes to a
# backend without servers.
monitor_proxy() {
	files
	start_backend www
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log local0
	    option httplog
	    monitor-uri /healthz
	    use_backend empty if { path_beg /down }
	    default_backend www
	EOF
	  cat
	  cat <<-EOF
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend empty
	EOF
	} > "$W/monitor.cfg"
	start_proxy < "$W/monitor.cfg"
}

# exact BYTES: raw's answer to the request on stdin is BYTES (printf).
exact() {
	local want
	want=$(printf "$1"; echo .)
	# the whole answer: no more once it has been quiet for 300 ms
	got=$(raw -t 3000 -q 300; echo .)
	[ "$got" = "$want" ] || {
		echo "want: $(printf '%q' "$want")" >&2
		echo "got:  $(printf '%q' "$got")" >&2
		return 1; }
}

# req PATH [HEADER LINES]: a GET, the lines in printf form.
req() {
	printf "GET %s HTTP/1.1\r\nHost: t\r\n${2:-}\r\n" "$1"
}

@test "monitor-uri: HAProxy's exact 200, whatever the method, and the backend gets nothing" {
	monitor_proxy < /dev/null
	printf 'GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		exact 'HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'
	printf 'DELETE /healthz HTTP/1.0\r\n\r\n' |
		exact 'HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'
	[ ! -s "$W/www.log" ]
}

@test "monitor-uri: the connection stays open, and the next request on it is routed afresh to a backend" {
	monitor_proxy < /dev/null
	out=$( { req /healthz; req /after 'Connection: close\r\n'; } | raw -t 3000)
	printf -v want "$PAGE_200"
	[[ "$out" == "$want"HTTP/1.1\ 200\ OK* ]]
	[[ "$out" == *"backend=www"* ]]
	grep -q 'GET /after' "$W/www.log"
	! grep -q healthz "$W/www.log"
}

@test "monitor-uri: path and query are compared, so /healthz?x goes to the backend; an absolute-form target matches by its path" {
	monitor_proxy < /dev/null
	run backend_of '/healthz?x'
	[ "$output" = www ]
	printf 'GET http://t/healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		exact 'HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'
}

@test "monitor fail: the standard 503 when the condition holds, the 200 when it does not" {
	monitor_proxy <<-'EOF'
	    acl maint hdr(x-maint) -m found
	    monitor fail if maint
	    monitor fail unless { src 127.0.0.0/8 }
	EOF
	req /healthz 'X-Maint: 1\r\nConnection: close\r\n' |
		exact 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'
	run curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/healthz"
	[ "$output" = 200 ]
}

@test "monitor requests are not logged, other requests are" {
	monitor_proxy < /dev/null
	http_get /healthz > /dev/null
	http_get /other > /dev/null
	wait_for_line "$W/log.udp" 'GET /other'
	http_get /healthz > /dev/null
	http_get /other2 > /dev/null
	wait_for_line "$W/log.udp" 'GET /other2'
	! grep -q healthz "$W/log.udp"
}

@test "errorfile 200 and 503 replace the monitor's answers" {
	monitor_proxy <<-EOF
	    errorfile 200 $W/200.http
	    errorfile 503 $W/503-len.http
	    monitor fail if { hdr(x-maint) -m found }
	EOF
	req /healthz 'Connection: close\r\n' |
		exact 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nup\n'
	req /healthz 'X-Maint: 1\r\nConnection: close\r\n' |
		exact 'HTTP/1.1 503 Busy\r\nx-custom-header: A\r\ncontent-length: 5\r\nconnection: close\r\n\r\nbusy\n'
}

@test "errorfile 503 (HTTP/1.0, no Content-Length): sent as is but names lower-cased and Connection dropped, then the close" {
	monitor_proxy <<-EOF
	    errorfile 503 $W/503-10.http
	EOF
	req /down |
		exact 'HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<h1>down</h1>\n'
}

@test "errorfile 503 (HTTP/1.1, no Content-Length): CRLFs, and connection: close appended before the close" {
	monitor_proxy <<-EOF
	    errorfile 503 $W/503-11.http
	EOF
	req /down |
		exact 'HTTP/1.1 503 Service Unavailable\r\nx-why: nolen\r\nconnection: close\r\n\r\nno length\n'
}

@test "errorfile 503 with a Content-Length: the file's status line, no Connection header, and the connection stays open" {
	monitor_proxy <<-EOF
	    errorfile 503 $W/503-len.http
	EOF
	out=$( { req /down; req /after 'Connection: close\r\n'; } | raw -t 3000)
	printf -v want 'HTTP/1.1 503 Busy\r\nx-custom-header: A\r\ncontent-length: 5\r\n\r\nbusy\n'
	[[ "$out" == "$want"HTTP/1.1\ 200\ OK* ]]
	grep -q 'GET /after' "$W/www.log"
}

@test "errorfile: an empty file sends nothing and closes" {
	monitor_proxy <<-EOF
	    errorfile 503 $W/empty.http
	EOF
	req /down | exact ''
}

@test "errorfile 502 and 504: the backend's before the frontend's, the frontend's for a backend without one" {
	files
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	SERVER_TIMEOUT=300ms start_proxy <<-EOF
	$(SERVER_TIMEOUT=300ms defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    errorfile 502 $W/fe-502.http
	    errorfile 504 $W/fe-504.http
	    use_backend own if { hdr(host) own }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend own
	    errorfile 502 $W/be-502.http
	    errorfile 504 $W/be-504.http
	    server www1 127.0.0.1:$BPORT_www
	EOF
	printf 'GET /garbage HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 7\r\n\r\nfe-502\n'
	printf 'GET /garbage HTTP/1.1\r\nHost: own\r\n\r\n' |
		exact 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 7\r\n\r\nbe-502\n'
	printf 'GET /sleep/2000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		exact 'HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 7\r\nconnection: close\r\n\r\nfe-504\n'
	printf 'GET /sleep/2000 HTTP/1.1\r\nHost: own\r\nConnection: close\r\n\r\n' |
		exact 'HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 7\r\nconnection: close\r\n\r\nbe-504\n'
}

@test "errorfile in defaults is inherited; a backend's applies once a request has chosen it" {
	files
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	    errorfile 503 $W/503-len.http
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend be if { path_beg /be }
	backend be
	    errorfile 503 $W/503-11.http
	EOF
	req /none 'Connection: close\r\n' |
		exact 'HTTP/1.1 503 Busy\r\nx-custom-header: A\r\ncontent-length: 5\r\nconnection: close\r\n\r\nbusy\n'
	req /be |
		exact 'HTTP/1.1 503 Service Unavailable\r\nx-why: nolen\r\nconnection: close\r\n\r\nno length\n'
}

@test "errorloc, errorloc302, errorloc303: HAProxy's exact redirects, and the log keeps the original 503" {
	monitor_proxy <<-'EOF'
	    errorloc 503 /maint.html
	    use_backend e302 if { path_beg /e302 }
	    use_backend e303 if { path_beg /e303 }
	backend e302
	    errorloc302 503 http://status.example/302
	backend e303
	    errorloc303 503 /see-other
	EOF
	req /down 'Connection: close\r\n' |
		exact 'HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /maint.html\r\nconnection: close\r\n\r\n'
	req /e302 'Connection: close\r\n' |
		exact 'HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://status.example/302\r\nconnection: close\r\n\r\n'
	req /e303 'Connection: close\r\n' |
		exact 'HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /see-other\r\nconnection: close\r\n\r\n'
	wait_for_line "$W/log.udp" 'GET /e303'
	grep -qE 'public empty/<NOSRV> [-0-9/]+ 503 [0-9]+ .*"GET /down HTTP/1.1"' "$W/log.udp"
	grep -qE 'public e303/<NOSRV> [-0-9/]+ 503 [0-9]+ .*"GET /e303 HTTP/1.1"' "$W/log.udp"
}

@test "parser-level 400 and 408 ignore errorfile and errorloc, but not an empty file" {
	monitor_proxy <<-EOF
	    errorfile 400 $W/400.http
	    errorloc 408 /late
	EOF
	out=$(printf 'GET /a b HTTP/1.1\r\nHost: t\r\n\r\n' | raw -t 3000)
	[[ "$out" == "HTTP/1.1 400 Bad request"* ]]
	[[ "$out" != *mine* ]]
	sed -i "s|errorfile 400 .*|errorfile 400 $W/empty.http|" "$W/monitor.cfg"
	stop_proxy
	start_proxy < "$W/monitor.cfg"
	printf 'GET /a b HTTP/1.1\r\nHost: t\r\n\r\n' | exact ''
}

# cfg_error LINES... : a file with those lines in a frontend fails -c
# with exit 1; $output holds the messages.
cfg_error() {
	local line
	{ echo "frontend fe"; echo "    bind 127.0.0.1:18090"
	  for line; do echo "    $line"; done; } > "$W/e.cfg"
	run "$WSPROXY" -c -f "$W/e.cfg"
	[ "$status" -eq 1 ] || { echo "exit $status: $output" >&2; return 1; }
}

@test "configuration errors: every one as FILE:LINE, exit 1" {
	files
	printf 'this is not http\r\n\r\n' > "$W/garbage.http"
	printf 'HTTP/1.1 503 Busy\r\nContent-Length: 5\r\n' > "$W/noempty.http"
	printf 'HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\nshort' > "$W/short.http"
	printf 'HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' > "$W/te.http"
	{ printf 'HTTP/1.1 503 Busy\r\n\r\n'; head -c 16400 /dev/zero | tr '\0' x; } > "$W/big.http"
	cfg_error "errorfile 418 $W/200.http"
	[[ "$output" == *"e.cfg:3: errorfile : status code '418' not handled."* ]]
	cfg_error "errorfile 503"
	[[ "$output" == *"e.cfg:3: errorfile : expects <status_code> and <file> as arguments."* ]]
	cfg_error "errorfile 503 /nonexistent"
	[[ "$output" == *"e.cfg:3: errorfile : error opening file '/nonexistent'."* ]]
	cfg_error "errorfile 503 $W/garbage.http"
	[[ "$output" == *"e.cfg:3: errorfile : '$W/garbage.http': unable to parse headers (error offset: 0)"* ]]
	cfg_error "errorfile 503 $W/noempty.http"
	[[ "$output" == *"e.cfg:3: errorfile : '$W/noempty.http': unable to parse headers (error offset: -2)"* ]]
	cfg_error "errorfile 503 $W/short.http"
	[[ "$output" == *"e.cfg:3: errorfile : '$W/short.http': payload size does not match the announced content-length (5 != 100)"* ]]
	cfg_error "errorfile 503 $W/big.http"
	[[ "$output" == *"e.cfg:3: custom error message file '$W/big.http' larger than 16384 bytes. Truncating."* ]]
	cfg_error "errorfile 503 $W/te.http"
	[[ "$output" == *"e.cfg:3: errorfile : '$W/te.http': a Transfer-Encoding is not supported"* ]]
	cfg_error "errorloc 503"
	[[ "$output" == *"e.cfg:3: errorloc : expects <status_code> and <url> as arguments."* ]]
	cfg_error "errorloc303 302 /x"
	[[ "$output" == *"e.cfg:3: errorloc303 : status code '302' not handled."* ]]
	cfg_error "monitor-uri"
	[[ "$output" == *"e.cfg:3: 'monitor-uri' expects an URI."* ]]
	cfg_error "monitor fail"
	[[ "$output" == *"e.cfg:3: 'monitor fail' requires either 'if' or 'unless' followed by a condition."* ]]
	cfg_error "monitor fail when x"
	[[ "$output" == *"e.cfg:3: 'monitor fail' requires either 'if' or 'unless' followed by a condition."* ]]
	cfg_error "monitor foo"
	[[ "$output" == *"e.cfg:3: 'monitor' expects 'fail'."* ]]
	cfg_error "monitor fail if nosuchacl"
	[[ "$output" == *"e.cfg:3: error detected while parsing a 'monitor fail' condition"* ]]
	printf 'defaults\n    monitor fail if TRUE\n' > "$W/d.cfg"
	run "$WSPROXY" -c -f "$W/d.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"d.cfg:2: 'monitor' not allowed in 'defaults' section."* ]]
}

@test "monitor-uri and monitor fail in a backend are ignored with a warning; errorfile is valid everywhere" {
	files
	cat > "$W/w.cfg" <<-EOF
	defaults
	    errorfile 503 $W/503-len.http
	    errorloc 502 /x
	    monitor-uri /healthz
	backend be
	    errorfile 504 $W/fe-504.http
	    monitor-uri /m
	    monitor fail if TRUE
	EOF
	run "$WSPROXY" -c -f "$W/w.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"w.cfg:7: warning: 'monitor-uri' ignored because backend 'be' has no frontend capability."* ]]
	[[ "$output" == *"w.cfg:8: warning: 'monitor fail' ignored because backend 'be' has no frontend capability."* ]]
}

@test "a reload with a bad errorfile keeps the old configuration, whose reply was kept in memory" {
	daemon_only "a reload needs the daemon"
	monitor_proxy <<-EOF
	    errorfile 503 $W/503-len.http
	EOF
	printf 'garbage\r\n\r\n' > "$W/503-len.http"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'is invalid; still running the previous configuration'
	grep -q "monitor.cfg:.*unable to parse headers" "$W/proxy.err" ||
		grep -q "proxy.cfg:.*unable to parse headers" "$W/proxy.err"
	req /down 'Connection: close\r\n' |
		exact 'HTTP/1.1 503 Busy\r\nx-custom-header: A\r\ncontent-length: 5\r\nconnection: close\r\n\r\nbusy\n'
}

@test "valgrind: errorfile, errorloc and monitor lines, valid or not, are all freed" {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	not_sanitized "valgrind cannot run it"
	files
	printf 'this is not http\r\n\r\n' > "$W/garbage.http"
	cat > "$W/v.cfg" <<-EOF
	defaults
	    mode http
	    errorfile 503 $W/503-len.http
	    errorfile 503 $W/503-10.http
	    errorloc 502 /x
	    monitor-uri /healthz
	frontend fe
	    bind 127.0.0.1:18091
	    errorfile 200 $W/200.http
	    errorfile 400 $W/empty.http
	    monitor fail if { src 10.0.0.0/8 }
	    monitor fail unless TRUE
	    default_backend be
	backend be
	    errorloc303 504 /y
	EOF
	run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$WSPROXY" -c -f "$W/v.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" != *"lost"* ]]
	{ cat "$W/v.cfg"; echo "    errorfile 503 $W/garbage.http"
	  echo "    monitor fail if nosuchacl"; } > "$W/bad.cfg"
	run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$WSPROXY" -c -f "$W/bad.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" != *"lost"* ]]
}
