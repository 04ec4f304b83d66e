#!/usr/bin/env bats
# tcp-request connection, session and content rules (HAProxy 2.6's
# semantics, config-reference.md 10.1 and 10.2): who is rejected by its
# source (127.0.0.1 and 127.0.0.2 are two clients), that a rejected
# connection costs no fork, the PROXY header's addresses for session
# rules, content rules per request in mode http and at the start in mode
# tcp, first match wins, what is logged, and every configuration error.

load helpers

GET_CLOSE='GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

# rules_proxy: backends www and ws, a UDP log sink "log1", a frontend
# "public" on $PPORT with httplog, /ws to ws, else www. Frontend lines on
# stdin; BACKEND_WS_LINES go into backend ws, PUBLIC_MODE sets the mode.
rules_proxy() {
	start_backend www
	start_backend ws
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT ${BIND_PARAMS:-}"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  echo "    option httplog"
	  echo "    use_backend ws if { path_beg /ws }"
	  echo "    default_backend www"
	  cat
	  echo "backend www"
	  echo "    server www1 127.0.0.1:$BPORT_www"
	  echo "backend ws"
	  echo "${BACKEND_WS_LINES:-}"
	  echo "    server ws1 127.0.0.1:$BPORT_ws"
	} > "$W/proxy.cfg.in"
	start_proxy < "$W/proxy.cfg.in"
}

# from SRC [rawclient args]: GET_CLOSE sent from the source address SRC;
# the answer on stdout, rawclient's exit status as the status.
from() {
	local src="$1"; shift
	printf "$GET_CLOSE" | "$T/rawclient" -b "$src" -p "$PPORT" "$@" 2>/dev/null
}

# served: $output is a 200 from a backend.
served() {
	[ "$status" -eq 0 ] && [[ "$output" == "HTTP/1.1 200 OK"* ]]
}

# reset_unanswered: the client got a reset and not one byte.
reset_unanswered() {
	[ "$status" -eq 5 ] && [ -z "$output" ]
}

# closed_unanswered: a close (no reset), not one byte.
closed_unanswered() {
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

# ---- tcp-request connection ----

@test "connection reject by src: 127.0.0.2 gets a reset and nothing else, 127.0.0.1 is served, only it is logged" {
	rules_proxy <<-'EOF'
	    tcp-request connection reject if { src 127.0.0.2 }
	EOF
	run from 127.0.0.2
	reset_unanswered
	run from 127.0.0.1
	served
	run from 127.0.0.2
	reset_unanswered
	[ "$(count_matches '^GET /one' "$W/www.log")" -eq 1 ]
	wait_for_line "$W/log1.udp" '127\.0\.0\.1:[0-9]+ .* public www/www1 .* 200 '
	# 2.6 logs no line for a connection reject: only the one served
	sleep 0.3
	[ "$(grep -c . "$W/log1.udp")" -eq 1 ]
	! grep -q '127\.0\.0\.2' "$W/log1.udp"
}

# forks_traced FILE: the clone/fork calls strace saw in the parent.
forks_traced() {
	grep -cE '^(clone|clone3|fork|vfork)\(' "$1" || true
}

@test "a rejected connection costs no fork: the parent rejects it before forking" {
	daemon_only "the parent's forks"
	command -v strace >/dev/null || skip "needs strace"
	rules_proxy <<-'EOF'
	    tcp-request connection reject if { src 127.0.0.2 }
	EOF
	before=$(pgrep -P "$PROXY_PID" | wc -l)
	strace -p "$PROXY_PID" -e trace=clone,clone3,fork,vfork \
		-o "$W/forks.trace" 2> "$W/strace.err" 3>&- &
	tracer=$!
	STARTED_PIDS+=("$tracer")
	wait_for_line "$W/strace.err" 'attached' ||
		skip "strace cannot attach here (ptrace not allowed)"
	for i in 1 2 3 4 5; do
		run from 127.0.0.2
		reset_unanswered
	done
	[ "$(pgrep -P "$PROXY_PID" | wc -l)" -eq "$before" ]
	[ "$(forks_traced "$W/forks.trace")" -eq 0 ]
	# the trace does see a fork: an accepted client that stays idle
	# keeps its child
	"$T/rawclient" -b 127.0.0.1 -p "$PPORT" -t 1500 < /dev/null \
		> /dev/null 2>&1 &
	idle=$!
	wait_for 30 count_at_least 1 '^clone' "$W/forks.trace"
	[ "$(pgrep -P "$PROXY_PID" | wc -l)" -eq $((before + 1)) ]
	wait "$idle" || true
	kill -INT "$tracer"
	wait "$tracer" || true
	[ "$(forks_traced "$W/forks.trace")" -eq 1 ]
}

@test "connection rules: the first that matches decides, accept included; none matching accepts" {
	rules_proxy <<-'EOF'
	    tcp-request connection accept if { src 127.0.0.2 }
	    tcp-request connection reject if { src 127.0.0.0/8 }
	    tcp-request connection reject
	EOF
	run from 127.0.0.2
	served
	run from 127.0.0.1
	reset_unanswered
	run from 127.0.0.3
	reset_unanswered
}

@test "connection reject unless: everyone but the named source is reset" {
	rules_proxy <<-'EOF'
	    tcp-request connection reject unless { src 127.0.0.2 } || LOCALHOST FALSE
	EOF
	run from 127.0.0.2
	served
	run from 127.0.0.1
	reset_unanswered
}

@test "connection rules see dst_port: one bind of two is closed to everyone" {
	free_ports 1; closed_port=${PORTS[0]}
	BIND_PARAMS="" rules_proxy <<-EOF
	    bind 127.0.0.1:$closed_port
	    tcp-request connection reject if { dst_port $closed_port }
	EOF
	run from 127.0.0.1
	served
	run from 127.0.0.1 -p "$closed_port"
	reset_unanswered
}

@test "connection rules in inetd mode (-i): rejected before anything is read, nothing on fd 2" {
	WSPROXY_MODE=inetd rules_proxy <<-'EOF'
	    tcp-request connection reject if { src 127.0.0.2 }
	EOF
	run from 127.0.0.2
	reset_unanswered
	run from 127.0.0.1
	served
	[ "$(count_matches '^GET /one' "$W/www.log")" -eq 1 ]
}

@test "an ACL that needs the request never matches in a connection rule (2.6 warns)" {
	rules_proxy <<-'EOF'
	    tcp-request connection reject if { path /one }
	    tcp-request connection reject unless { hdr(host) x }
	EOF
	run "$WSPROXY" -c -f "$W/proxy.cfg"
	grep -q "proxy.cfg:[0-9]*: warning: anonymous acl will never match in 'tcp-request connection' because it uses keyword 'path' which is incompatible with 'frontend tcp-request connection rule'" <<< "$output"
	# the first never matches; the second's "unless" then always does
	run from 127.0.0.1
	reset_unanswered
}

# ---- tcp-request session ----

@test "session rules see the PROXY header's source; connection rules the peer's" {
	daemon_only "accept-proxy does not apply to a connection inetd hands over"
	BIND_PARAMS=accept-proxy rules_proxy <<-'EOF'
	    tcp-request connection reject if { src 192.0.2.0/24 }
	    tcp-request session reject if { src 192.0.2.0/24 }
	EOF
	printf 'PROXY TCP4 198.51.100.7 198.51.100.1 40001 80\r\nGET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' > "$W/ok.in"
	run "$T/rawclient" -p "$PPORT" < "$W/ok.in"
	served
	printf 'PROXY TCP4 192.0.2.30 198.51.100.1 40002 80\r\n' > "$W/bad.in"
	run "$T/rawclient" -p "$PPORT" -s < "$W/bad.in"
	closed_unanswered
	[ "$(count_matches '^GET /one' "$W/www.log")" -eq 1 ]
	# 2.6 logs the embryonic connection's end: its error line, "Success"
	wait_for_line "$W/log1.udp" '192\.0\.2\.30:40002 \[.*\] public/1: Success$'
	wait_for_line "$W/log1.udp" '198\.51\.100\.7:40001 .* public www/www1 .* 200 '
}

@test "session reject without accept-proxy: closed, not logged" {
	rules_proxy <<-'EOF'
	    tcp-request session reject if { src 127.0.0.2 }
	EOF
	# nothing sent: unread bytes would turn the close into a reset
	run "$T/rawclient" -b 127.0.0.2 -p "$PPORT" -s < /dev/null
	closed_unanswered
	run from 127.0.0.1
	served
	wait_for_line "$W/log1.udp" ' 200 '
	sleep 0.3
	[ "$(grep -c . "$W/log1.udp")" -eq 1 ]
}

@test "session reject with accept-proxy and dontlognull: not logged" {
	daemon_only "accept-proxy does not apply to a connection inetd hands over"
	BIND_PARAMS=accept-proxy rules_proxy <<-'EOF'
	    option dontlognull
	    tcp-request session reject
	EOF
	printf 'PROXY TCP4 192.0.2.30 198.51.100.1 40002 80\r\n' > "$W/bad.in"
	run "$T/rawclient" -p "$PPORT" -s < "$W/bad.in"
	closed_unanswered
	# garbage is still logged: the sink works
	printf 'hello\r\n' | "$T/rawclient" -p "$PPORT" > /dev/null 2>&1 || true
	wait_for_line "$W/log1.udp" 'public/1: Received something'
	[ "$(count_matches Success "$W/log1.udp")" -eq 0 ]
}

# ---- tcp-request content, mode http ----

@test "content rules run per request: the second request of a keep-alive connection is rejected, nothing sent" {
	rules_proxy <<-'EOF'
	    tcp-request content reject if { hdr(x-bad) 1 }
	EOF
	printf 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nX-Bad: 1\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\n\r\n' > "$W/ka.in"
	run "$T/rawclient" -p "$PPORT" -t 3000 < "$W/ka.in"
	[ "$status" -eq 0 ]                     # our FIN
	[ "$(grep -c '^HTTP/1.1 200' <<< "$output")" -eq 1 ]
	grep -q '^GET /first' "$W/www.log"
	! grep -q '^GET /second' "$W/www.log"
	! grep -q '^GET /third' "$W/www.log"
	wait_for_line "$W/log1.udp" ' public public/<NOSRV> -1/-1/-1/-1/[0-9]+ -1 0 - - PR-- .* "<BADREQ>"$'
	grep -q '"GET /first HTTP/1.1"$' "$W/log1.udp"
}

@test "content accept ends the list; reject unless; no rule matching lets the request through" {
	rules_proxy <<-'EOF'
	    tcp-request content accept if { hdr(x-vip) yes }
	    tcp-request content reject unless { path_beg /open }
	EOF
	run http_get /open/door
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	run http_get /closed -H 'X-VIP: yes'
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	run http_get /closed
	[ -z "$output" ]
	# only the VIP's /closed reached the server
	[ "$(count_matches '^GET /closed' "$W/www.log")" -eq 1 ]
	[ "$(count_matches '^X-VIP: yes' "$W/www.log")" -eq 1 ]
}

@test "the frontend's content rules run before monitor-uri" {
	rules_proxy <<-'EOF'
	    monitor-uri /healthz
	    tcp-request content reject if { hdr(x-bad) 1 }
	EOF
	run http_get /healthz
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"Service ready."* ]]
	run http_get /healthz -H 'X-Bad: 1'
	[ -z "$output" ]
}

@test "a backend's content rules run after routing, for its requests only, logged with the request line" {
	BACKEND_WS_LINES='    tcp-request content reject if { hdr(x-bad) 1 }' \
		rules_proxy < /dev/null
	run http_get /ws/x -H 'X-Bad: 1'
	[ -z "$output" ]
	run http_get /www -H 'X-Bad: 1'
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	run http_get /ws/y
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	! grep -q '^GET /ws/x' "$W/ws.log"
	wait_for_line "$W/log1.udp" ' public ws/<NOSRV> [0-9]+/-1/-1/-1/[0-9]+ -1 0 - - PR-- .*"GET /ws/x HTTP/1.1"$'
}

# ---- tcp-request content, mode tcp ----

@test "mode tcp: content rules run at the start with layer-4 fetches; a reject closes, logged PR" {
	start_backend www
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    mode tcp
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log1 local0
	    option tcplog
	    tcp-request inspect-delay 2s
	    tcp-request content reject if { src 127.0.0.2 }
	    default_backend www
	backend www
	    mode tcp
	    server www1 127.0.0.1:$BPORT_www
	EOF
	run from 127.0.0.1
	served
	start=$(date +%s%N)
	run from 127.0.0.2
	closed_unanswered
	# layer-4 rules wait for no data, whatever inspect-delay says
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1500 ]
	[ "$(count_matches '^GET /one' "$W/www.log")" -eq 1 ]
	wait_for_line "$W/log1.udp" '127\.0\.0\.2:[0-9]+ .* public public/<NOSRV> -1/-1/[0-9]+ 0 PR '
}

@test "mode tcp: a backend's content rules run once it is chosen" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    mode tcp
	    bind 127.0.0.1:$PPORT
	    default_backend www
	backend www
	    mode tcp
	    tcp-request content reject if { src 127.0.0.2 }
	    server www1 127.0.0.1:$BPORT_www
	EOF
	run from 127.0.0.2
	closed_unanswered
	run from 127.0.0.1
	served
}

# ---- configuration ----

# check_cfg: the frontend lines on stdin in a minimal file; -c's output
# and status.
check_cfg() {
	{ echo "defaults"
	  echo "    mode http"
	  echo "    timeout client 1s"
	  echo "    timeout connect 1s"
	  echo "    timeout server 1s"
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:8080"
	  cat
	  echo "    default_backend be"
	  echo "backend be"
	  echo "    server s 127.0.0.1:1"
	} > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
}

@test "every accept/reject form is valid without a diagnostic" {
	check_cfg <<-'EOF'
	    acl local src 127.0.0.0/8
	    tcp-request inspect-delay 5s
	    tcp-request connection accept if local
	    tcp-request connection reject unless { dst_port 80:90 } || TRUE
	    tcp-request session reject if { src 10.0.0.0/8 } !local
	    tcp-request session accept
	    tcp-request content reject if { hdr(x-bad) -i yes }
	    tcp-request content accept
	EOF
	[ "$status" -eq 0 ]
	! grep -q 't.cfg:[0-9]*: ' <<< "$output"
}

# error LINE MESSAGE: -c failed, naming LINE of t.cfg with MESSAGE.
error() {
	[ "$status" -eq 1 ] || { echo "status $status: $output"; return 1; }
	grep -qF "t.cfg:$1: $2" <<< "$output" || { echo "got: $output"; return 1; }
}

@test "config errors: missing or unknown words, with 2.6's messages and FILE:LINE" {
	check_cfg <<< '    tcp-request'
	error 8 "missing argument for 'tcp-request' in frontend 'fe'"
	check_cfg <<< '    tcp-request bogus reject'
	error 8 "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in frontend 'fe' (got 'bogus')"
	check_cfg <<< '    tcp-request content bogus'
	error 8 "'tcp-request content' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2' in frontend 'fe' (got 'bogus')."
	check_cfg <<< '    tcp-request connection'
	error 8 "'tcp-request connection' expects 'accept', 'reject'"
	check_cfg <<< '    tcp-request content reject foo'
	error 8 "'tcp-request content reject' only accepts 'if' or 'unless', in frontend 'fe' (got 'foo')"
	check_cfg <<< '    tcp-request content reject if nosuch'
	error 8 "'tcp-request content reject' : error detected in frontend 'fe' while parsing 'if' condition : no such ACL : 'nosuch'"
	check_cfg <<< '    tcp-request inspect-delay'
	error 8 "'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'fe'"
	check_cfg <<< '    tcp-request inspect-delay abc'
	error 8 "'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'fe' (unexpected character 'a')"
}

@test "config errors: actions wsproxy does not implement are refused, not ignored" {
	for action in 'capture req.hdr(host) len 10' \
	    'set-var(sess.x) int(1)' 'silent-drop' 'expect-proxy layer4' \
	    'sc-inc-gpc(0,0)' 'sc-set-gpt(0,0) 1' 'set-src hdr(x)' 'lua.foo'; do
		check_cfg <<< "    tcp-request connection $action"
		error 8 "'tcp-request connection ${action%% *}' is not implemented by wsproxy"
	done
	check_cfg <<< '    tcp-request content silent-drop'
	error 8 "'tcp-request content silent-drop' is not implemented by wsproxy"
}

@test "config errors: connection and session rules only where there is a frontend; none in defaults" {
	{ echo "backend be"
	  echo "    tcp-request connection reject"
	  echo "    tcp-request session reject"
	  echo "    tcp-request content reject"
	  echo "defaults"
	  echo "    tcp-request content reject"
	  echo "defaults named"
	  echo "    tcp-request connection reject"
	  echo "    tcp-request inspect-delay 1s"
	  echo "listen li"
	  echo "    bind 127.0.0.1:8080"
	  echo "    tcp-request connection reject if { src 10.0.0.1 }"
	  echo "    tcp-request session reject if { src 10.0.0.1 }"
	} > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	error 2 "tcp-request connection is not allowed because backend be is not a frontend"
	error 3 "tcp-request session is not allowed because backend be is not a frontend"
	! grep -q 't.cfg:4: [^w]' <<< "$output"
	error 6 "tcp-request content is not allowed in anonymous 'defaults' sections"
	error 8 "'tcp-request connection' rules in a 'defaults' section are not implemented by wsproxy"
	! grep -q 't.cfg:9: ' <<< "$output"
	! grep -q 't.cfg:1[23]: ' <<< "$output"
}

@test "config error: a content rule that inspects the request in mode tcp is refused" {
	check_cfg <<-'EOF'
	    mode tcp
	    tcp-request content reject if { src 10.0.0.1 }
	    tcp-request content reject if HTTP
	    tcp-request content reject if { hdr(x) 1 }
	EOF
	error 10 "tcp frontend 'fe': 'tcp-request content' rules that inspect the request's content are not implemented by wsproxy in tcp mode"
	error 11 "tcp frontend 'fe': 'tcp-request content' rules"
	! grep -q 't.cfg:9: ' <<< "$output"
}

@test "warnings: 2.6's for ACLs that need content at layer 4, and for misplaced rules" {
	check_cfg <<-'EOF'
	    acl api path_beg /api
	    acl mixed src 10.0.0.1
	    acl mixed path /x
	    tcp-request connection reject if api
	    tcp-request session reject if mixed
	    use_backend be if api
	    tcp-request content reject if api
	    tcp-request connection accept
	EOF
	[ "$status" -eq 0 ]
	grep -qF "t.cfg:11: warning: acl 'api' will never match in 'tcp-request connection' because it only involves keywords that are incompatible with 'frontend tcp-request connection rule'" <<< "$output"
	grep -qF "t.cfg:12: warning: acl 'mixed' involves keyword 'path' which is incompatible with 'frontend tcp-request session rule'" <<< "$output"
	grep -qF "t.cfg:14: warning: a 'tcp-request' rule placed after a 'use_backend' rule will still be processed before." <<< "$output"
	grep -qF "t.cfg:15: warning: a 'tcp-request' rule placed after a 'tcp-request session' rule will still be processed before." <<< "$output"
	! grep -q 't.cfg:1[03]: ' <<< "$output"
}

@test "warning: inspect-delay set twice" {
	check_cfg <<-'EOF'
	    tcp-request inspect-delay 1s
	    tcp-request inspect-delay 2s
	EOF
	[ "$status" -eq 0 ]
	grep -qF "t.cfg:9: warning: ignoring tcp-request inspect-delay (was already defined) in frontend 'fe'" <<< "$output"
}
