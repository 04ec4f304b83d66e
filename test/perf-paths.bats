#!/usr/bin/env bats
# The relay's fast paths (bench/RESULTS.md): bulk tunnel traffic goes
# socket -> pipe -> socket with splice(), small messages through the
# buffers, writes are tried before poll(), and a quiet tunnel gives its
# buffer pages back. Every test compares the bytes end to end.

load helpers

# start_raw_server NAME SOCAT-ADDRESS: a socat listener on a free port
# that hands each connection to the address (EXEC:cat echoes, and cat's
# exit after EOF is the half-close coming back); sets SPORT. Ready once
# the port listens; a socat that exits (or cannot run) fails at once,
# with what it said.
start_raw_server() {
	command -v socat >/dev/null || skip "socat is not installed"
	free_ports 1; SPORT=${PORTS[0]}
	socat "TCP-LISTEN:$SPORT,bind=127.0.0.1,reuseaddr,fork" "$2" \
		2> "$W/$1.err" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$SPORT" "$!" || {
		echo "socat $1 did not listen:" >&2; cat "$W/$1.err" >&2; return 1; }
}

# start_tcp_proxy: mode tcp in front of SPORT; sets PPORT.
start_tcp_proxy() {
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 20s
	    timeout server 20s
	listen raw
	    bind 127.0.0.1:$PPORT
	    server s1 127.0.0.1:$SPORT
	EOF
}

# through_proxy: stdin to the proxy; what comes back to stdout. Our
# EOF is sent as a half-close, and socat waits up to 20 s for theirs.
through_proxy() {
	socat -t 20 -T 20 - "TCP:127.0.0.1:$PPORT"
}

@test "tcp tunnel: 8 MiB echoed byte for byte, the half-close passed both ways" {
	head -c 8388608 /dev/urandom > "$W/in"
	start_raw_server echo EXEC:cat
	start_tcp_proxy
	through_proxy < "$W/in" > "$W/out"
	cmp "$W/in" "$W/out"
}

@test "tcp tunnel: small, bulk, small in one stream keep their order" {
	head -c 100 /dev/urandom > "$W/a"
	head -c 3000000 /dev/urandom > "$W/b"
	head -c 100 /dev/urandom > "$W/c"
	cat "$W/a" "$W/b" "$W/c" "$W/a" > "$W/expected"
	start_raw_server echo EXEC:cat
	start_tcp_proxy
	# pauses let each part arrive alone: the buffers, then the pipe,
	# then the buffers again once the pipe is drained
	{ cat "$W/a"; sleep 0.3; cat "$W/b"; sleep 0.3; cat "$W/c"
	  sleep 0.3; cat "$W/a"; } | through_proxy > "$W/out"
	cmp "$W/expected" "$W/out"
}

@test "tcp tunnel: 16 MiB download while the client has already half-closed" {
	head -c 16777216 /dev/urandom > "$W/big"
	start_raw_server src "SYSTEM:cat $W/big"
	start_tcp_proxy
	through_proxy < /dev/null > "$W/out"
	cmp "$W/big" "$W/out"
}

@test "tcp tunnel: 16 MiB upload, then the server closes after our EOF" {
	head -c 16777216 /dev/urandom > "$W/big"
	start_raw_server sink "SYSTEM:cat > $W/got"
	start_tcp_proxy
	through_proxy < "$W/big" > "$W/out"
	[ ! -s "$W/out" ]
	cmp "$W/big" "$W/got"
}

# inetd_echo_setup: 8 MiB of random bytes in $W/in, an echo server, and
# $W/inetd.cfg, a tcp listen section in front of it for -i mode.
inetd_echo_setup() {
	head -c 8388608 /dev/urandom > "$W/in"
	start_raw_server echo EXEC:cat
	cat > "$W/inetd.cfg" <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 20s
	    timeout server 20s
	listen raw
	    server s1 127.0.0.1:$SPORT
	EOF
}

@test "inetd mode over pipes: 8 MiB through a tcp tunnel intact" {
	inetd_echo_setup
	cat "$W/in" | "$WSPROXY" -i -f "$W/inetd.cfg" 2> "$W/err" | cat > "$W/out"
	cmp "$W/in" "$W/out"
	[ ! -s "$W/err" ]
}

@test "WebSocket: large and small messages both ways, 4 clients at once" {
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend ws
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	} > "$W/proxy.cfg.in"
	# not a pipe: start_proxy must run in this shell to record its PID
	start_proxy < "$W/proxy.cfg.in"
	run "$T/wsclient" -p "$PPORT" -q -b -c 4 -n 3 -s 2097152
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 4 clients"* ]]
	# fragments of 64 KiB and a last odd one: the splice stops and
	# starts within one message
	run "$T/wsclient" -p "$PPORT" -q -t -f 33 -n 2 -s 2100001
	[ "$status" -eq 0 ]
	run "$T/wsclient" -p "$PPORT" -q -n 200 -s 64
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 200 messages"* ]]
}

# start_ws_tunnel_proxy: a WebSocket backend behind a proxy on $PPORT
# whose tunnels may stay idle for 10 s.
start_ws_tunnel_proxy() {
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend ws
	backend ws
	    timeout tunnel 10s
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	} > "$W/proxy.cfg.in"
	# not a pipe: start_proxy must run in this shell to record its PID
	start_proxy < "$W/proxy.cfg.in"
}

@test "WebSocket: a tunnel idle past the buffer trim still echoes intact" {
	start_ws_tunnel_proxy
	# idle before the first message and before the close (trim: 500 ms)
	run "$T/wsclient" -p "$PPORT" -q -b -w 1200 -W 1200 -n 3 -s 100000
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 3 messages"* ]]
}

# heap_private_kb PID: the kB of the process's heap that are its own.
heap_private_kb() {
	awk '/^[0-9a-f]+-/ { heap = ($NF == "[heap]"); next }
	     heap && /^Private_Dirty:/ { kb += $2 }
	     END { print kb + 0 }' "/proc/$1/smaps"
}

@test "an idle tunnel's child has no heap page of its own, none copied from the parent" {
	start_ws_tunnel_proxy
	# One tunnel (a page shared by several children would not count
	# as private), idle for 2.5 s after its echo.
	"$T/wsclient" -p "$PPORT" -q -b -n 1 -s 100000 -W 2500 \
		> "$W/ws.out" 2>&1 &
	local client=$! child
	STARTED_PIDS+=("$client")
	wait_for 50 handshakes 1
	child=$(pgrep -P "$PROXY_PID" | head -n 1)
	[ -n "$child" ]
	sleep 1.2           # the echo and the parent's next poll are past
	# The child's memory comes from mappings of its own, and the
	# parent's tables written after the fork are shared mappings:
	# neither copies a heap page into the child.
	[ "$(heap_private_kb "$child")" -eq 0 ]
	wait "$client"
	grep -q "ok 1 messages" "$W/ws.out"
}

@test "inetd mode into a file opened for appending: no splice, 8 MiB intact" {
	inetd_echo_setup
	# splice() refuses an O_APPEND file: the buffers must carry it all
	: > "$W/out"
	"$WSPROXY" -i -f "$W/inetd.cfg" < "$W/in" >> "$W/out" 2> "$W/err"
	cmp "$W/in" "$W/out"
	[ ! -s "$W/err" ]
}
