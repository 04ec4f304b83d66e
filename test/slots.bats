#!/usr/bin/env bats
# Shared slots outlive no child: whatever way a connection's child ends
# (here SIGKILL, as the OOM killer would), the parent gives back the
# server slot, the backend connection and the queue place it held, so a
# "maxconn 1" server stays usable and leastconn counts only live
# connections.

load helpers

# slots_proxy BALANCE "server lines...": lb_proxy (one backend "be",
# httplog lines in $W/proxy.err) with 10 s client and server timeouts and
# "timeout queue" QUEUE_TIMEOUT (1s). No health check: every child of the
# proxy serves a connection.
slots_proxy() {
	CLIENT_TIMEOUT=10s SERVER_TIMEOUT=10s \
	EXTRA_DEFAULTS="timeout queue ${QUEUE_TIMEOUT:-1s}" lb_proxy "$@"
}

# maxconn1_proxy: backend a, the one server of "be", with maxconn 1.
maxconn1_proxy() {
	start_backend a
	slots_proxy roundrobin "    server a 127.0.0.1:$BPORT_a maxconn 1"
}

# proxy_children: the pids of the proxy's children, one a line, sorted.
proxy_children() {
	pgrep -P "$PROXY_PID" | sort -n || true
}

# newer_child BEFORE: (for wait_for) the proxy has a child that is not in
# the list BEFORE (the output of an earlier proxy_children); sets NEWER.
newer_child() {
	NEWER=$(comm -13 <(echo "$1") <(proxy_children) | head -1)
	[ -n "$NEWER" ]
}

# new_child BEFORE: waits for a child of the proxy not in BEFORE; prints
# its pid.
new_child() {
	wait_for 50 newer_child "$1"
	echo "$NEWER"
}

# reaped PID: (for wait_for) PID is no child of the proxy any more.
reaped() {
	! proxy_children | grep -qx "$1"
}

# kill_child PID: SIGKILL, then waits until the parent has reaped it.
kill_child() {
	kill -KILL "$1"
	wait_for 50 reaped "$1"
}

# in_queue_poll PID: (for wait_for) the child sleeps in the queue's
# poll(NULL, 0, QUEUE_POLL_MS) of connect.c's take_server (or the ppoll
# libc may make of it): it has read its request and waits for the slot.
# While it reads the request its poll has a descriptor.
in_queue_poll() {
	local nr fds nfds rest
	read -r nr fds nfds rest < "/proc/$1/syscall" 2>/dev/null || return 1
	case "$(uname -m):$nr" in
	x86_64:7|x86_64:271|aarch64:73) ;;
	*) return 1 ;;
	esac
	[ "$fds" = 0x0 ] && [ "$nfds" = 0x0 ]
}

# hold_slot MS: GET /sleep/MS (its answer in $W/holder.out), waited for
# until backend a has it, so that a child of the proxy holds the slot of
# a maxconn 1 server. Sets HOLDER (that child) and HOLDER_CURL.
hold_slot() {
	local before
	before=$(proxy_children)
	curl -s -m 5 -o "$W/holder.out" "http://127.0.0.1:$PPORT/sleep/$1" \
		3>&- &
	HOLDER_CURL=$!
	STARTED_PIDS+=("$HOLDER_CURL")
	HOLDER=$(new_child "$before")
	# the request reached the server: the child holds the only slot
	wait_for 50 count_at_least 1 '^GET /sleep' "$W/a.log"
}

# timed_get PATH: one request; sets output (status line) and elapsed (ms).
timed_get() {
	local start=$(date +%s%N)
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT$1"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
}

# served_at_once PATH [COUNTS]: GET PATH is answered 200 in less than
# 800 ms, and its httplog line says server a took it with no queue time
# (Tw 0), the line going on with COUNTS (by default 1/1/0/0/0 0/0 : this
# connection alone, nothing left on the backend or the server, %sq/%bq
# 0/0).
served_at_once() {
	timed_get "$1"
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -lt 800 ]
	wait_for_line "$W/proxy.err" "\"GET $1 HTTP/1.1\""
	grep "\"GET $1 HTTP/1.1\"" "$W/proxy.err" |
		grep -E "be/a [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 .* ${2:-1/1/0/0/0 0/0 }"
}

@test "a child killed while it holds a maxconn 1 server's slot gives the slot back" {
	maxconn1_proxy
	hold_slot 4000
	kill_child "$HOLDER"
	# served at once (no queue time); logged once its slot is back:
	# nothing left on the backend or the server (%bc/%sc 0/0)
	served_at_once /
}

@test "a child killed while queued leaves the queue, and the next request is served at once" {
	QUEUE_TIMEOUT=5s maxconn1_proxy
	hold_slot 1500
	local before queued
	before=$(proxy_children)
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/queued" 3>&- &
	STARTED_PIDS+=("$!")
	queued=$(new_child "$before")
	[ "$queued" != "$HOLDER" ]
	# it has read its request and waits for the slot
	wait_for 50 in_queue_poll "$queued"
	kill_child "$queued"
	wait "$HOLDER_CURL"
	grep -q '^backend=a' "$W/holder.out"
	# the queued request never reached the server
	[ "$(count_matches '^GET /queued' "$W/a.log")" -eq 0 ]
	# the third request saw an empty queue (%sq/%bq 0/0) and no wait
	served_at_once /third '0/0 "'
}

# ws_tunnel: opens a WebSocket held 20 s; appends the wsclient's pid to
# STARTED_PIDS and sets TUNNEL_CHILD (the proxy's child serving it) and
# TUNNEL_SERVER (a or b, from the backends' logs).
ws_tunnel() {
	local before a0 b0
	before=$(proxy_children)
	a0=$(count_matches '^Sec-WebSocket-Key: ' "$W/a.log")
	b0=$(count_matches '^Sec-WebSocket-Key: ' "$W/b.log")
	"$T/wsclient" -p "$PPORT" -u /ws -n 1 -w 20000 -q >/dev/null 2>&1 3>&- &
	STARTED_PIDS+=("$!")
	TUNNEL_CHILD=$(new_child "$before")
	wait_for 50 handshakes $((a0 + b0 + 1))
	if [ "$(count_matches '^Sec-WebSocket-Key: ' "$W/a.log")" -gt "$a0" ]; then
		TUNNEL_SERVER=a
	else
		TUNNEL_SERVER=b
	fi
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
	maxconn1_proxy
	hold_slot 4000
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded .* 1 connections carry on'
	kill_child "$HOLDER"
	# the old scoreboard is gone with its last child; the parent goes on
	kill -0 "$PROXY_PID"
	served_at_once /after
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded .* 0 connections carry on'
	timed_get /again
	[[ "$output" == "HTTP/1.1 200 "* ]]
}

@test "a reload that cannot bind keeps the scoreboard its children count in" {
	maxconn1_proxy
	hold_slot 1500
	# the backend's own port: the new listener cannot be bound
	cat >> "$W/proxy.cfg" <<-EOF
	frontend extra
	    bind 127.0.0.1:$BPORT_a
	    default_backend be
	EOF
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'still running the previous configuration'
	wait "$HOLDER_CURL"
	grep -q '^backend=a' "$W/holder.out"
	# %ac/%fc count this connection alone, as before the reload
	served_at_once /next
}
