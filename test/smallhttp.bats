#!/usr/bin/env bats
# Small HTTP behaviours of HAProxy 2.6 (config-reference §15): chunk-size
# limits, header captures in the httplog line, timeout client-fin and
# server-fin, Expect: 100-continue, HTTP/1.0 clients of chunked answers.

load helpers

# start_small_proxy [frontend lines on stdin]: backend www behind a
# frontend on $PPORT that logs httplog lines to the UDP sink "log1";
# BACKEND_LINES are added to the backend, SERVER replaces www1's address.
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
	  echo "${BACKEND_LINES:-}"
	  echo "    server www1 ${SERVER:-127.0.0.1:$BPORT_www}"
	} > "$W/small.cfg"
	start_proxy < "$W/small.cfg"
}

# start_script_server SCRIPT: a server on $SPORT that runs the shell
# SCRIPT per connection and keeps the socket half-open as long as the
# script or the other direction lasts (socat -t 30).
start_script_server() {
	free_ports 1; SPORT=${PORTS[0]}
	socat -t 30 TCP-LISTEN:"$SPORT",bind=127.0.0.1,reuseaddr,fork \
		SYSTEM:"$1" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$SPORT" "$!"
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
	printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10000000000000\r\nxx\r\n0\r\n\r\n' > "$W/response"
	start_script_server "cat $W/response; sleep 1"
	SERVER=127.0.0.1:$SPORT start_small_proxy < /dev/null
	out=$(printf 'GET /r HTTP/1.1\r\nHost: x\r\n\r\n' | "$T/rawclient" -p "$PPORT" -t 3000)
	[[ "$out" == "HTTP/1.1 200 OK"* ]]
	[[ "$out" == *$'\r\n\r\n5\r\nhello\r' ]]   # $() ate the last LF
	wait_for_line "$W/log1.udp" 'GET /r'
	grep -qE ' 200 [0-9]+ - - SD-- .*"GET /r HTTP/1.1"$' "$W/log1.udp"
}

# ---- capture request header / capture response header ----

@test "header captures in the httplog line: order, escaping, truncation, last occurrence, absent" {
	start_small_proxy <<-EOF
	    capture request header Host len 5
	    capture request header User-Agent len 64
	    capture request header X-Missing len 5
	    capture request header X-Dup len 5
	    capture response header X-Backend len 2
	    capture response header Content-Type len 20
	EOF
	printf 'GET /hdrs HTTP/1.1\r\nHost: averylonghostname.example\r\nUser-Agent: curl/7.88 "quoted" | pipe {brace} #hash\xe9\r\nX-Dup: a\r\nX-Dup: b, c\r\nConnection: close\r\n\r\n' |
		"$T/rawclient" -p "$PPORT" > /dev/null
	wait_for_line "$W/log1.udp" 'GET /hdrs'
	grep -qF ' ---- 1/1/0/0/0 0/0 {avery|curl/7.88 #22quoted#22 #7C pipe #7Bbrace#7D #23hash#E9||b, c} {ww|text/plain} "GET /hdrs HTTP/1.1"' "$W/log1.udp"
}

@test "header captures: only the configured block, none on a <BADREQ> line" {
	start_small_proxy <<-EOF
	    capture response header X-Backend len 8
	EOF
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/one"
	printf 'BAD REQUEST\r\n\r\n' | "$T/rawclient" -p "$PPORT" > /dev/null
	wait_for_line "$W/log1.udp" BADREQ
	wait_for_line "$W/log1.udp" 'GET /one'
	grep -qF ' 0/0 {www} "GET /one HTTP/1.1"' "$W/log1.udp"
	grep -qE ' PR-- [0-9/]+ 0/0 "<BADREQ>"$' "$W/log1.udp"
}

# config_says CONFIG-LINES MESSAGE: wsproxy -c on a frontend (or the
# section the lines open) reports MESSAGE; the status is in $status.
config_says() {
	printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n%s\n' "$1" > "$W/c.cfg"
	run "$WSPROXY" -c -f "$W/c.cfg"
	[[ "$output" == *"$2"* ]] || { echo "got: $output" >&2; return 1; }
}

@test "capture: the config errors and warnings of 2.6" {
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    capture request header Host' \
		"'capture request' expects 'header' <header_name> 'len' <len>."
	[ "$status" -ne 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    capture response header Host len' \
		"'capture response' expects 'header' <header_name> 'len' <len>."
	[ "$status" -ne 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    capture request cookie x len 3' \
		"'capture request' expects 'header' <header_name> 'len' <len>."
	[ "$status" -ne 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    capture header Host len 3' \
		"'capture' expects 'cookie', 'request' or 'response'."
	[ "$status" -ne 0 ]
	config_says $'defaults\n    capture request header Host len 3' \
		"'capture' not allowed in 'defaults' section."
	[ "$status" -ne 0 ]
	config_says $'backend be\n    capture request header Host len 3' \
		"'capture' ignored because backend 'be' has no frontend capability."
	[ "$status" -eq 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    capture request header Host len abc' ""
	[ "$status" -eq 0 ]
}

# ---- timeout client-fin / server-fin ----

UPGRADE_REQ='GET /t HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'
SWITCH='HTTP/1.1 101 Switching Protocols\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'

# tunnel_ta: sets TA, the Ta (ms) of the 101 line, and TSC, its
# termination state.
tunnel_ta() {
	wait_for_line "$W/log1.udp" '"GET /t '
	local re=' [0-9-]+/[0-9-]+/[0-9-]+/[0-9-]+/([0-9]+) 101 [0-9]+ - - (....) '
	[[ "$(grep '"GET /t ' "$W/log1.udp")" =~ $re ]] || return 1
	TA=${BASH_REMATCH[1]} TSC=${BASH_REMATCH[2]}
	echo "Ta $TA $TSC"
}

# server_fin_run [BACKEND_LINES]: the client sends its FIN 300 ms after
# the upgrade; the server answered the upgrade and stays silent and open.
server_fin_run() {
	printf "$SWITCH" > "$W/switch"
	start_script_server "cat $W/switch; sleep 20"
	SERVER=127.0.0.1:$SPORT BACKEND_LINES="$1" start_small_proxy < /dev/null
	printf "$UPGRADE_REQ@@@x" | "$T/rawclient" -p "$PPORT" -s -d 300 -t 8000 > "$W/out" || true
	grep -q '101 Switching' "$W/out"
}

@test "timeout server-fin: once the client's FIN is passed on, a silent server is dropped after server-fin" {
	server_fin_run $'    timeout tunnel 4s\n    timeout server-fin 700ms'
	tunnel_ta
	[ "$TSC" = sD-- ]
	[ "$TA" -ge 900 ] && [ "$TA" -le 2500 ]
}

@test "without timeout server-fin, the half-closed tunnel keeps timeout tunnel" {
	server_fin_run $'    timeout tunnel 2500ms'
	tunnel_ta
	[ "$TSC" = sD-- ]
	[ "$TA" -ge 2700 ]
}

# client_fin_run [FRONTEND_LINES]: the server sends its FIN 300 ms after
# the upgrade; the client never closes: socat's stdin is a FIFO the test
# holds open until the session's log line is there. Sets TA and TSC.
client_fin_run() {
	local hold
	printf "$SWITCH" > "$W/switch"
	start_script_server "cat $W/switch; sleep 0.3"
	printf '%s\n' "$1" > "$W/fe.lines"
	SERVER=127.0.0.1:$SPORT BACKEND_LINES='    timeout tunnel 3s' \
		start_small_proxy < "$W/fe.lines"
	mkfifo "$W/client.in"
	timeout 8 socat -t 8 - TCP:127.0.0.1:"$PPORT" < "$W/client.in" \
		> "$W/out" 2>/dev/null 3>&- &
	STARTED_PIDS+=("$!")
	exec {hold}> "$W/client.in"
	printf "$UPGRADE_REQ" >&"$hold"
	wait_for_line "$W/log1.udp" '"GET /t ' 80
	exec {hold}>&-
	tunnel_ta
	grep -q '101 Switching' "$W/out"
}

@test "timeout client-fin: once the server's FIN is passed on, a silent client is dropped after client-fin" {
	client_fin_run '    timeout client-fin 700ms'
	[ "$TSC" = cD-- ]
	[ "$TA" -ge 900 ] && [ "$TA" -le 2500 ]
}

@test "without timeout client-fin, the half-closed tunnel keeps timeout tunnel" {
	client_fin_run ''
	[ "$TSC" = cD-- ]
	[ "$TA" -ge 3000 ]
}

# ---- Expect: 100-continue ----

@test "Expect: 100-continue: the server's 100 reaches the client before the body, then the final answer" {
	start_small_proxy < /dev/null
	head='POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'
	# the head alone: the 100 comes back, and nothing else
	printf "$head" | "$T/rawclient" -p "$PPORT" -t 700 > "$W/interim" || true
	[ "$(cat "$W/interim")" = $'HTTP/1.1 100 Continue\r\n\r' ]
	# the body after the 100: the final answer follows it
	printf "$head@@@hello" | "$T/rawclient" -p "$PPORT" -d 300 > "$W/out"
	[ "$(head -c 25 "$W/out" | tr '\r\n' RN)" = 'HTTP/1.1 100 ContinueRNRN' ]
	[[ "$(tail -c +26 "$W/out")" == "HTTP/1.1 200 OK"* ]]
	grep -q hello "$W/out"      # the backend shows the body it got
	# the server got the Expect header
	grep -qi '^Expect: 100-continue' "$W/www.log"
	wait_for 30 count_at_least 2 '"POST /up HTTP/1.1"' "$W/log1.udp"
	grep -qE ' 200 [0-9]+ - - ---- .*"POST /up HTTP/1.1"$' "$W/log1.udp"
}

@test "Expect: 100-continue to a server that sends no 100: wsproxy sends none either, the late body is forwarded" {
	# the server reads the head and the 5-byte body, then answers
	cat > "$W/srv.sh" <<-'EOF'
	while IFS= read -r line; do [ "$line" = $'\r' ] && break; done
	head -c 5 > /dev/null
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
	EOF
	start_script_server "bash $W/srv.sh"
	SERVER=127.0.0.1:$SPORT start_small_proxy < /dev/null
	head='POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n'
	printf "$head" | "$T/rawclient" -p "$PPORT" -t 1200 > "$W/interim" || true
	[ ! -s "$W/interim" ]
	printf "$head@@@hello" | "$T/rawclient" -p "$PPORT" -d 1200 -t 3000 -q 300 > "$W/out" || true
	[[ "$(cat "$W/out")" == "HTTP/1.1 200 OK"*ok ]]
}

@test "a refused request with Expect: 100-continue gets the final answer alone, no 100" {
	start_small_proxy < /dev/null
	printf 'POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' |
		"$T/rawclient" -p "$PPORT" -t 2000 > "$W/out" || true
	[[ "$(cat "$W/out")" == "HTTP/1.1 400 Bad request"* ]]
	[ ! -s "$W/www.log" ]
}

# ---- HTTP/1.0 client, chunked response ----

# chunked_server: a server on $SPORT that answers every request with
# 2.6's example of §15.2 (chunks 5 and 6, then the last chunk).
chunked_server() {
	printf 'HTTP/1.1 200 OK\r\nX-Srv: b1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' > "$W/chunked"
	start_script_server "cat $W/chunked; sleep 2"
	SERVER=127.0.0.1:$SPORT start_small_proxy < /dev/null
}

@test "an HTTP/1.0 client gets the HTTP/1.1 chunked answer as 2.6 sends it, with connection: close, then the close" {
	chunked_server
	printf 'GET /chunked HTTP/1.0\r\n\r\n' | "$T/rawclient" -p "$PPORT" -S -t 3000 > "$W/out" 2> "$W/err"
	expected=$'HTTP/1.1 200 OK\r\nX-Srv: b1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'
	[ "$(cat "$W/out")" = "${expected%$'\n'}" ]
	# closed by the proxy, not by the server's script (2 s later)
	ms=$(sed -n 's/^elapsed=//p' "$W/err")
	[ "$ms" -lt 1500 ]
}

@test "an HTTP/1.0 keep-alive client gets the chunked answer with Connection: keep-alive, and the connection stays" {
	chunked_server
	printf 'GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' |
		"$T/rawclient" -p "$PPORT" -t 800 > "$W/out" || rc=$?
	[ "${rc:-0}" -eq 3 ]    # no close: the idle timeout ended it
	grep -q $'^Connection: keep-alive\r$' "$W/out"
	grep -q $'^Transfer-Encoding: chunked\r$' "$W/out"
	[[ "$(cat "$W/out")" == *$'0\r\n\r' ]]
}

@test "timeout client-fin/server-fin/tarpit: the config errors and warnings of 2.6" {
	config_says $'backend be\n    timeout client-fin 1s' \
		"'timeout client-fin' will be ignored because backend 'be' has no frontend capability"
	[ "$status" -eq 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    timeout server-fin 1s' \
		"'timeout server-fin' will be ignored because frontend 'fe' has no backend capability"
	[ "$status" -eq 0 ]
	config_says $'frontend fe\n    bind 127.0.0.1:1\n    timeout client-fin 1.5s' \
		"unexpected character '.' in 'timeout client-fin'"
	[ "$status" -ne 0 ]
	config_says $'backend be\n    timeout server-fin 25d' \
		"timer overflow in argument '25d' to 'timeout server-fin' (maximum value is 2147483647 ms or ~24.8 days)"
	[ "$status" -ne 0 ]
	config_says $'backend be\n    timeout tarpit 25d' \
		"timer overflow in argument '25d' to 'timeout tarpit' (maximum value is 2147483647 ms or ~24.8 days)"
	[ "$status" -ne 0 ]
	config_says $'backend be\n    timeout client-fin 1s\n    timeout server-fin 2s\n    timeout server-fin 3s' \
		"overwriting 'timeout server-fin' which was already specified"
}

# body_fin_run [FRONTEND_LINES]: a client sends a request and its FIN at
# once, then stops reading the 200 MB answer (socat's output is a pipe
# nobody reads); sets TA and TSC from its log line.
body_fin_run() {
	printf '%s\n' "$1" > "$W/fe.lines"
	CLIENT_TIMEOUT=3s start_small_proxy < "$W/fe.lines"
	# the pipe nobody reads lasts until the log line is there
	printf 'GET /big/200000000 HTTP/1.1\r\nHost: x\r\n\r\n' |
		{ socat -t 8 - TCP:127.0.0.1:"$PPORT" 3>&- || true; } | sleep 8 3>&- &
	STARTED_PIDS+=("$!")
	wait_for 80 grep -q '"GET /big/' "$W/log1.udp"
	local re=' [0-9-]+/[0-9-]+/[0-9-]+/[0-9-]+/([0-9]+) 200 [0-9]+ - - (....) '
	[[ "$(grep '"GET /big/' "$W/log1.udp")" =~ $re ]]
	TA=${BASH_REMATCH[1]} TSC=${BASH_REMATCH[2]}
	echo "Ta $TA $TSC"
}

@test "timeout client-fin in a body: a client that sent its FIN and stops reading is dropped after client-fin" {
	body_fin_run '    timeout client-fin 700ms'
	[ "$TSC" = cD-- ]
	[ "$TA" -ge 600 ] && [ "$TA" -le 2500 ]
}

@test "without timeout client-fin, that client keeps timeout client" {
	body_fin_run ''
	[ "$TSC" = cD-- ]
	[ "$TA" -ge 2900 ]
}
