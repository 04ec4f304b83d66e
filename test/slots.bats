#!/usr/bin/env bats
# Shared slots outlive no child: whatever way a connection's child ends
# (here SIGKILL, as the OOM killer would), the parent gives back the
# server slot, the backend connection and the queue place it held, so a
# "maxconn 1" server stays usable and leastconn counts only live
# connections.

load helpers

# slots_proxy BALANCE "server lines...": a frontend on $PPORT with one
# backend "be"; httplog lines go to $W/proxy.err. No health check: every
# child of the proxy serves a connection.
slots_proxy() {
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode http
	    option http-server-close
	    retries 0
	    timeout connect 1s
	    timeout client 10s
	    timeout server 10s
	    timeout queue ${QUEUE_TIMEOUT:-1s}
	frontend public
	    bind 127.0.0.1:$PPORT
	    log stderr format raw local0
	    option httplog
	    default_backend be
	backend be
	    balance $1
	$2
	EOF
}

# proxy_children: the pids of the proxy's children, one a line, sorted.
proxy_children() {
	pgrep -P "$PROXY_PID" | sort -n || true
}

# new_child BEFORE: waits for a child of the proxy that is not in the
# list BEFORE (the output of an earlier proxy_children); prints its pid.
new_child() {
	local before="$1" i pid
	for ((i = 0; i < 50; i++)); do
		pid=$(comm -13 <(echo "$before") <(proxy_children) | head -1)
		if [ -n "$pid" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	echo "no new child of $PROXY_PID" >&2
	return 1
}

# kill_child PID: SIGKILL, then waits until the parent has reaped it.
kill_child() {
	local i
	kill -KILL "$1"
	for ((i = 0; i < 50; i++)); do
		proxy_children | grep -qx "$1" || return 0
		sleep 0.1
	done
	echo "child $1 not reaped" >&2
	return 1
}

# wait_count N PATTERN FILE: until PATTERN occurs N times in FILE.
wait_count() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(count_matches "$2" "$3")" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "'$2' not $1 times in $3" >&2
	return 1
}

# timed_get PATH: one request; sets output (status line) and elapsed (ms).
timed_get() {
	local start=$(date +%s%N)
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT$1"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
}

@test "a child killed while it holds a maxconn 1 server's slot gives the slot back" {
	start_backend a
	slots_proxy roundrobin "    server a 127.0.0.1:$BPORT_a maxconn 1"
	local before victim
	before=$(proxy_children)
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/sleep/4000" 3>&- &
	STARTED_PIDS+=("$!")
	victim=$(new_child "$before")
	# the request reached the server: the child holds the only slot
	wait_count 1 '^GET /sleep' "$W/a.log"
	kill_child "$victim"
	timed_get /
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -lt 800 ]
	# served at once (no queue time); logged once its slot is back:
	# nothing left on the backend or the server (%bc/%sc 0/0)
	wait_for_line "$W/proxy.err" '"GET / HTTP/1.1"'
	grep '"GET / HTTP/1.1"' "$W/proxy.err" |
		grep -E 'be/a [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 .* 1/1/0/0/0 0/0 '
}

@test "a child killed while queued leaves the queue, and the next request is served at once" {
	start_backend a
	QUEUE_TIMEOUT=5s slots_proxy roundrobin \
	    "    server a 127.0.0.1:$BPORT_a maxconn 1"
	local before holder queued first
	before=$(proxy_children)
	curl -s -m 5 -o "$W/first.out" "http://127.0.0.1:$PPORT/sleep/1500" \
		3>&- &
	first=$!
	STARTED_PIDS+=("$first")
	holder=$(new_child "$before")
	wait_count 1 '^GET /sleep' "$W/a.log"
	before=$(proxy_children)
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/queued" 3>&- &
	STARTED_PIDS+=("$!")
	queued=$(new_child "$before")
	[ "$queued" != "$holder" ]
	sleep 0.3       # it has read its request and waits for the slot
	kill_child "$queued"
	wait "$first"
	grep -q '^backend=a' "$W/first.out"
	timed_get /third
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -lt 800 ]
	# the queued request never reached the server
	[ "$(count_matches '^GET /queued' "$W/a.log")" -eq 0 ]
	# the third request saw an empty queue (%sq/%bq 0/0) and no wait
	wait_for_line "$W/proxy.err" '"GET /third HTTP/1.1"'
	grep '"GET /third HTTP/1.1"' "$W/proxy.err" |
		grep -E 'be/a [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 .* 0/0 "'
}

# ws_tunnel: opens a WebSocket held 20 s; appends the wsclient's pid to
# STARTED_PIDS and sets TUNNEL_CHILD (the proxy's child serving it) and
# TUNNEL_SERVER (a or b, from the backends' logs).
ws_tunnel() {
	local before a0 b0 i
	before=$(proxy_children)
	a0=$(count_matches 'Upgrade: websocket' "$W/a.log")
	b0=$(count_matches 'Upgrade: websocket' "$W/b.log")
	"$T/wsclient" -p "$PPORT" -u /ws -n 1 -w 20000 -q >/dev/null 2>&1 3>&- &
	STARTED_PIDS+=("$!")
	TUNNEL_CHILD=$(new_child "$before")
	TUNNEL_SERVER=
	for ((i = 0; i < 50; i++)); do
		if [ "$(count_matches 'Upgrade: websocket' "$W/a.log")" -gt "$a0" ]
		then
			TUNNEL_SERVER=a
		elif [ "$(count_matches 'Upgrade: websocket' "$W/b.log")" -gt "$b0" ]
		then
			TUNNEL_SERVER=b
		fi
		[ -n "$TUNNEL_SERVER" ] && return 0
		sleep 0.1
	done
	echo "the tunnel reached no server" >&2
	return 1
}

@test "leastconn forgets the tunnels of killed children" {
	start_backend a
	start_backend b
	slots_proxy leastconn "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b"
	local on_a=() on_b=() i
	for i in 1 2 3 4; do
		ws_tunnel
		if [ "$TUNNEL_SERVER" = a ]; then
			on_a+=("$TUNNEL_CHILD")
		else
			on_b+=("$TUNNEL_CHILD")
		fi
	done
	# leastconn: two tunnels each
	[ "${#on_a[@]}" -eq 2 ]
	[ "${#on_b[@]}" -eq 2 ]
	kill_child "${on_a[0]}"
	kill_child "${on_a[1]}"
	# a holds nothing now, b two: the next two tunnels both go to a
	ws_tunnel
	[ "$TUNNEL_SERVER" = a ]
	ws_tunnel
	[ "$TUNNEL_SERVER" = a ]
	# and then they alternate again from equal loads
	ws_tunnel
	local fifth=$TUNNEL_SERVER
	ws_tunnel
	[ "$TUNNEL_SERVER" != "$fifth" ]
}

@test "after a reload, a killed child of the old configuration gives back into its own scoreboard" {
	start_backend a
	slots_proxy roundrobin "    server a 127.0.0.1:$BPORT_a maxconn 1"
	local before victim
	before=$(proxy_children)
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/sleep/4000" 3>&- &
	STARTED_PIDS+=("$!")
	victim=$(new_child "$before")
	wait_count 1 '^GET /sleep' "$W/a.log"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded .* 1 connections carry on'
	kill_child "$victim"
	# the old scoreboard is gone with its last child; the parent goes on
	kill -0 "$PROXY_PID"
	timed_get /after
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -lt 800 ]
	wait_for_line "$W/proxy.err" '"GET /after HTTP/1.1"'
	grep '"GET /after HTTP/1.1"' "$W/proxy.err" |
		grep -E 'be/a [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 .* 1/1/0/0/0 0/0 '
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded .* 0 connections carry on'
	timed_get /again
	[[ "$output" == "HTTP/1.1 200 "* ]]
}

@test "a reload that cannot bind keeps the scoreboard its children count in" {
	start_backend a
	slots_proxy roundrobin "    server a 127.0.0.1:$BPORT_a maxconn 1"
	curl -s -m 5 -o "$W/slow.out" "http://127.0.0.1:$PPORT/sleep/1500" \
		3>&- &
	local slow=$!
	STARTED_PIDS+=("$slow")
	wait_count 1 '^GET /sleep' "$W/a.log"
	# the backend's own port: the new listener cannot be bound
	cat >> "$W/proxy.cfg" <<-EOF
	frontend extra
	    bind 127.0.0.1:$BPORT_a
	    default_backend be
	EOF
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'still running the previous configuration'
	wait "$slow"
	grep -q '^backend=a' "$W/slow.out"
	timed_get /next
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -lt 800 ]
	# %ac/%fc count this connection alone, as before the reload
	wait_for_line "$W/proxy.err" '"GET /next HTTP/1.1"'
	grep '"GET /next HTTP/1.1"' "$W/proxy.err" |
		grep -E 'be/a [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 .* 1/1/0/0/0 0/0 '
}
