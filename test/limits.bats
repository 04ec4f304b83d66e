#!/usr/bin/env bats
# Per-client limits with stick tables (reference 13): the three recipes
# of 13.6, each from two source addresses (127.0.0.2 and 127.0.0.3), what
# the counters say after a child is killed, expiry, and what each kind of
# tracker counts. Not in make test's inetd re-run: the tables live in
# memory the daemon's processes share (-i refuses a configuration with
# one, the last test here).

load helpers

# limits_proxy: a frontend "fe" on $PPORT whose lines come on stdin,
# defaults with short timeouts, backends www and ws. The access log goes
# to $W/proxy.err.
limits_proxy() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    log stderr format raw local0"
	  echo "    option httplog"
	  cat
	  classic_backends
	} > "$W/limits.cfg"
	start_proxy < "$W/limits.cfg"
}

# from SRC PATH [curl args]: the status of GET PATH sent from SRC.
from() {
	local src="$1" path="$2"; shift 2
	curl -s -m 5 -o /dev/null -w '%{http_code}' --interface "$src" \
	    "http://127.0.0.1:$PPORT$path" "$@"
}

# statuses N SRC PATH: the statuses of N requests, one after another.
statuses() {
	local n="$1" out=() i
	for ((i = 0; i < n; i++)); do
		out+=("$(from "$2" "$3")")
	done
	echo "${out[*]}"
}

# show SRC: what /show answers to SRC (an http-request return of the
# counters, placed before any tracking rule so that it counts nothing).
show() {
	curl -s -m 5 --interface "$1" "http://127.0.0.1:$PPORT/show"
}

# ws_hold SRC IDLE_MS: a WebSocket from SRC held open IDLE_MS ms in the
# background; its output in $W/ws-SRC-N.out. Sets WS_PID.
WS_N=0
ws_hold() {
	WS_N=$((WS_N + 1))
	"$T/wsclient" -p "$PPORT" -S "$1" -u /ws -n 1 -W "$2" \
	    > "$W/ws-$1-$WS_N.out" 2>&1 &
	WS_PID=$!
	STARTED_PIDS+=("$WS_PID")
}

# ws_status SRC: the status line a WebSocket upgrade from SRC gets.
ws_status() {
	"$T/wsclient" -p "$PPORT" -S "$1" -u /ws -n 1 2>/dev/null |
	    head -1 | tr -d '\r'
}

@test "recipe: request rate per source, 429 from the 4th request in the period, each source on its own" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 100k expire 30s store http_req_rate(10s),http_req_cnt,http_err_cnt
	    http-request return status 200 content-type text/plain lf-string "req=%[src_http_req_cnt] err=%[src_http_err_cnt] rate=%[src_http_req_rate]" if { path /show }
	    http-request track-sc0 src
	    http-request deny deny_status 429 if { sc0_http_req_rate gt 3 }
	    default_backend www
	EOF
	run statuses 5 127.0.0.2 /x
	[ "$output" = "200 200 200 429 429" ]
	# the other source is not limited by the first one's requests
	[ "$(from 127.0.0.3 /x)" = 200 ]
	# denied requests count too (13.6): 5 requests, 2 errors
	[ "$(show 127.0.0.2)" = "req=5 err=2 rate=5" ]
	[ "$(show 127.0.0.3)" = "req=1 err=0 rate=1" ]
	# the 429 is 2.6's, the connection kept, logged PR--
	run curl -s -i -m 5 --interface 127.0.0.2 "http://127.0.0.1:$PPORT/x"
	[[ "$output" == "HTTP/1.1 429 Too Many Requests"* ]]
	grep -q ' 429 .* PR-- ' "$W/proxy.err"
}

@test "recipe: concurrent WebSockets per source, the 3rd refused while two are open, and counted down when they close" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 100k expire 30s store conn_cur
	    http-request return status 200 content-type text/plain lf-string "cur=%[src_conn_cur]" if { path /show }
	    tcp-request content track-sc1 src unless { path /show }
	    http-request deny deny_status 429 if { path_beg /ws } { sc1_conn_cur gt 2 }
	    use_backend ws if { path_beg /ws }
	    default_backend www
	EOF
	ws_hold 127.0.0.2 1500; first=$WS_PID
	ws_hold 127.0.0.2 1500; second=$WS_PID
	wait_for 30 grep -q 'ok 1 messages' "$W/ws-127.0.0.2-1.out"
	wait_for 30 grep -q 'ok 1 messages' "$W/ws-127.0.0.2-2.out"
	[ "$(show 127.0.0.2)" = "cur=2" ]
	run ws_status 127.0.0.2
	[ "$output" = "HTTP/1.1 429 Too Many Requests" ]
	# another source has its own count
	run ws_status 127.0.0.3
	[ "$output" = "HTTP/1.1 101 Switching Protocols" ]
	wait "$first"
	wait "$second"
	wait_for 30 eval '[ "$(show 127.0.0.2)" = "cur=0" ]'
	run ws_status 127.0.0.2
	[ "$output" = "HTTP/1.1 101 Switching Protocols" ]
}

@test "recipe: connection rate, the 4th connection reset at accept and never forked, rejected ones still counted" {
	free_ports 1
	SHOWPORT=${PORTS[0]}
	limits_proxy <<-EOF
	    stick-table type ip size 100k expire 30s store conn_rate(10s),conn_cnt
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_rate gt 3 }
	    default_backend www
	frontend show
	    bind 127.0.0.1:$SHOWPORT
	    http-request return status 200 content-type text/plain lf-string "rate=%[src_conn_rate(fe)] cnt=%[src_conn_cnt(fe)]"
	EOF
	run statuses 5 127.0.0.2 /x
	[ "$output" = "200 200 200 000 000" ]
	[ "$(from 127.0.0.3 /x)" = 200 ]
	run curl -s -m 5 --interface 127.0.0.2 "http://127.0.0.1:$SHOWPORT/"
	[ "$output" = "rate=5 cnt=5" ]
	run curl -s -m 5 --interface 127.0.0.3 "http://127.0.0.1:$SHOWPORT/"
	[ "$output" = "rate=1 cnt=1" ]
	# nothing logged for the rejected ones: three requests from .2
	# (each line once in the log target and once more as -d copies it)
	[ "$(grep '^127.0.0.2:[0-9]* .* fe www/' "$W/proxy.err" | sort -u |
	    wc -l)" -eq 3 ]
}

@test "a connection tracker counts every request of its keep-alive connection and ends when the connection does" {
	free_ports 1
	SHOWPORT=${PORTS[0]}
	limits_proxy <<-EOF
	    stick-table type ip size 1k store conn_cnt,conn_cur,sess_cnt,http_req_cnt
	    tcp-request connection track-sc0 src
	    http-request set-header X-Seen "cur=%[sc0_conn_cur] req=%[sc0_http_req_cnt]"
	    default_backend www
	frontend show
	    bind 127.0.0.1:$SHOWPORT
	    http-request return status 200 content-type text/plain lf-string "cnt=%[src_conn_cnt(fe)] cur=%[src_conn_cur(fe)] sess=%[src_sess_cnt(fe)] req=%[src_http_req_cnt(fe)]"
	EOF
	# three requests on one connection (curl reuses it)
	run curl -s -m 5 --interface 127.0.0.2 "http://127.0.0.1:$PPORT/a" \
	    "http://127.0.0.1:$PPORT/b" "http://127.0.0.1:$PPORT/c"
	[[ "$output" == *"x-seen: cur=1 req=3"* ]]
	wait_for 30 eval '[ "$(curl -s -m 5 --interface 127.0.0.2 "http://127.0.0.1:$SHOWPORT/")" = "cnt=1 cur=0 sess=1 req=3" ]'
}

@test "an http-request tracker counts its transactions: conn_cnt per request, conn_cur back to 0 after each" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 1k store conn_cnt,conn_cur,sess_cnt,http_req_cnt
	    http-request return status 200 content-type text/plain lf-string "cnt=%[src_conn_cnt] cur=%[src_conn_cur] sess=%[src_sess_cnt] req=%[src_http_req_cnt]" if { path /show }
	    http-request track-sc0 src
	    http-request set-header X-Seen "cur=%[sc0_conn_cur] req=%[sc0_http_req_cnt]"
	    default_backend www
	EOF
	run curl -s -m 5 --interface 127.0.0.2 "http://127.0.0.1:$PPORT/a" \
	    "http://127.0.0.1:$PPORT/b" "http://127.0.0.1:$PPORT/c"
	# read just after the track rule: the current request included
	[[ "$output" == *"x-seen: cur=1 req=1"* ]]
	[ "$(show 127.0.0.2)" = "cnt=3 cur=0 sess=0 req=3" ]
}

@test "a killed child's trackers are given back by the parent: conn_cur returns to 0, the limit lets the source in again" {
	free_ports 1
	SHOWPORT=${PORTS[0]}
	limits_proxy <<-EOF
	    stick-table type ip size 1k expire 30s store conn_cur
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_cur gt 2 }
	    use_backend ws if { path_beg /ws }
	    default_backend www
	frontend show
	    bind 127.0.0.1:$SHOWPORT
	    http-request return status 200 content-type text/plain lf-string "cur=%[src_conn_cur(fe)]"
	EOF
	ws_hold 127.0.0.2 20000
	ws_hold 127.0.0.2 20000
	wait_for 30 eval '[ "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$SHOWPORT/")" = "cur=2" ]'
	# the third is reset at accept
	[ "$(from 127.0.0.2 /x)" = 000 ]
	# SIGKILL every child of the daemon: no child gives anything back
	for pid in $(pgrep -P "$PROXY_PID"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait_for 30 eval '[ "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$SHOWPORT/")" = "cur=0" ]'
	[ "$(from 127.0.0.2 /x)" = 200 ]
}

@test "a child killed in the middle of a tracked WebSocket: the parent ends its http-request tracker too" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt
	    http-request return status 200 content-type text/plain lf-string "cur=%[src_conn_cur] cnt=%[src_conn_cnt]" if { path /show }
	    http-request track-sc0 src
	    use_backend ws if { path_beg /ws }
	    default_backend www
	EOF
	ws_hold 127.0.0.2 20000
	ws_hold 127.0.0.2 20000
	wait_for 30 eval '[ "$(show 127.0.0.2)" = "cur=2 cnt=2" ]'
	for pid in $(pgrep -P "$PROXY_PID"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait_for 30 eval '[ "$(show 127.0.0.2)" = "cur=0 cnt=2" ]'
}

@test "expiry: an entry untouched for 'expire' is gone, one still tracked stays" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 1k expire 1500ms store http_req_cnt
	    http-request return status 200 content-type text/plain lf-string "cnt=%[table_cnt] req=%[src_http_req_cnt]" if { path /show }
	    http-request track-sc0 src
	    use_backend ws if { path_beg /ws }
	    default_backend www
	EOF
	[ "$(from 127.0.0.2 /x)" = 200 ]
	[ "$(show 127.0.0.2)" = "cnt=1 req=1" ]
	# a WebSocket holds 127.0.0.3's entry past the expiry
	ws_hold 127.0.0.3 3000
	sleep 1
	[ "$(show 127.0.0.2)" = "cnt=2 req=1" ]
	sleep 1
	# .2's entry expired (no value for it), .3's is held
	[ "$(show 127.0.0.2)" = "cnt=1 req=" ]
	[ "$(from 127.0.0.2 /x)" = 200 ]
	[ "$(show 127.0.0.2)" = "cnt=2 req=1" ]
}

@test "tcp-request session trackers, sc-inc-gpc0 and sc0_get_gpc0: a source flagged once stays refused" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 1k expire 30s store gpc0,http_req_cnt
	    tcp-request session track-sc2 src
	    http-request sc-inc-gpc0(2) if { path_beg /admin }
	    http-request deny if { sc2_get_gpc0 gt 0 }
	    default_backend www
	EOF
	[ "$(from 127.0.0.2 /x)" = 200 ]
	[ "$(from 127.0.0.2 /admin)" = 403 ]
	[ "$(from 127.0.0.2 /x)" = 403 ]
	[ "$(from 127.0.0.3 /x)" = 200 ]
}

@test "a key from a header: string table, one entry per API key whatever the source" {
	limits_proxy <<-'EOF'
	    stick-table type string len 16 size 1k store http_req_cnt
	    http-request track-sc0 req.hdr(x-api-key)
	    http-request deny deny_status 429 if { sc0_http_req_cnt gt 2 }
	    default_backend www
	EOF
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: k1')" = 200 ]
	[ "$(from 127.0.0.3 /x -H 'X-Api-Key: k1')" = 200 ]
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: k1')" = 429 ]
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: k2')" = 200 ]
	# keys are truncated to len: one entry for keys that differ past it
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: aaaaaaaaaaaaaaaa1')" = 200 ]
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: aaaaaaaaaaaaaaaa2')" = 200 ]
	[ "$(from 127.0.0.2 /x -H 'X-Api-Key: aaaaaaaaaaaaaaaa3')" = 429 ]
	# no header: nothing tracked, no value, not denied
	[ "$(from 127.0.0.2 /x)" = 200 ]
	[ "$(from 127.0.0.2 /x)" = 200 ]
	[ "$(from 127.0.0.2 /x)" = 200 ]
}

@test "string keys longer than the longest a table holds (256) are their first 256 bytes" {
	limits_proxy <<-'EOF'
	    stick-table type string len 256 size 1k store http_req_cnt
	    http-request track-sc0 req.hdr(x-api-key)
	    http-request deny deny_status 429 if { sc0_http_req_cnt gt 2 }
	    default_backend www
	EOF
	a=$(printf 'a%.0s' {1..300}) b=$(printf 'b%.0s' {1..300})
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${a}1")" = 200 ]
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${b}1")" = 200 ]
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${a}2")" = 200 ]
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${b}2")" = 200 ]
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${a}3")" = 429 ]
	[ "$(from 127.0.0.2 /x -H "X-Api-Key: ${b}3")" = 429 ]
}

@test "a reload keeps a table whose definition did not change, and empties one that changed" {
	limits_proxy <<-'EOF'
	    stick-table type ip size 1k expire 30s store http_req_cnt
	    http-request return status 200 content-type text/plain lf-string "req=%[src_http_req_cnt]" if { path /show }
	    http-request track-sc0 src
	    default_backend www
	EOF
	from 127.0.0.2 /x; from 127.0.0.2 /x
	[ "$(show 127.0.0.2)" = "req=2" ]
	# the same table, another rule
	sed -i 's|default_backend www|http-request set-header X-R 1\n    default_backend www|' "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded '
	[ "$(show 127.0.0.2)" = "req=2" ]
	# another size: a new, empty table
	sed -i 's/size 1k/size 2k/' "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for 30 eval '[ "$(grep -c "reloaded " "$W/proxy.err")" -eq 2 ]'
	[ "$(show 127.0.0.2)" = "req=" ]
}

@test "inetd mode refuses a configuration with a stick table: its limits could not hold" {
	free_ports 1
	cat > "$W/i.cfg" <<-EOF
	frontend fe
	    bind 127.0.0.1:${PORTS[0]}
	    stick-table type ip size 1k store conn_cur
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_cur gt 1 }
	    default_backend be
	backend be
	    server s1 127.0.0.1:1
	EOF
	run "$WSPROXY" -c -i -f "$W/i.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"i.cfg:3: 'stick-table' cannot be honoured in inetd mode (-i)"*"standalone"* ]]
	# served under inetd: closed at once, nothing on fd 1 or 2
	rc=0
	printf 'GET / HTTP/1.0\r\n\r\n' |
	    "$WSPROXY" -i -f "$W/i.cfg" > "$W/out" 2> "$W/err" || rc=$?
	[ "$rc" -eq 1 ]
	[ ! -s "$W/out" ]
	[ ! -s "$W/err" ]
}
