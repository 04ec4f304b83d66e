#!/usr/bin/env bats
# Thousands of connections, some aborted mid-way, then the parent must be
# exactly as it was: same descriptors, no zombie, no memory growth. And
# the child path under valgrind: no leak, no invalid access.

load helpers

# start_stress_proxy: www by default, ws for /ws*, a 2 s http-request
# timeout for the aborted heads.
start_stress_proxy() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	    timeout http-request 2s
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend ws if { path_beg /ws }
	    default_backend www
	$(classic_backends)
	EOF
}

rss_kb() {
	awk '/^VmRSS/ { print $2 }' /proc/"$1"/status
}

# wait_no_children PID: up to 20 s for every child to be gone.
# fds_are PID N: the process holds exactly N descriptors.
fds_are() {
	[ "$(ls /proc/"$1"/fd | wc -l)" -eq "$2" ]
}

wait_no_children() {
	wait_for 200 no_children "$1"
}

@test "a few thousand connections, some aborted: no descriptor, zombie or memory left" {
	start_stress_proxy
	u="http://127.0.0.1:$PPORT"
	curl -s -m 10 -o /dev/null -H 'Connection: close' $(for i in $(seq 20); do echo "$u/warm$i"; done)
	wait_no_children "$PROXY_PID"
	fds_before=$(ls /proc/"$PROXY_PID"/fd | wc -l)
	rss_before=$(rss_kb "$PROXY_PID")
	# 1000 HTTP requests, one connection each
	curl -s -m 120 -o /dev/null -H 'Connection: close' $(for i in $(seq 1000); do echo "$u/r$i"; done)
	# 400 WebSocket sessions
	"$T/wsclient" -p "$PPORT" -u /ws/s -q -c 200 -n 2
	"$T/wsclient" -p "$PPORT" -u /ws/s -q -c 200 -n 2 -b
	# 800 aborted mid-head, mid-tunnel and mid-response
	for i in $(seq 400); do
		exec 5<>/dev/tcp/127.0.0.1/"$PPORT"
		printf 'GET /abort%d HTTP/1.1\r\nHo' "$i" >&5
		exec 5>&-
	done
	for i in $(seq 200); do
		exec 5<>/dev/tcp/127.0.0.1/"$PPORT"
		printf 'GET /ws/raw HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\npartial' >&5
		exec 5>&-
	done
	for i in $(seq 200); do
		exec 5<>/dev/tcp/127.0.0.1/"$PPORT"
		printf 'GET /big/2000000 HTTP/1.1\r\nHost: x\r\n\r\n' >&5
		exec 5>&-
	done
	wait_no_children "$PROXY_PID"
	# Connections the clients gave up on may still wait in the listen
	# queue of a loaded machine: the parent then holds one for an
	# instant, between its accept and its fork. A leak never goes.
	wait_for 100 fds_are "$PROXY_PID" "$fds_before" ||
	    { ls -l /proc/"$PROXY_PID"/fd; false; }
	wait_no_children "$PROXY_PID"
	[ "$(ps -o stat= --ppid "$PROXY_PID" | grep -c Z || true)" -eq 0 ]
	rss_after=$(rss_kb "$PROXY_PID")
	echo "# parent RSS: $rss_before kB before, $rss_after kB after" >&3
	[ "$rss_after" -le $((rss_before + 256)) ]
	# and it still serves
	run curl -s -m 5 "$u/after"
	[[ "$output" == *"backend=www"* ]]
}

@test "valgrind: the child path has no leak and no invalid access" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	# the sanitizer pass of CI has the sanitizers' own checks instead
	not_sanitized "valgrind cannot run it"
	start_backend www
	start_backend ws
	start_udpsink log1
	cat > "$W/vg.cfg" <<-EOF
	global
	    log 127.0.0.1:$UPORT_log1 local0
	$(defaults_section)
	    log global
	    option httplog
	    option forwardfor
	frontend public
	    bind 127.0.0.1:1
	    use_backend ws if { path_beg /ws } || { hdr(Upgrade) -i websocket }
	    default_backend www
	$(classic_backends)
	EOF
	vg=(valgrind -q --error-exitcode=99 --leak-check=full
	    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)
	# HTTP over pipes: keep-alive, bodies, chunked answers, a refused upgrade, a bad response
	printf '%s' \
	    $'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' \
	    $'POST /ws/b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' \
	    $'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' \
	    $'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n' \
	    $'GET /ws-refuse HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n' \
	    $'GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n' |
		"${vg[@]}" "$WSPROXY" -i -f "$W/vg.cfg" > "$W/out" 2> "$W/vg1.log" || {
			cat "$W/vg1.log" >&2; false; }
	[ "$(grep -ao 'HTTP/1.1 200 OK' "$W/out" | wc -l)" -eq 4 ]
	grep -aq 'HTTP/1.1 403 ' "$W/out"
	grep -aq 'HTTP/1.1 502 ' "$W/out"
	# a bad request, and a WebSocket session over a socket
	printf 'BAD\r\n\r\n' | "${vg[@]}" "$WSPROXY" -i -f "$W/vg.cfg" > /dev/null 2> "$W/vg2.log" || {
		cat "$W/vg2.log" >&2; false; }
	command -v socat >/dev/null || skip "socat is not installed"
	free_ports 1; PPORT=${PORTS[0]}
	socat TCP-LISTEN:"$PPORT",bind=127.0.0.1,reuseaddr \
		EXEC:"valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$W/vg3.log $WSPROXY -i -f $W/vg.cfg",nofork 3>&- &
	socat_pid=$!
	wait_for_listen "$PPORT" "$socat_pid"
	"$T/wsclient" -p "$PPORT" -u /ws/vg -q -n 3 -s 70000 -f 2 > "$W/ws.out" 2>&1
	grep -q 'ok 3 messages' "$W/ws.out"
	wait "$socat_pid" || true
	[ ! -s "$W/vg3.log" ] || { cat "$W/vg3.log" >&2; false; }
}
