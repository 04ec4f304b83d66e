#!/usr/bin/env bats
# WebSocket through the proxy: handshakes, echoes verified byte for byte,
# the upgrade rules, the tunnel's timeouts and half-close.

load helpers

# start_ws_proxy [extra lines for the ws backend]: everything to "ws".
start_ws_proxy() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    acl is_websocket hdr(Upgrade) -i WebSocket
	    use_backend ws if is_websocket
	    use_backend ws if { path_beg /ws }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	  cat
	} > "$W/proxy.cfg.in"; start_proxy < "$W/proxy.cfg.in"
}

wsc() {
	"$T/wsclient" -p "$PPORT" "$@"
}

@test "text, binary, mixed, fragmented and large messages are echoed intact" {
	start_ws_proxy < /dev/null
	run wsc -n 5
	[ "$status" -eq 0 ]
	[[ "$output" == *"HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *"backend=ws"* ]]
	[[ "$output" == *"ok 5 messages"* ]]
	run wsc -q -b -n 5 -s 1000
	[ "$status" -eq 0 ]
	run wsc -q -t -n 6 -s 125
	[ "$status" -eq 0 ]
	run wsc -q -f 4 -n 3 -s 5000
	[ "$status" -eq 0 ]
	run wsc -q -b -n 2 -s 200000
	[ "$status" -eq 0 ]
	run wsc -q -t -f 3 -n 2 -s 1048576
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 2 messages"* ]]
}

@test "the upgrade headers reach the server intact; keep-alive/close tokens are dropped" {
	start_ws_proxy < /dev/null
	run wsc -q -n 1 -e 'Connection: keep-alive, Upgrade'
	[ "$status" -eq 0 ]
	grep -q '^Upgrade: websocket' "$W/ws.log"
	grep -q '^Sec-WebSocket-Key: ' "$W/ws.log"
	grep -q '^Sec-WebSocket-Version: 13' "$W/ws.log"
	grep -q '^Connection: Upgrade' "$W/ws.log"
	! grep -qi '^Connection: .*\(close\|keep-alive\)' "$W/ws.log"
}

@test "a WebSocket request without a 24-character key gets 400 and is not forwarded" {
	start_ws_proxy < /dev/null
	run wsc -q -e 'Sec-WebSocket-Key: abc'
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected 101, got: HTTP/1.1 400 Bad request"* ]]
	[ ! -s "$W/ws.log" ]
}

@test "a 101 without Sec-WebSocket-Accept is refused with 502" {
	start_ws_proxy < /dev/null
	run wsc -q -u /ws-noaccept
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected 101, got: HTTP/1.1 502 Bad Gateway"* ]]
}

@test "a non-101 answer is an ordinary response and the connection stays HTTP" {
	start_ws_proxy < /dev/null
	key=dGhlIHNhbXBsZSBub25jZQ==
	run raw -t 1000 <<-EOF
	GET /ws-refuse HTTP/1.1
	Host: x
	Upgrade: websocket
	Connection: Upgrade
	Sec-WebSocket-Key: $key
	Sec-WebSocket-Version: 13

	GET /after HTTP/1.1
	Host: x
	Connection: close

	EOF
	[[ "${lines[0]}" == "HTTP/1.1 403 Forbidden"* ]]
	[[ "$output" == *"HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"GET /after HTTP/1.1"* ]]
}

@test "bytes the server sends right after the 101 head reach the client" {
	start_ws_proxy < /dev/null
	run raw -t 1000 <<-EOF
	GET /ws-hello HTTP/1.1
	Host: x
	Upgrade: websocket
	Connection: Upgrade
	Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	Sec-WebSocket-Version: 13

	EOF
	[[ "${lines[0]}" == "HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="* ]]
	[[ "$output" == *$'\x81\x05hello'* ]]
}

@test "bytes the client sends right after the upgrade request are tunnelled, not parsed" {
	start_ws_proxy < /dev/null
	req=$'GET /ws/raw HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\nNOT HTTP AT ALL\r\n\r\n'
	run raw -s -t 2000 <<< "$req"
	[[ "${lines[0]}" == "HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *"NOT HTTP AT ALL"* ]]
	[[ "$output" != *"400"* ]]
}

@test "half-close: the client's FIN reaches the server, which can still answer" {
	start_ws_proxy < /dev/null
	req=$'GET /ws/raw HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'
	run raw -s -t 3000 -d 200 <<< "${req}@@@ping-before-fin"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ping-before-fin"* ]]
	[[ "$output" == *$'EOF\nBYE'* ]]
}

@test "a tunnel outlives timeout client/server when timeout tunnel is longer" {
	CLIENT_TIMEOUT=500ms SERVER_TIMEOUT=500ms start_ws_proxy <<-'EOF'
	    timeout tunnel 3s
	EOF
	run wsc -q -n 2 -w 1200 -W 1200
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 2 messages"* ]]
}

@test "a tunnel idle past timeout tunnel is closed" {
	CLIENT_TIMEOUT=5s SERVER_TIMEOUT=5s start_ws_proxy <<-'EOF'
	    timeout tunnel 700ms
	EOF
	run wsc -q -n 1 -w 3000
	[ "$status" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' <<< "$output")
	[ "$idle" -ge 600 ] && [ "$idle" -le 2000 ]
}

@test "without timeout tunnel, the frontend's timeout client closes an idle tunnel" {
	CLIENT_TIMEOUT=700ms SERVER_TIMEOUT=10s start_ws_proxy < /dev/null
	run wsc -q -n 1 -w 3000
	[ "$status" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' <<< "$output")
	[ "$idle" -ge 600 ] && [ "$idle" -le 2000 ]
}

@test "without timeout tunnel, the backend's timeout server closes an idle tunnel" {
	CLIENT_TIMEOUT=10s SERVER_TIMEOUT=10s start_ws_proxy <<-'EOF'
	    timeout server 700ms
	EOF
	run wsc -q -n 1 -w 3000
	[ "$status" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' <<< "$output")
	[ "$idle" -ge 600 ] && [ "$idle" -le 2000 ]
}

@test "300 concurrent WebSocket clients, every echo verified" {
	start_ws_proxy < /dev/null
	# 60 s for the run: 300 processes (600 under -i, socat's and ours)
	# start at once, and CI also runs this on a sanitizer build
	run wsc -c 300 -n 3 -s 300 -t -T 60000
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 300 clients"* ]]
}
