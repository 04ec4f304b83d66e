#!/usr/bin/env bats
# Small HTTP behaviours of HAProxy 2.6 (config-reference §15): chunk-size
# limits, header captures in the httplog line, timeout client-fin and
# server-fin, Expect: 100-continue, HTTP/1.0 clients of chunked answers.

load helpers

# start_small_proxy [frontend lines on stdin]: backend www behind a
# frontend on $PPORT that logs httplog lines to the UDP sink "log1".
start_small_proxy() {
	start_backend www
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	{ echo "global"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  defaults_section
	  echo "    log global"
	  echo "    option httplog"
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    default_backend www"
	  cat
	  echo "backend www"
	  echo "    server www1 127.0.0.1:$BPORT_www"
	} > "$W/small.cfg"
	start_proxy < "$W/small.cfg"
}

BAD400=$'HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n'

# chunk_refused SIZE-LINE: a chunked POST whose first chunk-size line is
# SIZE-LINE gets 2.6's parser-level 400, byte for byte, and the backend
# nothing.
chunk_refused() {
	printf 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\nhello\r\n0\r\n\r\n' "$1" > "$W/req"
	out=$("$T/rawclient" -p "$PPORT" -t 3000 < "$W/req")
	[ "$out" = "${BAD400%$'\n'}" ] || { echo "for '$1' got: $out" >&2; return 1; }
	[ ! -s "$W/www.log" ] || { echo "backend got:" >&2; cat "$W/www.log" >&2; return 1; }
}

@test "chunk sizes of 2^52 and more get 2.6's 400 and never reach the backend" {
	start_small_proxy < /dev/null
	chunk_refused ffffffffffffffff
	chunk_refused 10000000000000
	chunk_refused 7fffffffffffffff
	chunk_refused 00010000000000000
	chunk_refused ' 5'
	chunk_refused 0x5
	chunk_refused -1
	chunk_refused ''
	wait_for_line "$W/log1.udp" BADREQ
	grep -qE " public public/<NOSRV> -1/-1/-1/-1/[0-9]+ 400 [0-9]+ - - PR-- .* \"<BADREQ>\"$" "$W/log1.udp"
}

@test "chunk sizes below 2^52 are accepted: 13 hex digits, leading zeros, uppercase" {
	start_small_proxy < /dev/null
	out=$(printf 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0000000000000005\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n' |
		"$T/rawclient" -p "$PPORT" -t 3000)
	[[ "$out" == "HTTP/1.1 200 "* ]]
	[[ "$out" == *"hello0123456789"* ]]
	# FFFFFFFFFFFFF (2^52 - 1) is forwarded: the backend waits for data
	printf 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFF\r\nab' |
		"$T/rawclient" -p "$PPORT" -t 500 > /dev/null || true
	wait_for 30 grep -q FFFFFFFFFFFFF "$W/www.log"
}

@test "a too large chunk size in a later packet: stream-level 400, the bad line not forwarded" {
	start_small_proxy < /dev/null
	printf 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n@@@10000000000000\r\nx\r\n0\r\n\r\n' |
		"$T/rawclient" -p "$PPORT" -d 300 -t 3000 > "$W/out" || true
	[[ "$(head -1 "$W/out")" == "HTTP/1.1 400 "* ]]
	grep -q hello "$W/www.log"
	! grep -q 1000000000000 "$W/www.log"
}

@test "a too large chunk size from the server: the chunks so far, then the close, logged SD--" {
	start_small_proxy < /dev/null
	free_ports 1; SPORT=${PORTS[0]}
	printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10000000000000\r\nxx\r\n0\r\n\r\n' > "$W/response"
	socat TCP-LISTEN:"$SPORT",bind=127.0.0.1,reuseaddr,fork \
		SYSTEM:"cat $W/response; sleep 1" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$SPORT" "$!"
	sed -i "s/^    server www1 .*/    server www1 127.0.0.1:$SPORT/" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" reloaded
	out=$(printf 'GET /r HTTP/1.1\r\nHost: x\r\n\r\n' | "$T/rawclient" -p "$PPORT" -t 3000)
	[[ "$out" == "HTTP/1.1 200 OK"* ]]
	[[ "$out" == *$'\r\n\r\n5\r\nhello\r' ]]   # $() ate the last LF
	wait_for_line "$W/log1.udp" 'GET /r'
	grep -qE ' 200 [0-9]+ - - SD-- .*"GET /r HTTP/1.1"$' "$W/log1.udp"
}
