#!/usr/bin/env bats
# http-request and http-response rules with HAProxy 2.6's semantics
# (config-reference.md 10.1, 10.3, 10.4, 10.8, 10.10): the exact bytes
# of the responses the rules generate, what the server receives after
# rewrites, the order of evaluation, the connection kept after a reply,
# what is logged, and every configuration error.

load helpers

PAGE_403='HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n'
PAGE_500='HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n'

# rules_proxy: backends www and api, a frontend "fe" on $PPORT whose
# lines come on stdin (default_backend www unless they route), httplog
# lines to the udpsink "log"; BE_LINES go into backend www,
# EXTRA_SECTIONS after the backends.
rules_proxy() {
	start_backend www
	start_backend api
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    log 127.0.0.1:$UPORT_log local0"
	  echo "    option httplog"
	  cat
	  echo "    default_backend www"
	  echo "backend www"
	  printf '%s\n' "${BE_LINES:-}"
	  echo "    server w1 127.0.0.1:$BPORT_www"
	  echo "backend api"
	  echo "    server a1 127.0.0.1:$BPORT_api"
	  printf '%s\n' "${EXTRA_SECTIONS:-}"
	} > "$W/rules.cfg"
	start_proxy < "$W/rules.cfg"
}

# exact BYTES: raw's answer to the request on stdin is BYTES (printf).
exact() {
	local want got
	want=$(printf "$1"; echo .)
	# the whole answer: no more once it has been quiet for 300 ms
	got=$(raw -t 3000 -q 300; echo .)
	[ "$got" = "$want" ] || {
		echo "want: $(printf '%q' "$want")" >&2
		echo "got:  $(printf '%q' "$got")" >&2
		return 1; }
}

# close_req PATH [HEADER LINES]: a GET that asks for the close.
close_req() {
	printf "GET %s HTTP/1.1\r\nHost: t\r\n${2:-}Connection: close\r\n\r\n" "$1"
}

# log_line N: the N-th access line received (1 = first).
log_line() {
	wait_for 50 count_at_least "$1" . "$W/log.udp"
	sed -n "${1}p" "$W/log.udp"
}


# server_saw: the last request head backend www received.
server_saw() {
	tr -d '\r' < "$W/www.log"
}

@test "deny: 2.6's 403, the connection stays open and its next request is routed afresh" {
	rules_proxy <<-EOF
	    http-request deny if { path_beg /admin }
	EOF
	printf 'GET /admin HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		raw -t 3000 > "$W/out"
	[ "$(head -c 300 "$W/out" | head -1)" = $'HTTP/1.1 403 Forbidden\r' ]
	grep -q '^X-Backend: www' "$W/out"
	grep -q 'GET /next' "$W/www.log"
	! grep -q '/admin' "$W/www.log"
	run log_line 1
	[[ "$output" == *' fe fe/<NOSRV> 0/-1/-1/-1/'*' 403 189 - - PR-- '*'"GET /admin HTTP/1.1"' ]]
	close_req /admin | exact "${PAGE_403/'\r\n\r\n'/'\r\nconnection: close\r\n\r\n'}"
}

@test "deny deny_status N: the built-in page of N; deny status N with a payload is built like return" {
	rules_proxy <<-'EOF'
	    http-request deny deny_status 429 if { path /slow }
	    http-request deny deny_status 404 if { path /gone }
	    http-request deny status 429 content-type text/plain string "slow down" hdr Retry-After 10 if { path /s2 }
	EOF
	printf 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n'
	printf 'GET /gone HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n'
	printf 'GET /s2 HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 429 Too Many Requests\r\nretry-after: 10\r\ncontent-length: 9\r\ncontent-type: text/plain\r\n\r\nslow down'
	[ ! -s "$W/www.log" ]
}

@test "deny uses the proxy's errorfile for its status" {
	printf 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope\n' > "$W/403.http"
	rules_proxy <<-EOF
	    errorfile 403 $W/403.http
	    http-request deny
	EOF
	printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 403 Forbidden\r\ncontent-length: 5\r\n\r\nnope\n'
}

@test "return: no payload, a status, hdr lines first, 2.6's reason phrases, errorfile and default-errorfiles" {
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nef\n' > "$W/ef.http"
	rules_proxy <<-EOF
	    http-request return if { path /empty }
	    http-request return status 404 if { path /nf }
	    http-request return status 200 content-type text/plain string pong hdr X-A "a b" if { path /ping }
	    http-request return content-type text/plain string hello status 201 if { path /any-order }
	    http-request return status 302 hdr Location /x if { path /moved }
	    http-request return status 418 if { path /teapot }
	    http-request return status 299 if { path /class }
	    http-request return errorfile $W/ef.http if { path /ef }
	    http-request return status 503 default-errorfiles if { path /def }
	EOF
	printf 'GET /empty HTTP/1.1\r\nHost: t\r\n\r\n' | exact 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'
	printf 'GET /nf HTTP/1.1\r\nHost: t\r\n\r\n' | exact 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'
	printf 'GET /ping HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 200 OK\r\nx-a: a b\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\npong'
	printf 'GET /any-order HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 201 Created\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello'
	printf 'GET /moved HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 302 Moved Temporarily\r\nlocation: /x\r\ncontent-length: 0\r\n\r\n'
	printf 'GET /teapot HTTP/1.1\r\nHost: t\r\n\r\n' | exact "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 0\r\n\r\n"
	printf 'GET /class HTTP/1.1\r\nHost: t\r\n\r\n' | exact 'HTTP/1.1 299 Success\r\ncontent-length: 0\r\n\r\n'
	printf 'GET /ef HTTP/1.1\r\nHost: t\r\n\r\n' | exact 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nef\n'
	printf 'GET /def HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'
	run log_line 1
	[[ "$output" == *' fe fe/<NOSRV> '*' 200 '*' - - LR-- '*'"GET /empty HTTP/1.1"' ]]
	[ ! -s "$W/www.log" ]
}

@test "auth: 401 with the realm (the proxy's name by default) as the last header" {
	rules_proxy <<-'EOF'
	    http-request auth if { path /a }
	    http-request auth realm "My Realm" if { path /b }
	EOF
	printf 'GET /a HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="fe"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n'
	printf 'GET /b HTTP/1.1\r\nHost: t\r\n\r\n' | raw -t 3000 -q 300 | grep -q $'^www-authenticate: Basic realm="My Realm"\r$'
	run log_line 1
	[[ "$output" == *' 401 '*' - - LR-- '* ]]
}

@test "tarpit: held for timeout tarpit, then 500, logged PT with the hold as Tw" {
	rules_proxy <<-'EOF'
	    timeout tarpit 600ms
	    http-request tarpit if { path /slow }
	EOF
	start=$(date +%s%N)
	printf 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n' | exact "$PAGE_500"
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$took" -ge 550 ]
	run log_line 1
	[[ "$output" =~ \ fe\ fe/\<NOSRV\>\ -1/(5[5-9][0-9]|[6-9][0-9][0-9])/-1/-1/[0-9]+\ 500\ .*\ -\ -\ PT--\  ]]
	[ ! -s "$W/www.log" ]
}

@test "tarpit: without timeout tarpit a listen section holds for its timeout connect, a frontend not at all" {
	start_backend www
	free_ports 2; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	listen li
	    bind 127.0.0.1:${PORTS[0]}
	    timeout connect 700ms
	    http-request tarpit
	    server w1 127.0.0.1:$BPORT_www
	frontend fe
	    bind 127.0.0.1:${PORTS[1]}
	    http-request tarpit
	    default_backend li
	EOF
	start=$(date +%s%N)
	close_req / | raw -p "${PORTS[0]}" -t 3000 | head -1 | grep -q '500 Internal'
	[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 650 ]
	start=$(date +%s%N)
	close_req / | "$T/rawclient" -p "${PORTS[1]}" -t 3000 | head -1 | grep -q '500 Internal'
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 600 ]
}

@test "reject: nothing sent, the connection closed, the request line logged with PR--" {
	rules_proxy <<-'EOF'
	    http-request reject if { path /reject }
	EOF
	refused 'GET /reject HTTP/1.1\r\nHost: t\r\n\r\n' -
	run log_line 1
	[[ "$output" == *' fe fe/<NOSRV> 0/-1/-1/-1/'*' -1 0 - - PR-- '*'"GET /reject HTTP/1.1"' ]]
}

@test "header rewrites: set-header moves to the end, add-header appends, del-header, replace-header, replace-value (2.6's bytes)" {
	rules_proxy <<-'EOF'
	    http-request set-header X-Set new if { path /set }
	    http-request add-header X-Dup added if { path /add }
	    http-request del-header X-Dup if { path /del }
	    http-request del-header x-d -m beg if { path /delbeg }
	    http-request replace-header X-Dup ^(a)(.*) \2-\1 if { path /rh }
	    http-request replace-value X-Dup ^([a-z])$ <\1> if { path /rv }
	EOF
	dup='X-Dup: a\r\nX-Dup: b, c\r\n'
	close_req /set "X-Set: old\r\n$dup" | raw > /dev/null
	server_saw | grep -q $'^X-Dup: b, c\nx-set: new\nConnection: close$' || { server_saw >&2; false; }
	! server_saw | grep -q 'X-Set: old'
	: > "$W/www.log"
	close_req /add "$dup" | raw > /dev/null
	server_saw | grep -q $'^X-Dup: a\nX-Dup: b, c\nx-dup: added$'
	: > "$W/www.log"
	close_req /del "$dup" | raw > /dev/null
	! server_saw | grep -qi '^x-dup'
	: > "$W/www.log"
	close_req /delbeg "X-Da: 1\r\nX-Keep: 2\r\n$dup" | raw > /dev/null
	! server_saw | grep -qi '^x-d[au]'
	server_saw | grep -q '^X-Keep: 2'
	: > "$W/www.log"
	close_req /rh "$dup" | raw > /dev/null
	server_saw | grep -q $'^X-Dup: -a\nX-Dup: b, c$' || { server_saw >&2; false; }
	: > "$W/www.log"
	close_req /rv "X-Dup: a\r\nX-Dup: b, c, dd\r\n" | raw > /dev/null
	server_saw | grep -q $'^X-Dup: <a>\nX-Dup: <b>,<c>,dd$' || { server_saw >&2; false; }
}

@test "request line: set-path, set-query, set-uri (Host follows an absolute one), set-method" {
	rules_proxy <<-'EOF'
	    http-request set-path /newpath if { path /setpath }
	    http-request set-query a=1&b=2 if { path /setq }
	    http-request set-uri /u2 if { path /seturi2 }
	    http-request set-uri http://other.example/u?z=1 if { path /seturi }
	    http-request set-method POST if { path /setm }
	EOF
	close_req '/setpath?q=1' | raw > /dev/null
	server_saw | grep -q '^GET /newpath?q=1 HTTP/1.1$'
	close_req '/setq?old=1' | raw > /dev/null
	server_saw | grep -q '^GET /setq?a=1&b=2 HTTP/1.1$'
	close_req '/seturi2?x' | raw > /dev/null
	server_saw | grep -q '^GET /u2 HTTP/1.1$'
	: > "$W/www.log"
	close_req /seturi | raw > /dev/null
	server_saw | grep -q '^GET http://other.example/u?z=1 HTTP/1.1$'
	server_saw | grep -q '^Host: other.example$'
	! server_saw | grep -q '^Host: t$'
	close_req /setm | raw > /dev/null
	server_saw | grep -q '^POST /setm HTTP/1.1$'
	# the log keeps the request line as received
	run log_line 1
	[[ "$output" == *'"GET /setpath?q=1 HTTP/1.1"' ]]
}

@test "request line: replace-path, replace-pathq, replace-uri (2.6's: a match replaces the whole part)" {
	rules_proxy <<-'EOF'
	    http-request replace-path /strip(/.*)? \1 if { path_beg /strip }
	    http-request replace-path ^/p/([a-z]+)/([0-9]+)$ /n/\2/\1
	    http-request replace-pathq ^/pq/(.*)\?(.*) /pq2/\2?\1
	    http-request replace-uri ^/abs/(.*) http://abs.example/\1
	    http-request replace-uri ^http://old\.example/(.*) /\1 if { url_beg http://old.example/ }
	EOF
	close_req '/strip/chat/room?x=1' | raw > /dev/null
	server_saw | grep -q '^GET /chat/room?x=1 HTTP/1.1$'
	# "\1" of a group that took no part is empty, and a request line
	# without a path is not sent (2.6 sends "GET ?y=2"): 2.6's 500
	: > "$W/www.log"
	close_req '/strip?y=2' | raw > "$W/empty.out"
	[ "$(head -1 "$W/empty.out")" = $'HTTP/1.1 500 Internal Server Error\r' ]
	[ ! -s "$W/www.log" ]
	close_req '/p/abc/42?q' | raw > /dev/null
	server_saw | grep -q '^GET /n/42/abc?q HTTP/1.1$'
	# no match: the URI as it came
	close_req '/p/abc/x42' | raw > /dev/null
	server_saw | grep -q '^GET /p/abc/x42 HTTP/1.1$'
	close_req '/pq/a?b' | raw > /dev/null
	server_saw | grep -q '^GET /pq2/b?a HTTP/1.1$'
	: > "$W/www.log"
	close_req '/abs/u?z=1' | raw > /dev/null
	server_saw | grep -q '^GET http://abs.example/u?z=1 HTTP/1.1$'
	server_saw | grep -q '^Host: abs.example$'
	printf 'GET http://old.example/o?k HTTP/1.1\r\nHost: old.example\r\nConnection: close\r\n\r\n' | raw > /dev/null
	server_saw | grep -q '^GET /o?k HTTP/1.1$'
	server_saw | grep -q '^Host: old.example$'
	# the log keeps the request line as received
	run log_line 1
	[[ "$output" == *'"GET /strip/chat/room?x=1 HTTP/1.1"' ]]
}

@test "replace-path on a kept-alive connection and a WebSocket upgrade: /websockets stripped, each request afresh" {
	# in the backend, as a WebSocket site strips its prefix: the
	# frontend routed on the path as it came
	BE_LINES='    http-request replace-path /websockets(/.*) \1' \
	rules_proxy <<-'EOF'
	    use_backend api if { path_beg /plain }
	EOF
	printf 'GET /websockets/a HTTP/1.1\r\nHost: t\r\n\r\nGET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		raw -t 3000 > "$W/two.out"
	[ "$(grep -c '^HTTP/1.1 200' "$W/two.out")" -eq 2 ]
	grep -q 'backend=www' "$W/two.out"
	grep -q 'backend=api' "$W/two.out"
	server_saw | grep -q '^GET /a HTTP/1.1$'
	tr -d '\r' < "$W/api.log" | grep -q '^GET /plain HTTP/1.1$'
	# the upgrade reaches www as /chat, and the tunnel echoes
	run "$T/wsclient" -p "$PPORT" -u /websockets/chat -n 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 3 messages"* ]]
	server_saw | grep -q '^GET /chat HTTP/1.1$'
}

@test "order: frontend rules, use_backend on what they wrote, backend rules; allow ends only its own list" {
	BE_LINES='    http-request add-header X-Order be1' rules_proxy <<-'EOF'
	    use_backend api if { hdr(x-route) api }
	    http-request add-header X-Order fe1
	    http-request set-header X-Route api if { path /to-api }
	    http-request allow if { path /allowed }
	    http-request add-header X-Order fe2
	EOF
	grep -q "a 'http-request' rule placed after a 'use_backend' rule will still be processed before." "$W/proxy.err"
	close_req / | raw > /dev/null
	server_saw | grep -q $'^x-order: fe1\nx-order: fe2\nx-order: be1$' || { server_saw >&2; false; }
	: > "$W/www.log"
	close_req /allowed | raw > /dev/null
	server_saw | grep -q $'^x-order: fe1\nx-order: be1$'
	close_req /to-api | raw | grep -q '^X-Backend: api'
	! tr -d '\r' < "$W/api.log" | grep -q 'be1'
}

@test "a listen section's rules run once, and a backend's deny is logged with the backend" {
	start_backend www
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log local0
	    option httplog
	    default_backend li
	listen li
	    http-request add-header X-Once 1
	    http-request deny if { path /no }
	    server w1 127.0.0.1:$BPORT_www
	EOF
	close_req / | raw > /dev/null
	[ "$(grep -c '^x-once' "$W/www.log")" = 1 ]
	close_req /no | raw | head -1 | grep -q '403 Forbidden'
	run log_line 2
	[[ "$output" == *' fe li/<NOSRV> '*' 403 '*' PR-- '* ]]
}

@test "a denied request's body is read and discarded; the next request on the connection is served" {
	rules_proxy <<-'EOF'
	    http-request deny if { path /post }
	EOF
	printf 'POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n@@@0123456789GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		raw -d 200 -t 3000 > "$W/out"
	head -1 "$W/out" | grep -q '403 Forbidden'
	grep -q '^X-Backend: www' "$W/out"
	grep -q 'GET /after' "$W/www.log"
	! grep -q '0123456789' "$W/www.log"
	printf 'POST /post HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n@@@0\r\n\r\nGET /after2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		raw -d 200 -t 3000 | grep -q '^X-Backend: www'
	grep -q 'GET /after2' "$W/www.log"
}

@test "http-response: backend rules then frontend rules, set-status, del-header" {
	BE_LINES='    http-response add-header X-ROrder be1' rules_proxy <<-'EOF'
	    http-response add-header X-ROrder fe1
	    http-response del-header X-Backend if { path /never }
	    http-response del-header Content-Type
	    http-response set-status 404 if { status 200 } { hdr(x-backend) www }
	EOF
	close_req / | raw > "$W/out"
	tr -d '\r' < "$W/out" > "$W/out.txt"
	head -1 "$W/out.txt" | grep -qx 'HTTP/1.1 404 Not Found'
	grep -q $'^x-rorder: be1' "$W/out.txt"
	grep -A1 '^x-rorder: be1' "$W/out.txt" | grep -q '^x-rorder: fe1'
	# path is a request fetch: never true in a response rule, as in 2.6
	grep -q '^X-Backend: www' "$W/out.txt"
	! grep -qi '^content-type' "$W/out.txt"
	run log_line 1
	[[ "$output" == *' fe www/w1 '*' 404 '* ]]
}

@test "http-response set-status with a reason, and a response deny: 502 page, PH-- logged" {
	rules_proxy <<-'EOF'
	    http-response set-status 299 reason "Very OK" if { status 200 }
	    http-response deny if { res.hdr(x-backend) -m str api }
	    use_backend api if { path_beg /api }
	EOF
	close_req / | raw | head -1 | grep -qx $'HTTP/1.1 299 Very OK\r'
	close_req /api | raw | head -1 | grep -qx $'HTTP/1.1 502 Bad Gateway\r'
	run log_line 2
	[[ "$output" == *' fe api/a1 '*' 502 '*' PH-- '* ]]
}

@test "WebSocket: request rules reach the upgrade, response rules the 101, the tunnel echoes" {
	BE_LINES='    http-response set-header X-WS seen' rules_proxy <<-'EOF'
	    http-request set-header X-Added yes
	    http-response add-header X-FE-Seen 1
	    http-request deny if { path /ws-denied }
	EOF
	run "$T/wsclient" -p "$PPORT" -u /chat -n 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 3 messages"* ]]
	grep -qi $'^x-ws: seen\r' <<< "$output"
	grep -qi $'^x-fe-seen: 1\r' <<< "$output"
	grep -q '^x-added: yes' "$W/www.log"
	run "$T/wsclient" -p "$PPORT" -u /ws-denied -n 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"403"* ]]
}

@test "a rewrite that does not fit is 2.6's 500, logged IR--, and nothing reaches the server" {
	start_backend www
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	global
	    tune.http.maxhdr 4
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log local0
	    option httplog
	    http-request add-header X-A 1
	    http-request add-header X-B 2
	    default_backend www
	backend www
	    server w1 127.0.0.1:$BPORT_www
	EOF
	printf 'GET / HTTP/1.1\r\nHost: t\r\nX-1: 1\r\nX-2: 2\r\n\r\n' | raw -t 3000 | head -1 | grep -q '500 Internal'
	[ ! -s "$W/www.log" ]
	run log_line 1
	[[ "$output" == *' 500 '*' IR-- '* ]]
	close_req / | raw | grep -q '^X-Backend: www'
}

@test "values: %[fetch,converter] and %ci in set-header, return and lf-string; a fetched value stays on its line" {
	rules_proxy <<-'EOF'
	    http-request set-header X-Client %[src]:%cp
	    http-request set-header X-Host %[req.hdr(host),lower]
	    http-request add-header X-Echo "%[req.hdr(x-in)]"
	    http-request return status 200 content-type text/plain lf-string "ip=%[src] host=%[req.hdr(host)]" hdr X-A "%[src]" if { path /lf }
	    http-request set-path /p/%[method] if { path /m }
	EOF
	printf 'GET / HTTP/1.1\r\nHost: Ex.Com:81\r\nX-In: v1, v2\r\nX-In: v3\r\nConnection: close\r\n\r\n' |
		raw > /dev/null
	server_saw | grep -qE '^x-client: 127\.0\.0\.1:[0-9]+$'
	server_saw | grep -q '^x-host: ex.com:81$'
	server_saw | grep -q '^x-echo: v3$'
	printf 'GET /lf HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 200 OK\r\nx-a: 127.0.0.1\r\ncontent-length: 19\r\ncontent-type: text/plain\r\n\r\nip=127.0.0.1 host=t'
	close_req /m | raw > /dev/null
	server_saw | grep -q '^GET /p/GET HTTP/1.1$'
	# an obs-fold or bare CR is refused by the parser before any rule;
	# a value with a control byte is %-encoded, never a new line
	: > "$W/www.log"
	close_req / 'X-In: a\tb\r\n' | raw > /dev/null
	[ "$(grep -c '^x-echo' "$W/www.log")" = 1 ]
}

@test "http-request auth with a userlist: 401 until the credentials are right, then the request goes on" {
	EXTRA_SECTIONS=$'userlist admins\n    user alice insecure-password s3cret' \
	    rules_proxy <<-'EOF'
	    http-request auth realm Admins unless { http_auth(admins) } || !{ path_beg /admin }
	EOF
	curl -s -i -m 5 "http://127.0.0.1:$PPORT/admin/x" > "$W/out"
	head -1 "$W/out" | grep -q '401 Unauthorized'
	grep -q $'^www-authenticate: Basic realm="Admins"\r$' "$W/out"
	curl -s -i -m 5 -u alice:wrong "http://127.0.0.1:$PPORT/admin/x" | head -1 | grep -q '401'
	curl -s -i -m 5 -u alice:s3cret "http://127.0.0.1:$PPORT/admin/x" | grep -q '^X-Backend: www'
	curl -s -i -m 5 "http://127.0.0.1:$PPORT/public" | grep -q '^X-Backend: www'
}

@test "http-request redirect: a value-format target, after the rules before it, before use_backend" {
	rules_proxy <<-'EOF'
	    http-request set-header X-Target /moved%[path]
	    http-request redirect location %[req.hdr(x-target)] code 301 if { path_beg /old }
	    use_backend api if { path_beg /old }
	EOF
	printf 'GET /old/a HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /moved/old/a\r\n\r\n'
	[ ! -s "$W/api.log" ]
	run log_line 1
	[[ "$output" == *' fe fe/<NOSRV> '*' 301 '*' LR-- '* ]]
}

# cfg_error LINE MESSAGE: a frontend with LINE fails -c with FILE:LINE.
cfg_error() {
	printf 'defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    %s\n' "$1" > "$W/bad.cfg"
	run "$WSPROXY" -c -f "$W/bad.cfg"
	[ "$status" -eq 1 ] || { echo "accepted: $1" >&2; return 1; }
	[[ "$output" == *"$W/bad.cfg:5: "*"$2"* ]] || {
		echo "for: $1" >&2; echo "got: $output" >&2; return 1; }
}

@test "configuration errors name the file and line with 2.6's messages" {
	cfg_error 'http-request set-header X-E ""' "'http-request set-header' rule : expects exactly 2 arguments."
	cfg_error 'http-request set-header X-E' "expects exactly 2 arguments."
	cfg_error 'http-request set-query ""' "expects exactly 1 argument <format>."
	cfg_error 'http-request replace-header X-A ^a' "expects exactly 3 arguments."
	cfg_error 'http-request replace-path ^/a' "'http-request replace-path' rule : expects exactly 2 arguments <match-regex> and <replace-format>."
	cfg_error 'http-request replace-uri' "expects exactly 2 arguments <match-regex> and <replace-format>."
	cfg_error 'http-request replace-pathq (x /b' "'http-request replace-pathq' rule : "
	cfg_error 'http-request replace-path ^(?=a) /b' "lookaround assertions are PCRE-only"
	cfg_error 'http-response replace-path ^/a /b' "but got 'replace-path'"
	cfg_error 'http-request bogus' "'http-request' expects 'add-header', 'allow', 'auth'"
	cfg_error 'http-request set-var(txn.x) path' "but got 'set-var(txn.x)'"
	cfg_error 'http-request sc-add-gpc(0,0) 1' "but got 'sc-add-gpc(0,0)'"
	cfg_error 'http-response tarpit' "'http-response' expects 'add-header', 'allow', 'del-header', 'deny'"
	cfg_error 'http-request deny foo' "'http-request deny' rule : expects either 'if' or 'unless' followed by a condition but found 'foo'."
	cfg_error 'http-request deny if { path /x } extra' "no such ACL : 'extra'"
	cfg_error 'http-request deny if' "'if' is not followed by a condition"
	cfg_error 'http-request deny deny_status 418' "status code '418' not handled by default with 'default-errorfiles' argument.."
	cfg_error 'http-request deny deny_status 999' "Unexpected status code '999'."
	cfg_error 'http-request return status 700' "Unexpected status code '700'."
	cfg_error 'http-request return status 200 string pong' "a content type must be defined when non-empty payload is configured."
	cfg_error 'http-request return status 418 default-errorfiles' "status code '418' not handled by default"
	cfg_error 'http-request return errorfile /nonexistent/file' "error opening file '/nonexistent/file'"
	cfg_error 'http-request return errorfiles myerrors' "'errorfiles' needs 'http-errors' sections"
	cfg_error 'http-request auth realm' "missing realm value."
	cfg_error 'http-response set-status 1000' "expects an integer status code between 100 and 999."
	cfg_error 'http-response set-status abc' "expects an integer status code between 100 and 999."
	cfg_error 'http-request set-header Content-Length 5' "rewriting 'Content-Length' would change how the message is framed"
	cfg_error 'http-request del-header transfer-encoding' "rewriting 'transfer-encoding' would change"
	cfg_error 'http-request del-header X -m foo' "-m : expects 'str', 'beg', 'end', 'sub' or 'reg' but got 'foo'."
	cfg_error 'http-request replace-value X (?=a) b' "lookaround assertions are PCRE-only"
	cfg_error 'http-request set-header "X Y" v' "invalid header name 'X Y'."
	cfg_error 'http-request set-header X %[nosuch]' "failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."
	cfg_error 'http-request set-header X %[src,nosuchconv]' "unknown converter 'nosuchconv'."
	cfg_error 'http-response set-header X %[path]' "'http-response set-header' rule : "
	cfg_error 'http-request redirect bogus /x' "'http-request redirect' rule : "
}

@test "rules need mode http, and are not allowed in defaults" {
	printf 'defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n    http-request deny\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n' > "$W/tcp.cfg"
	run "$WSPROXY" -c -f "$W/tcp.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"tcp.cfg:5: 'http-request' rules need 'mode http' in frontend 'fe'"* ]]
	printf 'defaults\n    mode http\n    http-request deny\n' > "$W/def.cfg"
	run "$WSPROXY" -c -f "$W/def.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"def.cfg:3: 'http-request' not allowed in 'defaults' section."* ]]
}
