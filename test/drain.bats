#!/usr/bin/env bats
# What the runtime socket's server commands do to live traffic: drain
# keeps the open WebSocket tunnels and sends new connections elsewhere,
# maintenance also stops the health checks, "disable health" stops them
# alone, weights steer the balancing, "shutdown sessions server" closes
# that server's tunnels (logged 'K'), and a reload keeps it all.

load helpers

# the runtime socket is spoken to with socat
TEST_NEEDS=socat

cli() {
	printf '%s\n' "$1" | socat -t 5 stdio "UNIX-CONNECT:$W/admin.sock"
}

# drain_backends: backends a and b, the UDP log sink log1.
drain_backends() {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	start_backend b
	start_udpsink log1
}

# drain_proxy: backend "be" behind $PPORT, an admin socket, traffic
# logged (httplog) to log1; the backend's lines on stdin (when empty, a
# and b without checks, roundrobin). After drain_backends.
drain_proxy() {
	free_ports 1; PPORT=${PORTS[0]}
	servers=$(cat)
	[ -n "$servers" ] || servers="    server a 127.0.0.1:$BPORT_a
    server b 127.0.0.1:$BPORT_b"
	{ echo "global"
	  echo "    stats socket $W/admin.sock level admin"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  defaults_section
	  echo "    log global"
	  echo "    option httplog"
	  echo "    timeout tunnel 20s"
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    default_backend be"
	  echo "backend be"
	  echo "$servers"
	} > "$W/drain.cfg"
	start_proxy < "$W/drain.cfg"
}

# open_tunnel OUT IDLE_MS: a WebSocket client that idles IDLE_MS after
# its handshake, then sends 2 messages; its output in OUT. Sets WS_PID
# once the tunnel is up.
open_tunnel() {
	local before
	before=$(cat "$W"/a.log "$W"/b.log 2>/dev/null | grep -c '^Sec-WebSocket-Key: ' || true)
	"$T/wsclient" -p "$PPORT" -u /ws -n 2 -w "$2" > "$1" 2>&1 &
	WS_PID=$!
	STARTED_PIDS+=("$WS_PID")
	wait_for 50 handshakes $((before + 1))
	# open once the client has the 101 (it prints backend= then), not
	# only once the server has the request: a shutdown in between would
	# close an exchange, not a tunnel
	wait_for_line "$1" '^backend='
}

@test "drain: the open tunnel keeps echoing, new connections go to the other server" {
	drain_backends
	drain_proxy <<-EOF
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b disabled
	EOF
	# b in maintenance: the tunnel goes to a
	open_tunnel "$W/ws.out" 2500
	grep -q '^Sec-WebSocket-Key: ' "$W/a.log"
	run cli "set server be/b state ready"
	[ "$output" = "" ]
	run cli "set server be/a state drain"
	[ "$output" = "" ]
	wait_for_line "$W/proxy.err" "Server be/a enters drain state\. 1 active and 0 backup servers online\."
	run sequence 4
	[ "$output" = "b b b b" ]
	# the drained server still holds its tunnel
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,0,0,1,"*",DRAIN,"* ]]
	wait "$WS_PID"
	grep -q "backend=a" "$W/ws.out"
	grep -q "ok 2 messages" "$W/ws.out"
	run cli "set server be/a state ready"
	wait_for_line "$W/proxy.err" "Server be/a is UP \(leaving forced drain\)\."
	run sequence 4
	[[ "$output" == *a* ]]
}

@test "drain the only server: 503, while its tunnel goes on" {
	drain_backends
	drain_proxy <<-EOF
	    server a 127.0.0.1:$BPORT_a
	EOF
	open_tunnel "$W/ws.out" 1500
	cli "set server be/a state drain"
	wait_for_line "$W/proxy.err" "backend be has no server available!"
	run http_get /
	[[ "${lines[0]}" == "HTTP/1."*" 503 "* ]]
	wait "$WS_PID"
	grep -q "ok 2 messages" "$W/ws.out"
}

@test "maint: no new connections, and its health checks stop; ready brings both back" {
	drain_backends
	drain_proxy <<-EOF
	    option httpchk GET /health
	    server a 127.0.0.1:$BPORT_a check inter 100
	    server b 127.0.0.1:$BPORT_b check inter 100
	EOF
	wait_for 30 count_at_least 3 'GET /health' "$W/a.log" ||
		{ cat "$W/a.log" "$W/proxy.err" "$W/proxy.cfg"; false; }
	run cli "set server be/a state maint"
	[ "$output" = "" ]
	wait_for_line "$W/proxy.err" "Server be/a is going DOWN for maintenance\."
	sleep 0.3       # a probe already under way may still land
	checks=$(count_matches 'GET /health' "$W/a.log")
	run sequence 4
	[ "$output" = "b b b b" ]
	sleep 0.7       # 7 intervals: none is probed
	[ "$(count_matches 'GET /health' "$W/a.log")" -eq "$checks" ]
	# b's checks go on
	bchecks=$(count_matches 'GET /health' "$W/b.log")
	wait_for 20 count_at_least $((bchecks + 2)) 'GET /health' "$W/b.log"
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,"*",MAINT,"* ]]
	run cli "set server be/a state ready"
	wait_for_line "$W/proxy.err" "Server be/a is UP/READY \(leaving forced maintenance\)\."
	wait_for 20 count_at_least $((checks + 2)) 'GET /health' "$W/a.log"
	run sequence 4
	[[ "$output" == *a* ]]
}

@test "a server leaving maintenance that fails its first check goes DOWN" {
	drain_backends
	drain_proxy <<-EOF
	    server a 127.0.0.1:$BPORT_a check inter 100 fall 3
	    server b 127.0.0.1:$BPORT_b
	EOF
	cli "disable server be/a"
	kill -TERM "$(cat "$W/a.pid")"
	cli "enable server be/a"
	# out of maintenance at health "rise": one failure is enough
	wait_for_line "$W/proxy.err" "Server be/a is DOWN" 20
}

@test "disable health: no more checks, the server keeps its state and its traffic" {
	drain_backends
	drain_proxy <<-EOF
	    option httpchk GET /health
	    server a 127.0.0.1:$BPORT_a check inter 100
	    server b 127.0.0.1:$BPORT_b
	EOF
	wait_for 30 count_at_least 3 'GET /health' "$W/a.log"
	run cli "disable health be/a"
	[ "$output" = "" ]
	sleep 0.3
	checks=$(count_matches 'GET /health' "$W/a.log")
	sleep 0.8
	[ "$(count_matches 'GET /health' "$W/a.log")" -eq "$checks" ]
	run sequence 4
	[ "$output" = "a b a b" ] || [ "$output" = "b a b a" ]
	run cli "show servers state be"
	[[ "${lines[2]}" =~ ^[0-9]+\ be\ 1\ a\ 127\.0\.0\.1\ 2\ 0\ 1\ 1\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ 2\  ]]
	run cli "enable health be/a"
	[ "$output" = "" ]
	wait_for 20 count_at_least $((checks + 2)) 'GET /health' "$W/a.log"
}

@test "weights: set server weight steers roundrobin, weight 0 takes nothing new" {
	drain_backends
	drain_proxy < /dev/null
	run sequence 4
	[ "$(tr ' ' '\n' <<< "$output" | grep -c a)" -eq 2 ]
	cli "set server be/b weight 3"
	run sequence 8
	[ "$(tr ' ' '\n' <<< "$output" | grep -c a)" -eq 2 ]
	[ "$(tr ' ' '\n' <<< "$output" | grep -c b)" -eq 6 ]
	cli "set server be/a weight 0"
	run sequence 4
	[ "$output" = "b b b b" ]
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,"*",no check,0,1,0,"* ]]
	cli "set server be/a weight 100%"
	run sequence 4
	[[ "$output" == *a* ]]
}

@test "shutdown sessions server: its tunnel closes, the child exits, logged K" {
	drain_backends
	drain_proxy < /dev/null
	run sequence 2          # a, then b: the tunnel below goes to a
	[ "$output" = "a b" ]
	open_tunnel "$W/ws.out" 5000
	grep -q '^Sec-WebSocket-Key: ' "$W/a.log"
	children=$(pgrep -P "$PROXY_PID" | wc -l)
	run cli "shutdown sessions server be/b"
	[ "$output" = "" ]
	sleep 0.3
	alive "$WS_PID"         # not b's: untouched
	run cli "shutdown sessions server be/a"
	[ "$output" = "" ]
	run wait "$WS_PID"
	[ "$status" -eq 3 ]     # closed by the peer while idle
	grep -q "closed after idle" "$W/ws.out"
	wait_for_line "$W/log1.udp" 'GET /ws '
	grep 'GET /ws ' "$W/log1.udp" | grep -q ' be/a .* 101 .* KD-- '
	wait_for 30 test "$(pgrep -P "$PROXY_PID" | wc -l)" -lt "$children"
	! grep -q "killed by signal" "$W/proxy.err"
	# the server itself is untouched
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,0,0,0,"*",no check,"* ]]
}

@test "a reload keeps drain, maintenance, weights and disabled checks of servers that remain" {
	drain_backends
	drain_proxy <<-EOF
	    server a 127.0.0.1:$BPORT_a check inter 200
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_b
	EOF
	cli "set server be/a state drain; disable health be/a; set server be/b weight 7; set server be/c state maint"
	# a reload that drops c and adds d
	sed -i "s/^    server c /    server d /" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	run cli "show servers state be"
	[[ "${lines[2]}" =~ ^[0-9]+\ be\ 1\ a\ 127\.0\.0\.1\ 2\ 8\ 1\ 1\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ 2\  ]]
	[[ "${lines[3]}" =~ ^[0-9]+\ be\ 2\ b\ 127\.0\.0\.1\ 2\ 0\ 7\ 1\  ]]
	[[ "${lines[4]}" =~ ^[0-9]+\ be\ 3\ d\ 127\.0\.0\.1\ 2\ 0\ 1\ 1\  ]]
	run sequence 3
	[ "$output" = "b b b" ] || [ "$output" = "b d b" ] || [ "$output" = "d b b" ] ||
		[ "$output" = "b b d" ]
	# a change in the file wins over a weight set at runtime? no: the
	# runtime weight stays, as long as the server does
	run cli "get weight be/b"
	[ "$output" = "7 (initial 1)" ]
}

@test "shutdown sessions reaches a tunnel opened before two reloads" {
	drain_backends
	drain_proxy <<-EOF
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b disabled
	EOF
	open_tunnel "$W/ws.out" 6000
	grep -q '^Sec-WebSocket-Key: ' "$W/a.log"
	# the second reload unmaps the first one's generation, which has
	# no child: a's tunnel is two generations behind, a reordered
	sed -i "s/^    server a \(.*\)/    server z 127.0.0.1:$BPORT_b\n    server a \1/" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	kill -HUP "$PROXY_PID"
	wait_for 50 count_at_least 2 "reloaded" "$W/proxy.err"
	run cli "shutdown sessions server be/z"
	[ "$output" = "" ]
	sleep 0.3
	alive "$WS_PID"
	run cli "shutdown sessions server be/a"
	[ "$output" = "" ]
	run wait "$WS_PID"
	[ "$status" -eq 3 ]
	wait_for_line "$W/log1.udp" 'GET /ws '
	grep 'GET /ws ' "$W/log1.udp" | grep -q ' KD-- '
}
