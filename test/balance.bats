#!/usr/bin/env bats
# Backends with several servers: balance algorithms, weights, backup and
# disabled servers, per-server maxconn with its queue, retries and
# redispatch. The test backends put their name in X-Backend and the body,
# so each answer says which server took it.

load helpers

# three backends a, b, c
three_backends() {
	start_backend a
	start_backend b
	start_backend c
}

# tally N: N requests; prints "a=.. b=.. c=..".
tally() {
	local n="$1" seq
	seq=$(sequence "$n")
	echo "a=$(grep -o a <<< "$seq" | wc -l)" \
		"b=$(grep -o b <<< "$seq" | wc -l)" \
		"c=$(grep -o c <<< "$seq" | wc -l)"
}

@test "roundrobin with equal weights rotates in declaration order" {
	three_backends
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_c"
	run sequence 9
	[ "$output" = "a b c a b c a b c" ]
}

@test "roundrobin is the default and every request on a kept-alive connection is balanced" {
	start_backend a
	start_backend b
	lb_proxy - "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b"
	# four requests on one client connection (curl reuses it)
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/[1-4]"
	[ "$(tr -d '\r' <<< "$output" | sed -n 's/^X-Backend: //p' | tr '\n' ' ')" = "a b a b " ]
	wait_for_line "$W/proxy.err" '"GET /4 '
	# one client address:port in all four log lines
	[ "$(grep '"GET /' "$W/proxy.err" | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
}

@test "roundrobin weights 3:1:2 share 60 requests 30:10:20" {
	three_backends
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a weight 3
	    server b 127.0.0.1:$BPORT_b weight 1
	    server c 127.0.0.1:$BPORT_c weight 2"
	run tally 60
	[ "$output" = "a=30 b=10 c=20" ]
}

@test "roundrobin weights interleave and start with the heaviest" {
	start_backend a
	start_backend b
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a weight 1
	    server b 127.0.0.1:$BPORT_b weight 2"
	run sequence 6
	# never three b in a row, b first, 2:1
	[[ "$output" == "b "* ]]
	[ "$(grep -o b <<< "$output" | wc -l)" -eq 4 ]
	[[ "$output" != *"b b b"* ]]
}

@test "weight 0 and disabled servers get nothing" {
	three_backends
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a weight 0
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_c disabled"
	run tally 6
	[ "$output" = "a=0 b=6 c=0" ]
}

@test "static-rr walks HAProxy's weighted map" {
	three_backends
	lb_proxy static-rr "
	    server a 127.0.0.1:$BPORT_a weight 3
	    server b 127.0.0.1:$BPORT_b weight 1
	    server c 127.0.0.1:$BPORT_c weight 2"
	# the order HAProxy 2.6 was seen to use for these weights
	run sequence 12
	[ "$output" = "a a c a b c a a c a b c" ]
}

@test "first: always the first server below its maxconn" {
	start_backend a
	start_backend b
	lb_proxy first "
	    server a 127.0.0.1:$BPORT_a maxconn 1
	    server b 127.0.0.1:$BPORT_b maxconn 1"
	run sequence 4
	[ "$output" = "a a a a" ]
	# a busy with a slow request: the next one goes to b
	curl -s -m 5 -o "$W/slow.out" "http://127.0.0.1:$PPORT/sleep/1500" &
	slow=$!
	wait_for_line "$W/a.log" '^GET /sleep/1500 '
	run who
	[ "$output" = "b" ]
	wait "$slow"
	grep -q '^backend=a' "$W/slow.out"
}

@test "source: a client keeps its server; the map matches HAProxy's" {
	three_backends
	lb_proxy source "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_c"
	# HAProxy 2.6 sent clients 127.0.0.1..6 to c a b c a b
	local got=() n
	for n in 1 2 3 4 5 6; do
		got+=("$(who --interface "127.0.0.$n")")
	done
	[ "${got[*]}" = "c a b c a b" ]
	run sequence 5 --interface 127.0.0.2
	[ "$output" = "a a a a a" ]
}

@test "source with weights 2:4:6 uses the GCD-reduced map" {
	three_backends
	lb_proxy source "
	    server a 127.0.0.1:$BPORT_a weight 2
	    server b 127.0.0.1:$BPORT_b weight 4
	    server c 127.0.0.1:$BPORT_c weight 6"
	local got=() n
	for n in 1 2 3 4 5 6; do
		got+=("$(who --interface "127.0.0.$n")")
	done
	# HAProxy 2.6: map a c b c b c, clients 1..6 -> c a c b c b
	[ "${got[*]}" = "c a c b c b" ]
}

# held_ws N: opens N WebSockets one after another, each held 4 s; each
# one has reached its server before the next one starts.
held_ws() {
	local i
	for ((i = 1; i <= $1; i++)); do
		"$T/wsclient" -p "$PPORT" -u /ws -n 1 -w 4000 -q \
			> /dev/null 2>&1 3>&- &
		HELD+=("$!")
		wait_for 50 handshakes "$i"
	done
}

# upgrades NAME: WebSocket handshakes the backend NAME received.
upgrades() {
	count_matches 'Upgrade: websocket' "$W/$1.log"
}

@test "leastconn steers new connections away from servers holding WebSockets" {
	three_backends
	lb_proxy leastconn "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_c"
	HELD=()
	held_ws 4
	# 4 tunnels over 3 servers: 2, 1, 1
	local counts
	counts="$(upgrades a) $(upgrades b) $(upgrades c)"
	[ "$(tr ' ' '\n' <<< "$counts" | sort | tr '\n' ' ')" = "1 1 2 " ]
	local busy
	for busy in a b c; do
		[ "$(upgrades $busy)" -eq 2 ] && break
	done
	# short requests go only to the two servers with one tunnel
	run sequence 6
	[[ "$output" != *"$busy"* ]]
	[ "$(wc -w <<< "$output")" -eq 6 ]
	for pid in "${HELD[@]}"; do wait "$pid"; done
}

@test "leastconn over equal loads rotates" {
	three_backends
	lb_proxy leastconn "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b
	    server c 127.0.0.1:$BPORT_c"
	run tally 9
	[ "$output" = "a=3 b=3 c=3" ]
}

@test "backup servers: only when no active server is usable, the first one only" {
	three_backends
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b backup
	    server c 127.0.0.1:$BPORT_c backup"
	run tally 4
	[ "$output" = "a=4 b=0 c=0" ]
	stop_proxy
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a disabled
	    server b 127.0.0.1:$BPORT_b backup
	    server c 127.0.0.1:$BPORT_c backup"
	run tally 4
	[ "$output" = "a=0 b=4 c=0" ]
}

@test "option allbackups balances over every backup" {
	three_backends
	lb_proxy roundrobin "
	    option allbackups
	    server a 127.0.0.1:$BPORT_a disabled
	    server b 127.0.0.1:$BPORT_b backup
	    server c 127.0.0.1:$BPORT_c backup"
	run tally 4
	[ "$output" = "a=0 b=2 c=2" ]
}

@test "no usable server: 503 at once, logged <NOSRV> SC" {
	start_backend a
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a disabled"
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/"
	[[ "$output" == "HTTP/1.1 503 "* ]]
	wait_for_line "$W/proxy.err" 'public be/<NOSRV> [0-9]+/-1/-1/-1/[0-9]+ 503 .* SC-- '
	[ "$(wc -c < "$W/a.log")" -eq 0 ]
}

# behind_slow MS: a request that holds the maxconn 1 server a for MS ms (in
# the background, its answer in $W/slow.out, pid in $slow), then a second
# one, timed: run's $output and $elapsed (ms).
behind_slow() {
	curl -s -m 5 -o "$W/slow.out" "http://127.0.0.1:$PPORT/sleep/$1" &
	slow=$!
	wait_for_line "$W/a.log" "^GET /sleep/$1 "
	local start=$(date +%s%N)
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
}

@test "maxconn: a full server makes requests queue, then 503 sQ after timeout queue" {
	start_backend a
	EXTRA_DEFAULTS="timeout queue 500ms" lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a maxconn 1"
	behind_slow 1500
	[[ "$output" == "HTTP/1.1 503 "* ]]
	[ "$elapsed" -ge 450 ]
	[ "$elapsed" -lt 1200 ]
	wait "$slow"
	grep -q '^backend=a' "$W/slow.out"
	wait_for_line "$W/proxy.err" 'be/<NOSRV> [0-9]+/[0-9]{3}/-1/-1/[0-9]+ 503 .* sQ-- '
	# one request reached the server: the queued one never did
	[ "$(count_matches '^GET ' "$W/a.log")" -eq 1 ]
}

@test "maxconn: a queued request is served when the slot frees up" {
	start_backend a
	EXTRA_DEFAULTS="timeout queue 3s" lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a maxconn 1"
	behind_slow 800
	[[ "$output" == "HTTP/1.1 200 "* ]]
	[ "$elapsed" -ge 300 ]
	wait "$slow"
	# the queue time shows in %Tw
	wait_for_line "$W/proxy.err" 'be/a [0-9]+/[1-9][0-9]+/[0-9]+/[0-9]+/[0-9]+ 200 '
}

@test "maxconn: a full server is skipped by roundrobin while others have room" {
	start_backend a
	start_backend b
	lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a maxconn 1
	    server b 127.0.0.1:$BPORT_b"
	HELD=()
	held_ws 1
	# a holds a tunnel (it got the first connection): all others go to b
	[ "$(upgrades a)" -eq 1 ]
	run tally 4
	[ "$output" = "a=0 b=4 c=0" ]
	for pid in "${HELD[@]}"; do wait "$pid"; done
}

@test "redispatch: roundrobin moves a refused request to the next server at once" {
	start_backend b
	free_ports 1; dead=${PORTS[0]}
	RETRIES=3 EXTRA_DEFAULTS="option redispatch" lb_proxy roundrobin "
	    server a 127.0.0.1:$dead
	    server b 127.0.0.1:$BPORT_b"
	run tally 4
	[ "$output" = "a=0 b=4 c=0" ]
	wait_for_line "$W/proxy.err" 'be/b [0-9/]+ 200 .* [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+1 '
	# No pause before a redispatch: the redispatched requests' connect
	# time (Tc, retries included) stays far below the 1 s pause a retry
	# on the same server takes. Read from the log, not the wall clock,
	# so that a loaded machine cannot fail it.
	run awk '/ be\/b .* 200 .*\/\+1 / { split($5, t, "/"); print t[3] }' \
	    "$W/proxy.err"
	[ "${#lines[@]}" -ge 1 ]
	for tc in "${lines[@]}"; do
		[ "$tc" -ge 0 ]
		[ "$tc" -lt 900 ]
	done
}

@test "redispatch: first retries the same server, the last retry goes elsewhere" {
	start_backend b
	free_ports 1; dead=${PORTS[0]}
	RETRIES=2 EXTRA_DEFAULTS="option redispatch
	    timeout connect 200ms" lb_proxy first "
	    server a 127.0.0.1:$dead
	    server b 127.0.0.1:$BPORT_b"
	start=$(date +%s%N)
	run who
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$output" = "b" ]
	# one pause of min(timeout connect, 1s) before the second try on a
	[ "$elapsed" -ge 180 ]
	wait_for_line "$W/proxy.err" 'be/b [0-9/]+ 200 .* [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+2 '
}

@test "without redispatch a refusing server is retried, then 503 SC" {
	start_backend b
	free_ports 1; dead=${PORTS[0]}
	RETRIES=2 EXTRA_DEFAULTS="timeout connect 100ms" lb_proxy first "
	    server a 127.0.0.1:$dead
	    server b 127.0.0.1:$BPORT_b"
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/"
	[[ "$output" == "HTTP/1.1 503 "* ]]
	wait_for_line "$W/proxy.err" 'be/a [0-9/-]+ 503 .* SC-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/2 '
	[ "$(wc -c < "$W/b.log")" -eq 0 ]
}

@test "maxconn holds across processes: 8 parallel requests, 2 at a time, all served" {
	start_backend a
	EXTRA_DEFAULTS="timeout queue 5s" lb_proxy roundrobin "
	    server a 127.0.0.1:$BPORT_a maxconn 2"
	local pids=() i
	start=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do
		curl -s -m 10 -o "$W/par$i.out" -w '%{http_code}\n' \
			"http://127.0.0.1:$PPORT/sleep/300" > "$W/par$i.code" &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$(cat "$W"/par*.code | sort -u)" = "200" ]
	# 8 requests of 300 ms, 2 at a time: 4 rounds, so at least 1.2 s
	# (3 at a time would take 0.9 s, no limit 0.3 s)
	[ "$elapsed" -ge 1150 ]
	wait_for_line "$W/proxy.err" '"GET /sleep/300'
	[ "$(grep '"GET /sleep/300' "$W/proxy.err" | sort -u | wc -l)" -eq 8 ]
}

@test "a backend of 40 servers (past the on-stack pick arrays) still rotates" {
	start_backend a
	start_backend b
	local servers="" i
	for ((i = 1; i <= 38; i++)); do
		servers+="    server d$i 127.0.0.1:$BPORT_a disabled"$'\n'
	done
	servers+="    server a 127.0.0.1:$BPORT_a"$'\n'
	servers+="    server b 127.0.0.1:$BPORT_b"
	lb_proxy roundrobin "$servers"
	[ "$(sequence 4)" = "a b a b" ]
}
