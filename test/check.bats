#!/usr/bin/env bats
# Health checks: the checker process marks servers DOWN and UP (TCP and
# HTTP checks, HAProxy's counter and messages), load balancing follows,
# existing tunnels are left alone, and the checker is re-forked if it
# dies. The test backends name themselves in X-Backend.

load helpers

# check_proxy "backend lines...": a frontend on $PPORT with default
# backend "be"; the backend section follows verbatim. Messages go to
# $W/proxy.err.
check_proxy() {
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode http
	    option http-server-close
	    retries 0
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend be
	$1
	EOF
}

# restart_backend NAME PORT: the backend NAME again, on its old port.
restart_backend() {
	rm -f "$W/$1.pid"
	"$T/backend" -p "$2" -n "$1" -l "$W/$1.log" -P "$W/$1.pid" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/$1.pid"
}

# stop_backend NAME: kills the backend we started, and waits for it.
stop_backend() {
	local pid
	pid=$(cat "$W/$1.pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
}

# checker: prints the pid of the proxy's health checker (it names
# itself), if there is one.
checker() {
	pgrep -P "$PROXY_PID" -x wsproxy-check
}

# checker_pid: the checker; it is forked just after the pid file is
# written, so wait for it.
checker_pid() {
	wait_for 20 checker > /dev/null && checker
}

# new_checker OLD: there is a checker and it is not OLD.
new_checker() {
	new=$(checker) && [ -n "$new" ] && [ "$new" != "$1" ]
}

# now_ms: for timing a transition.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

@test "a killed server is DOWN within fall x inter, traffic moves, and it is back after rise checks" {
	start_backend a
	start_backend b
	start_backend c
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check inter 200 fall 2 rise 2
	    server b 127.0.0.1:$BPORT_b check inter 200 fall 2 rise 2
	    server c 127.0.0.1:$BPORT_c check inter 200 fall 2 rise 2"
	run sequence 3
	[ "$output" = "a b c" ]
	# time for a few passed checks, every counter at its top (TCP
	# checks leave nothing in the backend's log to wait for)
	sleep 0.5
	stop_backend a
	t0=$(now_ms)
	# fall x inter = 400 ms, plus one interval of phase and a margin
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 10
	t1=$(now_ms)
	[ $((t1 - t0)) -le 900 ]
	grep -F 'Server be/a is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: ' "$W/proxy.err"
	grep -F '2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.' "$W/proxy.err"
	run sequence 6
	[[ "$output" != *a* ]]
	[ "$(grep -o b <<< "$output" | wc -l)" -eq 3 ]
	[ "$(grep -o c <<< "$output" | wc -l)" -eq 3 ]
	restart_backend a "$BPORT_a"
	t0=$(now_ms)
	wait_for_line "$W/proxy.err" "Server be/a is UP" 10
	t1=$(now_ms)
	[ $((t1 - t0)) -le 900 ]        # rise x inter = 400 ms
	grep -F 'Server be/a is UP, reason: Layer4 check passed, check duration: ' "$W/proxy.err"
	grep -F '3 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.' "$W/proxy.err"
	run sequence 6
	[ "$(grep -o a <<< "$output" | wc -l)" -eq 2 ]
}

@test "a server that is down at start is DOWN after its first failed check" {
	start_backend b
	free_ports 1
	dead=${PORTS[0]}
	check_proxy "backend be
	    server a 127.0.0.1:$dead check inter 1s fall 3 rise 2
	    server b 127.0.0.1:$BPORT_b check inter 1s fall 3 rise 2"
	# one check, not fall (3 s): a fresh server sits at the threshold
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 18
	grep -F '1 active and 0 backup servers left.' "$W/proxy.err"
	run sequence 4
	[ "$output" = "b b b b" ]
	! grep -q "be/b is DOWN" "$W/proxy.err"
}

@test "all servers DOWN: 503 at once, and the backend has no server available" {
	free_ports 2
	check_proxy "backend be
	    timeout connect 2s
	    server a 127.0.0.1:${PORTS[0]} check inter 200
	    server b 127.0.0.1:${PORTS[1]} check inter 200"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	wait_for_line "$W/proxy.err" "Server be/b is DOWN" 20
	wait_for_line "$W/proxy.err" "backend be has no server available!" 5
	grep -F '0 active and 0 backup servers left.' "$W/proxy.err"
	t0=$(now_ms)
	run http_get /
	t1=$(now_ms)
	[[ "${lines[0]}" == "HTTP/1."*" 503 "* ]]
	[ $((t1 - t0)) -lt 1000 ]       # no connect was even tried
}

@test "httpchk: a 500 on the check URI is DOWN with the Layer7 message" {
	start_backend a
	check_proxy "backend be
	    option httpchk GET /status/500
	    server a 127.0.0.1:$BPORT_a check inter 200"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	grep -F 'Server be/a is DOWN, reason: Layer7 wrong status, code: 500, info: "Test", check duration: ' "$W/proxy.err"
	grep -F 'backend be has no server available!' "$W/proxy.err"
	# the request HAProxy sends: the line, then Connection: close
	grep -q $'^GET /status/500 HTTP/1.0\r$' "$W/a.log"
	grep -q $'^Connection: close\r$' "$W/a.log"
	run http_get /
	[[ "${lines[0]}" == "HTTP/1."*" 503 "* ]]
}

@test "httpchk: the default request is OPTIONS / HTTP/1.0; a 2xx or 3xx passes" {
	start_backend a
	check_proxy "backend be
	    option httpchk
	    server a 127.0.0.1:$BPORT_a check inter 100"
	# five checks passed, not one DOWN
	wait_for 20 count_at_least 5 "^OPTIONS / HTTP/1.0" "$W/a.log"
	! grep -q "is DOWN" "$W/proxy.err"
	run who
	[ "$output" = a ]
}

@test "httpchk: a server coming up is UP with the Layer7 message" {
	free_ports 1
	port=${PORTS[0]}
	check_proxy "backend be
	    option httpchk GET /
	    server a 127.0.0.1:$port check inter 200 rise 2"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	grep -F 'reason: Layer4 connection problem, info: "Connection refused"' "$W/proxy.err"
	restart_backend a "$port"
	wait_for_line "$W/proxy.err" "Server be/a is UP" 20
	grep -F 'Server be/a is UP, reason: Layer7 check passed, code: 200, info: "OK", check duration: ' "$W/proxy.err"
	run who
	[ "$output" = a ]
}

@test "http-check expect status 204: only that status passes" {
	start_backend a
	start_backend b
	check_proxy "backend be
	    option httpchk GET /status/204
	    http-check expect status 204
	    server a 127.0.0.1:$BPORT_a check inter 100
	backend other
	    option httpchk GET /
	    http-check expect status 204
	    server b 127.0.0.1:$BPORT_b check inter 100"
	wait_for_line "$W/proxy.err" "Server other/b is DOWN" 20
	grep -F 'Server other/b is DOWN, reason: Layer7 wrong status, code: 200, info: "OK"' "$W/proxy.err"
	grep -F 'backend other has no server available!' "$W/proxy.err"
	# a's checks run beside b's, but a loaded machine may log them late
	wait_for 30 eval '[ "$(count_matches "GET /status/204" "$W/a.log")" -ge 2 ]'
	! grep -q "be/a is DOWN" "$W/proxy.err"
	run who
	[ "$output" = a ]
}

# timeout_duration: the DOWN line says Layer7 timeout; sets $ms to its
# check duration.
timeout_duration() {
	local line
	line=$(grep "Server be/a is DOWN" "$W/proxy.err")
	[[ "$line" == *"reason: Layer7 timeout, check duration: "* ]] || return 1
	ms=$(sed 's/.*check duration: \([0-9]*\)ms.*/\1/' <<< "$line")
}

@test "timeout check bounds the read; a silent server is a Layer7 timeout" {
	start_backend a
	check_proxy "backend be
	    timeout check 300ms
	    option httpchk GET /sleep/3000
	    server a 127.0.0.1:$BPORT_a check inter 2s"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	timeout_duration
	[ "$ms" -ge 300 ] && [ "$ms" -lt 1000 ]
}

@test "without timeout check, inter is the whole check's timeout" {
	start_backend a
	check_proxy "backend be
	    option httpchk GET /sleep/3000
	    server a 127.0.0.1:$BPORT_a check inter 400"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	timeout_duration
	[ "$ms" -ge 400 ] && [ "$ms" -lt 1000 ]
}

@test "fastinter while the counter climbs, inter at the top" {
	start_backend a
	# fresh: health 2 of 0..4, so two checks at fastinter, then inter
	check_proxy "backend be
	    option httpchk GET /status/200
	    server a 127.0.0.1:$BPORT_a check inter 10s fastinter 100 rise 2 fall 3"
	sleep 1.5       # the window under test: two checks in it, not more
	[ "$(count_matches 'GET /status/200' "$W/a.log")" -eq 2 ]
}

@test "downinter while DOWN" {
	start_backend a
	check_proxy "backend be
	    option httpchk GET /status/500
	    server a 127.0.0.1:$BPORT_a check inter 100 downinter 10s"
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	sleep 1         # the window under test: no check at inter 100
	[ "$(count_matches 'GET /status/500' "$W/a.log")" -eq 1 ]
}

@test "an existing tunnel to a server that goes DOWN stays open" {
	start_backend a
	start_backend probe
	# the check goes to "probe" (port): a's service port keeps working
	check_proxy "backend be
	    timeout tunnel 10s
	    server a 127.0.0.1:$BPORT_a check port $BPORT_probe inter 100 fall 1"
	"$T/wsclient" -p "$PPORT" -u /ws -q -n 2 -w 1500 > "$W/ws.out" 2>&1 &
	ws=$!
	wait_for_line "$W/a.log" "Sec-WebSocket-Key" 20
	stop_backend probe
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 10
	grep -F '1 sessions active' "$W/proxy.err"
	run http_get /
	[[ "${lines[0]}" == "HTTP/1."*" 503 "* ]]
	wait "$ws"
	grep -q "ok 2 messages" "$W/ws.out"
}

@test "a checker killed with SIGKILL is re-forked and checks go on" {
	start_backend a
	start_backend b
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check inter 100 fall 2
	    server b 127.0.0.1:$BPORT_b check inter 100 fall 2"
	old=$(checker_pid)
	[ -n "$old" ]
	kill -KILL "$old"
	wait_for_line "$W/proxy.err" "health checker killed by signal 9; restarting it"
	wait_for 30 new_checker "$old"
	# not a connection: the proxy still serves, and the new one checks
	run who
	[ -n "$output" ]
	sleep 1.2       # past the re-fork's one-second delay
	stop_backend a
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
	run sequence 3
	[ "$output" = "b b b" ]
}

@test "the checker goes with the proxy, and a reload starts a new one" {
	start_backend a
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check inter 100"
	old=$(checker_pid)
	[ -n "$old" ]
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	wait_for 30 new_checker "$old"
	wait_for 20 gone "$old"
	! grep -q "health checker killed" "$W/proxy.err"
	stop_proxy
	wait_for 20 gone "$new"
}

@test "the checker dies with a parent killed by SIGKILL" {
	start_backend a
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check inter 100"
	pid=$(checker_pid)
	[ -n "$pid" ]
	kill -KILL "$PROXY_PID"
	wait "$PROXY_PID" || true
	wait_for 20 gone "$pid"
}

@test "disabled servers and servers without check are never checked" {
	start_backend b
	free_ports 2
	# b's checks are HTTP ones, so that they can be counted
	check_proxy "backend be
	    option httpchk GET /alive
	    server a 127.0.0.1:${PORTS[0]} check inter 100 disabled
	    server c 127.0.0.1:${PORTS[1]}
	    server b 127.0.0.1:$BPORT_b check inter 100"
	wait_for 30 count_at_least 5 '^GET /alive ' "$W/b.log"
	! grep -q "is DOWN" "$W/proxy.err"
}

@test "no checker without a checked server" {
	start_backend a
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a"
	# the checker would be forked before this line is logged
	wait_for_line "$W/proxy.err" ' started: '
	! checker
}

@test "a server without a port and without a check port: check disabled" {
	cat > "$W/p.cfg" <<-EOF
	defaults
	    mode http
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	backend be
	    server a 127.0.0.1 check
	    server b 127.0.0.1 check port 8080
	EOF
	run "$WSPROXY" -c -f "$W/p.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"'server be/a' has neither service port nor check port. Check has been disabled."* ]]
	[[ "$output" != *"be/b"* ]]
}

@test "send-proxy: checks send a PROXY header first" {
	start_backend a
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check send-proxy inter 100"
	wait_for_line "$W/a.log" "^PROXY TCP4 127.0.0.1 127.0.0.1 " 20
}

@test "check messages go to the backend's log targets" {
	start_udpsink logs
	free_ports 1
	check_proxy "backend be
	    log 127.0.0.1:$UPORT_logs local0
	    server a 127.0.0.1:${PORTS[0]} check inter 100"
	wait_for_line "$W/logs.udp" "Server be/a is DOWN, reason: Layer4 connection problem" 20
	# alert (1) and emerg (0) on local0 (16)
	grep -q '^<129>.*Server be/a is DOWN' "$W/logs.udp"
	wait_for_line "$W/logs.udp" '^<128>.*backend be has no server available!'
	grep -q "Server be/a is DOWN" "$W/proxy.err"
}

@test "httpchk: headers after the version with escapes, as in HAProxy 1.x" {
	start_backend a
	check_proxy "backend be
	    option httpchk GET /health HTTP/1.1\\r\\nHost:\\ www.example.com
	    server a 127.0.0.1:$BPORT_a check inter 100"
	wait_for_line "$W/a.log" "^Host: www.example.com" 20
	grep -q $'^GET /health HTTP/1.1\r$' "$W/a.log"
	wait_for 20 count_at_least 3 '^Host: www.example.com' "$W/a.log"
	! grep -q "is DOWN" "$W/proxy.err"
}

@test "send-proxy-v2: checks send a v2 LOCAL header first" {
	start_backend a
	check_proxy "backend be
	    server a 127.0.0.1:$BPORT_a check send-proxy-v2 inter 100"
	wait_for_file "$W/a.log" 20
	# the signature, then version 2 with the LOCAL command (0x20)
	run od -An -tx1 -N13 "$W/a.log"
	[ "$(echo $output)" = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 20" ]
}
