#!/usr/bin/env bats
# tunnel-keeper: once a connection's child has relayed the 101 of an
# upgrade (and the bytes right behind it), it hands both sockets to a
# keeper process and exits. The keeper relays the tunnel with bounded
# buffers, passes half-closes on, idles it out with the same timeouts and
# logs it with the same line as the child would have; shutdown sessions,
# maxconn, reloads, soft stop and a keeper's death all keep working.
# Where it makes sense a scenario runs twice, without keeper (the
# reference: what wsproxy has always done) and with one, and the two log
# lines are compared.

load helpers

# the runtime socket and the script servers need socat
TEST_NEEDS=socat

UPGRADE_REQ='GET /t HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'
SWITCH='HTTP/1.1 101 Switching Protocols\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'

# ---- the proxy and its keepers ----

# cpus: how many keepers "tunnel-keeper on" may start, one per line: one
# per two CPUs (at least one, at most 64) of those this process may run
# on (nproc) or of those online.
cpus() {
	{ nproc; getconf _NPROCESSORS_ONLN; } |
		awk '{ n = int($1 / 2); if (n < 1) n = 1; if (n > 64) n = 64;
		    print n }' | sort -nu
}

# keeper_count KEEPER: how many keepers "tunnel-keeper KEEPER" makes, at
# least ("default": no tunnel-keeper line at all).
keeper_count() {
	case "$1" in
	default|off) echo 0 ;;
	on) cpus | head -1 ;;
	*) echo "$1" ;;
	esac
}

# keeper_pids: the pid of each keeper (the last one started under each
# number), from the "tunnel keeper N started, pid PID" lines, sorted.
keeper_pids() {
	sed -nE 's/.*tunnel keeper ([0-9]+) started, pid ([0-9]+).*/\1 \2/p' \
		"$W/proxy.err" |
		awk '{ p[$1] = $2 } END { for (n in p) print p[n] }' | sort -n
}

# keepers_up: the keepers KEEPER asks for have all said they started;
# sets NKEEPERS and KEEPER_PIDS.
keepers_up() {
	NKEEPERS=$(keeper_count "$KEEPER")
	if [ "$NKEEPERS" -gt 0 ]; then
		wait_for 50 count_at_least "$NKEEPERS" \
			'tunnel keeper [0-9]* started, pid [0-9]' "$W/proxy.err" ||
			{ cat "$W/proxy.err" >&2; return 1; }
	fi
	if [ "$KEEPER" = on ]; then
		# either count of CPUs will do
		sleep 0.3
		NKEEPERS=$(keeper_pids | wc -l)
		cpus | grep -qx "$NKEEPERS" ||
			{ echo "$NKEEPERS keepers for $(cpus | tr '\n' ' ') CPUs" >&2; return 1; }
	fi
	mapfile -t KEEPER_PIDS < <(keeper_pids)
	[ "${#KEEPER_PIDS[@]}" -eq "$NKEEPERS" ] ||
		{ echo "keepers: ${KEEPER_PIDS[*]} (want $NKEEPERS)" >&2; return 1; }
}

# keeper_proxy KEEPER: backend "be" (its server lines on stdin; none:
# server ws1, the test backend "ws") behind a frontend "fe" on $PPORT; global:
# "tunnel-keeper KEEPER" (none for "default"), the runtime socket
# $W/admin.sock, logs to the UDP sink log1 (start it first), option
# httplog. EXTRA_GLOBAL, EXTRA_DEFAULTS, EXTRA_FRONTEND and EXTRA_BACKEND
# lines are added to their sections, EXTRA_SECTIONS at the end;
# CLIENT_TIMEOUT etc. as in defaults_section.
keeper_proxy() {
	local keeper="$1" servers
	servers=$(cat)
	[ -n "$servers" ] || servers="    server ws1 127.0.0.1:$BPORT_ws"
	free_ports 1; PPORT=${PORTS[0]}
	{ echo "global"
	  [ "$keeper" = default ] || echo "    tunnel-keeper $keeper"
	  echo "    stats socket $W/admin.sock level admin"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  [ -z "${EXTRA_GLOBAL:-}" ] || echo "$EXTRA_GLOBAL"
	  defaults_section
	  echo "    log global"
	  echo "    option httplog"
	  [ -z "${EXTRA_DEFAULTS:-}" ] || echo "$EXTRA_DEFAULTS"
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    default_backend be"
	  [ -z "${EXTRA_FRONTEND:-}" ] || echo "$EXTRA_FRONTEND"
	  echo "backend be"
	  [ -z "${EXTRA_BACKEND:-}" ] || echo "$EXTRA_BACKEND"
	  echo "$servers"
	  [ -z "${EXTRA_SECTIONS:-}" ] || echo "$EXTRA_SECTIONS"
	} > "$W/keeper.cfg"
	start_proxy < "$W/keeper.cfg"
	KEEPER=$keeper
	keepers_up
}

# all_keeper_pids: every keeper ever started, sorted.
all_keeper_pids() {
	sed -nE 's/.*tunnel keeper [0-9]+ started, pid ([0-9]+).*/\1/p' \
		"$W/proxy.err" | sort -n
}

# only_keepers: the proxy's children are all keepers (every connection's
# child has handed its tunnel over and exited), and the current keepers
# are all there.
only_keepers() {
	local kids pid
	kids=$(pgrep -P "$PROXY_PID" | sort -n)
	for pid in $kids; do
		grep -qx "$pid" <(all_keeper_pids) || return 1
	done
	for pid in $(keeper_pids); do
		grep -qx "$pid" <<< "$kids" || return 1
	done
}

# nchildren N: the proxy has N children.
nchildren() {
	[ "$(pgrep -P "$PROXY_PID" | wc -l)" -eq "$1" ]
}

# tunnel_settled [N [PID...]]: with keepers, the tunnels now open were
# handed over (only the keepers are left); without, each of the N (1)
# tunnels still has its own child. The PIDs, the clients of those
# tunnels, must still run then: a tunnel that ended leaves only the
# keepers too.
tunnel_settled() {
	local n=${1:-1} pid
	shift || true
	if [ "$NKEEPERS" -gt 0 ]; then
		wait_for 30 only_keepers ||
			{ echo "children: $(pgrep -P "$PROXY_PID" | tr '\n' ' ')" \
				"keepers: $(keeper_pids | tr '\n' ' ')" >&2; return 1; }
	else
		wait_for 30 nchildren "$n"
	fi
	for pid; do
		alive "$pid" || { echo "client $pid is gone: its tunnel ended" \
			"before it was seen handed over" >&2; return 1; }
	done
}

# fds PID: how many descriptors the process holds.
fds() {
	ls "/proc/$1/fd" | wc -l
}

# fds_at_most PID N: the process holds N descriptors or fewer.
fds_at_most() {
	[ "$(fds "$1")" -le "$2" ]
}

# children_are "PID PID ...": the proxy's children, sorted, are those.
children_are() {
	[ "$(pgrep -P "$PROXY_PID" | sort -n | tr '\n' ' ')" = "$1" ]
}

# rss PID: its resident memory, kB.
rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

cli() {
	printf '%s\n' "$1" | socat -t 5 stdio "UNIX-CONNECT:$W/admin.sock"
}

# ws_bg OUT ARGS...: a wsclient in the background (output in OUT, pid in
# WS_PID), returning once it has the 101 (it prints backend= then).
ws_bg() {
	local out="$1"; shift
	"$T/wsclient" -p "$PPORT" "$@" > "$out" 2>&1 3>&- &
	WS_PID=$!
	STARTED_PIDS+=("$WS_PID")
	wait_for_line "$out" '^backend='
}

# start_script_server SCRIPT: a server on $SPORT that runs the shell
# SCRIPT per connection (socat -t 30 keeps the socket half-open).
start_script_server() {
	free_ports 1; SPORT=${PORTS[0]}
	socat -t 30 TCP-LISTEN:"$SPORT",bind=127.0.0.1,reuseaddr,fork \
		SYSTEM:"$1" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$SPORT" "$!"
}

# ---- the log line ----

LOGRE=' fe ([^ ]+) ([0-9-]+)/([0-9-]+)/([0-9-]+)/([0-9-]+)/([0-9]+) ([0-9]+) ([0-9]+) - - (....) ([0-9]+/[0-9]+/[0-9]+/[0-9]+/[0-9+]+) ([0-9]+/[0-9]+) (".*")$'

# log_fields PATTERN: the httplog line matching PATTERN in log1: sets
# FIELDS ("backend/server status bytes termination-state"), LTA (Ta) and
# REST (the connection counts, the queues and the request).
log_fields() {
	wait_for_line "$W/log1.udp" "$1" 80 || return 1
	local line
	line=$(grep -E -- "$1" "$W/log1.udp" | tail -1)
	[[ "$line" =~ $LOGRE ]] || { echo "unexpected line: $line" >&2; return 1; }
	LTA=${BASH_REMATCH[6]}
	FIELDS="${BASH_REMATCH[1]} ${BASH_REMATCH[7]} ${BASH_REMATCH[8]} ${BASH_REMATCH[9]}"
	REST="${BASH_REMATCH[10]} ${BASH_REMATCH[11]} ${BASH_REMATCH[12]}"
	echo "[$KEEPER] $line"
}

# fresh_run TAG: a new $W for one of the runs of a test.
fresh_run() {
	W="$BATS_TEST_TMPDIR/$1"
	mkdir -p "$W"
	BACKENDS=()
}

# both_ways SCENARIO: runs "SCENARIO default" (no keeper) and then
# "SCENARIO 1" (one keeper), each in its own $W, each setting FIELDS and
# LTA from its log line; sets REF_FIELDS/REF_TA/REF_REST and
# KEPT_FIELDS/KEPT_TA/KEPT_REST.
both_ways() {
	fresh_run ref
	"$1" default
	REF_FIELDS=$FIELDS REF_TA=$LTA REF_REST=$REST
	stop_proxy
	fresh_run kept
	"$1" 1
	KEPT_FIELDS=$FIELDS KEPT_TA=$LTA KEPT_REST=$REST
	echo "without keeper: $REF_FIELDS Ta=$REF_TA $REF_REST"
	echo "with keeper:    $KEPT_FIELDS Ta=$KEPT_TA $KEPT_REST"
}

# ws_logged KEEPER: backend ws (server ws1, with the options in
# SRV_OPTS), the log sink log1, the proxy.
ws_logged() {
	start_backend ws
	start_udpsink log1
	echo "    server ws1 127.0.0.1:$BPORT_ws ${SRV_OPTS:-}" > "$W/servers"
	keeper_proxy "$1" < "$W/servers"
}

# ---- the keyword ----

# keeper_config VALUE: a file whose line 2 is "tunnel-keeper VALUE".
keeper_config() {
	printf 'global\n    tunnel-keeper %s\nfrontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    server s 127.0.0.1:1\n' \
		"$1" > "$W/k.cfg"
	run "$WSPROXY" -c -f "$W/k.cfg"
}

@test "tunnel-keeper on, off, 1 and 64 are valid; maybe, 0, 65, -1 and nothing are FILE:LINE errors" {
	for v in on off 1 2 64; do
		keeper_config "$v"
		[ "$status" -eq 0 ] || { echo "tunnel-keeper $v: $output"; false; }
		[[ "$output" == *"Configuration file is valid"* ]]
	done
	for v in maybe 0 65 -1 1x ""; do
		keeper_config "$v"
		[ "$status" -eq 1 ] || { echo "tunnel-keeper '$v': status $status: $output"; false; }
		[[ "$output" == *"$W/k.cfg:2: "* ]] || { echo "tunnel-keeper '$v': $output"; false; }
		[[ "$output" == *"tunnel-keeper"* ]] || { echo "tunnel-keeper '$v': $output"; false; }
	done
}

@test "tunnel-keeper N starts N keepers, on one per two CPUs, off none; each says so with its pid" {
	start_backend ws
	start_udpsink log1
	keeper_proxy 3 < /dev/null
	for n in 0 1 2; do
		grep -qE "tunnel keeper $n started, pid [0-9]+" "$W/proxy.err"
	done
	! grep -qE 'tunnel keeper 3 started' "$W/proxy.err"
	[ "$(printf '%s\n' "${KEEPER_PIDS[@]}" | sort -u | wc -l)" -eq 3 ]
	# they are the proxy's children, and its only ones while idle
	wait_for 30 only_keepers
	for pid in "${KEEPER_PIDS[@]}"; do alive "$pid"; done
	stop_proxy
	for pid in "${KEEPER_PIDS[@]}"; do wait_for 30 gone "$pid"; done

	keeper_proxy on < /dev/null
	cpus | grep -qx "$NKEEPERS"
	wait_for 30 only_keepers
	stop_proxy

	keeper_proxy off < /dev/null
	sleep 0.3
	! grep -q 'tunnel keeper' "$W/proxy.err"
	nchildren 0
	stop_proxy

	keeper_proxy default < /dev/null
	sleep 0.3
	! grep -q 'tunnel keeper' "$W/proxy.err"
	nchildren 0
}

@test "the keepers run with the privileges dropped (user nobody)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	EXTRA_GLOBAL='    user nobody' ws_logged 2
	for pid in "${KEEPER_PIDS[@]}"; do
		awk '$1 == "Uid:"' "/proc/$pid/status"
		[ "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "/proc/$pid/status")" = 65534655346553465534 ]
	done
	# and a tunnel handed over to them works
	ws_bg "$W/ws.out" -u /ws-priv -n 2 -w 500
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
}

# ---- handover ----

@test "a WebSocket's child hands the tunnel over and exits; with tunnel-keeper off it stays" {
	ws_logged 1
	fds0=$(fds "${KEEPER_PIDS[0]}")
	ws_bg "$W/ws.out" -u /ws-handover -n 3 -s 2000 -t -w 1200
	# only the keeper is left, and it holds the two sockets
	wait_for 30 only_keepers
	[ "$(fds "${KEEPER_PIDS[0]}")" -ge $((fds0 + 2)) ]
	wait "$WS_PID"
	grep -q 'ok 3 messages' "$W/ws.out"
	# the tunnel's sockets are closed with it
	wait_for 30 fds_at_most "${KEEPER_PIDS[0]}" "$fds0"
	stop_proxy

	fresh_run off
	ws_logged off
	ws_bg "$W/ws.out" -u /ws-handover -n 3 -s 2000 -t -w 1200
	sleep 0.5
	nchildren 1
	wait "$WS_PID"
	grep -q 'ok 3 messages' "$W/ws.out"
}

@test "plain HTTP requests are not handed over: the child serves them as always" {
	ws_logged 1
	curl -s -m 5 -o "$W/slow.out" "http://127.0.0.1:$PPORT/sleep/1500" &
	slow=$!
	wait_for_line "$W/ws.log" '^GET /sleep/1500 '
	# the request's own child is still there, next to the keeper
	nchildren 2
	wait "$slow"
	grep -q '^backend=ws' "$W/slow.out"
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/after"
	[[ "${lines[0]}" == "HTTP/1.1 200 "* ]]
	[[ "$output" == *"backend=ws"* ]]
}

# scen_close KEEPER: a tunnel with echoes the client closes normally.
scen_close() {
	ws_logged "$1"
	ws_bg "$W/ws.out" -u /ws-close -n 4 -s 3000 -t -w 800 -W 200
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 4 messages' "$W/ws.out"
	log_fields '"GET /ws-close '
	# the server's and the frontend's counters (stot, bin, bout,
	# hrsp_1xx) from show stat
	wait_for 30 eval '[ "$(cli "show stat -1 4 -1" | awk -F, '\''$2 == "ws1" { print $5 }'\'')" = 0 ]'
	STATS="$(cli "show stat -1 7 -1" | awk -F, '$2 == "ws1" || $2 == "FRONTEND" { print $2, $8, $9, $10, $40 }' | tr '\n' ' ')"
	echo "[$1] show stat: $STATS"
	echo "$STATS" > "$W/stats"
}

@test "a tunnel the client closes is logged as without keeper: 101, same bytes, ----" {
	both_ways scen_close
	REF_STATS=$(cat "$BATS_TEST_TMPDIR/ref/stats")
	[ "$STATS" = "$REF_STATS" ]
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	read -r _ _ bytes _ <<< "$KEPT_FIELDS"
	[ "$bytes" -gt 12000 ]      # the echoes count
	[ "$KEPT_TA" -ge 1000 ]     # Ta covers the tunnel's life
}

@test "early bytes both ways: the server's frame in the 101's write, a large client frame behind the request" {
	ws_logged 1
	# a 200000-byte binary frame, mask 0 (payload as is), right behind
	# the request in the same write; later a second frame, "late"
	head -c 200000 /dev/urandom | tr '@' 'A' > "$W/payload"
	{ printf 'GET /ws-hello HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
	  printf 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
	  printf '\x82\xff\x00\x00\x00\x00\x00\x03\x0d\x40\x00\x00\x00\x00'
	  cat "$W/payload"
	  printf '@@@\x81\x84\x00\x00\x00\x00late'
	} > "$W/in"
	{ printf '\x81\x05hello'
	  printf '\x82\x7f\x00\x00\x00\x00\x00\x03\x0d\x40'
	  cat "$W/payload"
	  printf '\x81\x04late'
	} > "$W/expected"
	fds0=$(fds "${KEEPER_PIDS[0]}")
	"$T/rawclient" -p "$PPORT" -d 2000 -t 1500 < "$W/in" > "$W/out" 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for 50 handshakes 1
	# handed over before "late" is sent
	wait_for 18 only_keepers
	[ "$(fds "${KEEPER_PIDS[0]}")" -ge $((fds0 + 2)) ]
	rc=0; wait "$client" || rc=$?
	[ "$rc" -eq 3 ]     # the tunnel stays open: idle timeout of rawclient
	[[ "$(head -c 32 "$W/out")" == "HTTP/1.1 101 Switching Protocols"* ]]
	size=$(stat -c %s "$W/expected")
	tail -c "$size" "$W/out" | cmp - "$W/expected"
	# the head, then exactly that
	[ "$(grep -c $'^\r$' <(head -c $(( $(stat -c %s "$W/out") - size )) "$W/out"))" -eq 1 ]
}

@test "wsclient -g: the greeting frame sent with the 101 arrives through the keeper" {
	ws_logged 1
	ws_bg "$W/ws.out" -u /ws-hello -g hello -n 2 -w 500
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
}

# ---- half-close ----

# scen_client_halfclose KEEPER: the client's FIN (after "ping") reaches
# the raw echo server, whose EOF and BYE still come back.
scen_client_halfclose() {
	ws_logged "$1"
	req=$'GET /ws-hc HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\n'
	printf '%s@@@ping-before-fin' "$req" > "$W/in"
	"$T/rawclient" -p "$PPORT" -s -t 3000 -d 800 < "$W/in" > "$W/out" 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for_line "$W/ws.log" '^GET /ws-hc '
	tunnel_settled 1 "$client"
	rc=0; wait "$client" || rc=$?
	[ "$rc" -eq 0 ]     # the server closed, after its answers
	grep -q 'ping-before-fin' "$W/out"
	[[ "$(cat "$W/out")" == *$'ping-before-fin'*$'EOF\nBYE' ]]
	log_fields '"GET /ws-hc '
}

@test "half-close: the client's FIN reaches the server through the keeper, which can still answer" {
	both_ways scen_client_halfclose
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
}

# scen_early_fin KEEPER: the request, bytes and the client's FIN at once.
scen_early_fin() {
	ws_logged "$1"
	printf 'GET /ws-fin HTTP/1.1\r\nHost: x\r\nUpgrade: rawecho\r\nConnection: Upgrade\r\n\r\nNOT HTTP AT ALL\r\n' > "$W/in"
	run "$T/rawclient" -p "$PPORT" -s -t 3000 < "$W/in"
	[ "$status" -eq 0 ]
	[[ "$output" == "HTTP/1.1 101 Switching Protocols"*"NOT HTTP AT ALL"*$'EOF\nBYE' ]]
	log_fields '"GET /ws-fin '
}

@test "half-close right behind the request: bytes and FIN reach the server, its answer and close come back" {
	both_ways scen_early_fin
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	[ "$KEPT_TA" -lt 2000 ]
}

# scen_server_halfclose KEEPER: the server (wshold -L) answers the
# upgrade, shuts its side 700 ms later and keeps reading; the client
# (bash's /dev/tcp) reads until that EOF, sends "after-fin", then closes.
scen_server_halfclose() {
	local fd reader start ms rc
	free_ports 1; SPORT=${PORTS[0]}
	"$T/wshold" -L "$SPORT" -F 700 -o "$W/got" -P "$W/srv.pid" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/srv.pid"
	start_udpsink log1
	CLIENT_TIMEOUT=2s SERVER_TIMEOUT=2s keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	exec {fd}<>"/dev/tcp/127.0.0.1/$PPORT"
	start=$(date +%s%N)
	printf "$UPGRADE_REQ" >&"$fd"
	# all the server sends, until its FIN (3 s at most)
	timeout 3 cat <&"$fd" > "$W/out" 3>&- &
	reader=$!
	wait_for_line "$W/out" '101 Switching'
	tunnel_settled 1 "$reader"
	rc=0; wait "$reader" || rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "[$1] the server's EOF after $ms ms (rc $rc)"
	[ "$rc" -eq 0 ]
	[ "$ms" -ge 600 ] && [ "$ms" -le 2000 ]
	[ "$(cat "$W/out")" = "$(printf "$SWITCH")" ]
	# the client's side is still open: what it sends reaches the server
	printf after-fin >&"$fd"
	wait_for 30 grep -q after-fin "$W/got" 2>/dev/null
	exec {fd}>&-
	log_fields '"GET /t '
}

@test "half-close: the server's FIN reaches the client through the keeper, which can still send" {
	both_ways scen_server_halfclose
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ ----$ ]]
}

# cpu_ticks PID: the CPU time the process has used, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# scen_client_reset KEEPER: the client resets its connection (SO_LINGER
# 0) 1 s after its upgrade; the server stays silent and open. Sets
# TICKS, the CPU the process holding the tunnel used in the next 2 s.
scen_client_reset() {
	local holder c0 client
	printf "$SWITCH" > "$W/switch"
	start_script_server "touch $W/connected; cat $W/switch; sleep 20"
	start_udpsink log1
	CLIENT_TIMEOUT=4s SERVER_TIMEOUT=4s keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	{ printf "$UPGRADE_REQ"; sleep 1; } |
		socat -u - TCP:127.0.0.1:"$PPORT",linger=0 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for 50 test -e "$W/connected"
	tunnel_settled 1 "$client"
	if [ "$NKEEPERS" -gt 0 ]; then
		holder=${KEEPER_PIDS[0]}
	else
		holder=$(pgrep -P "$PROXY_PID")
	fi
	wait "$client" || true
	c0=$(cpu_ticks "$holder")
	sleep 2
	TICKS=$(( $(cpu_ticks "$holder") - c0 ))
	echo "[$1] the tunnel's process used $TICKS ticks ($(getconf CLK_TCK)/s) in the 2 s after the reset"
	log_fields '"GET /t '
}

@test "a client that resets its tunnel: the keeper does not spin while the server side lasts" {
	both_ways scen_client_reset
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ ..--$ ]]
	# a keeper busy-looping on the reset socket would burn the 2 s
	[ "$TICKS" -lt $(( $(getconf CLK_TCK) / 4 )) ]
}

# scen_reset_while_sending KEEPER: the server sends a line every 100 ms,
# the client reads none and resets its connection 1 s after its upgrade:
# the next write to it fails.
scen_reset_while_sending() {
	local client
	printf "$SWITCH" > "$W/switch"
	start_script_server "touch $W/connected; cat $W/switch; while true; do echo tick || exit; sleep 0.1; done 2>/dev/null"
	start_udpsink log1
	CLIENT_TIMEOUT=4s SERVER_TIMEOUT=4s keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	{ printf "$UPGRADE_REQ"; sleep 1; } |
		socat -u - TCP:127.0.0.1:"$PPORT",linger=0 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for 50 test -e "$W/connected"
	tunnel_settled 1 "$client"
	wait "$client" || true
	log_fields '"GET /t '
}

@test "a client that resets while the server sends: the tunnel ends at once, logged CD as without keeper" {
	both_ways scen_reset_while_sending
	# the bytes depend on how many lines were sent before the reset
	read -r kbe kst _ ktsc <<< "$KEPT_FIELDS"
	read -r rbe rst _ rtsc <<< "$REF_FIELDS"
	[ "$kbe $kst $ktsc" = "$rbe $rst $rtsc" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ CD--$ ]]
	[ "$KEPT_TA" -lt 2500 ]
}

# ---- idle timeouts, logged as without keeper ----

# scen_idle KEEPER: the client idles 3 s after the handshake; the
# timeouts (CLIENT_TIMEOUT, SERVER_TIMEOUT, EXTRA_DEFAULTS) close it
# first. Sets IDLE, the ms the client saw before the close.
scen_idle() {
	ws_logged "$1"
	ws_bg "$W/ws.out" -u /ws-idle -n 1 -w 3000
	tunnel_settled 1 "$WS_PID"
	rc=0; wait "$WS_PID" || rc=$?
	[ "$rc" -eq 3 ]
	IDLE=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/ws.out")
	echo "[$1] closed after idle $IDLE ms"
	[ "$IDLE" -ge 600 ] && [ "$IDLE" -le 2000 ]
	log_fields '"GET /ws-idle '
}

scen_client_idle() {
	CLIENT_TIMEOUT=700ms SERVER_TIMEOUT=10s scen_idle "$1"
}

@test "timeout client closes an idle tunnel in the keeper, logged cD as without keeper" {
	both_ways scen_client_idle
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ cD--$ ]]
	[ "$KEPT_TA" -ge 600 ] && [ "$KEPT_TA" -le 2500 ]
}

scen_server_idle() {
	CLIENT_TIMEOUT=10s SERVER_TIMEOUT=700ms scen_idle "$1"
}

@test "timeout server closes an idle tunnel in the keeper, logged sD as without keeper" {
	both_ways scen_server_idle
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ sD--$ ]]
	[ "$KEPT_TA" -ge 600 ] && [ "$KEPT_TA" -le 2500 ]
}

scen_tunnel_idle() {
	CLIENT_TIMEOUT=5s SERVER_TIMEOUT=5s \
		EXTRA_DEFAULTS='    timeout tunnel 700ms' scen_idle "$1"
}

# Both sides idle since the echo: the client's timeout is reported, as
# HAProxy 2.6 logs an expired timeout tunnel (reference §3.3).
@test "timeout tunnel closes an idle tunnel in the keeper, logged cD as HAProxy and without keeper" {
	both_ways scen_tunnel_idle
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ cD--$ ]]
	[ "$KEPT_TA" -ge 600 ] && [ "$KEPT_TA" -le 2500 ]
}

@test "each tunnel in a keeper keeps its own backend's timeout" {
	start_backend ws
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 4s' \
		EXTRA_FRONTEND='    use_backend short if { path_beg /short }' \
		EXTRA_SECTIONS=$'backend short\n    timeout tunnel 700ms\n    server ws2 127.0.0.1:'"$BPORT_ws" \
		keeper_proxy 1 < /dev/null
	ws_bg "$W/long.out" -u /long -n 2 -w 2000
	long=$WS_PID
	ws_bg "$W/short.out" -u /short -n 1 -w 3000
	short=$WS_PID
	tunnel_settled 2 "$long" "$short"
	rc=0; wait "$short" || rc=$?
	[ "$rc" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/short.out")
	[ "$idle" -ge 600 ] && [ "$idle" -le 1800 ]
	wait "$long"
	grep -q 'ok 2 messages' "$W/long.out"
	log_fields '"GET /short '
	[[ "$FIELDS" =~ ^short/ws2\ 101\ [0-9]+\ [cs]D--$ ]]
	log_fields '"GET /long '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
}

@test "timeout tunnel longer than client/server: the tunnel in the keeper outlives them" {
	CLIENT_TIMEOUT=500ms SERVER_TIMEOUT=500ms \
		EXTRA_DEFAULTS='    timeout tunnel 3s' ws_logged 1
	ws_bg "$W/ws.out" -u /ws-long -n 2 -w 1200 -W 1200
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
}

# scen_client_fin KEEPER: the server's FIN 700 ms after the upgrade; the
# client never closes (socat's stdin is a FIFO held open until the log
# line is there); timeout client-fin 700ms.
scen_client_fin() {
	local hold
	printf "$SWITCH" > "$W/switch"
	start_script_server "cat $W/switch; sleep 0.7"
	start_udpsink log1
	EXTRA_DEFAULTS=$'    timeout tunnel 3s\n    timeout client-fin 700ms' \
		keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	mkfifo "$W/client.in"
	timeout 8 socat -t 8 - TCP:127.0.0.1:"$PPORT" < "$W/client.in" \
		> "$W/out" 2>/dev/null 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	exec {hold}> "$W/client.in"
	printf "$UPGRADE_REQ" >&"$hold"
	wait_for_line "$W/out" '101 Switching'
	tunnel_settled 1 "$client"
	wait_for_line "$W/log1.udp" '"GET /t ' 80
	exec {hold}>&-
	log_fields '"GET /t '
}

@test "timeout client-fin: the server's FIN passed on by the keeper, a silent client dropped after client-fin" {
	both_ways scen_client_fin
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ cD--$ ]]
	[ "$KEPT_TA" -ge 1200 ] && [ "$KEPT_TA" -le 2700 ]
}

# scen_server_fin KEEPER: the client's FIN 700 ms after its upgrade; the
# server answered and stays silent and open; timeout server-fin 700ms.
scen_server_fin() {
	printf "$SWITCH" > "$W/switch"
	start_script_server "cat $W/switch; sleep 20"
	start_udpsink log1
	EXTRA_DEFAULTS=$'    timeout tunnel 4s\n    timeout server-fin 700ms' \
		keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	printf "$UPGRADE_REQ@@@x" > "$W/in"
	"$T/rawclient" -p "$PPORT" -s -d 700 -t 8000 < "$W/in" > "$W/out" 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for_line "$W/out" '101 Switching'
	tunnel_settled 1 "$client"
	wait "$client" || true
	log_fields '"GET /t '
}

@test "timeout server-fin: the client's FIN passed on by the keeper, a silent server dropped after server-fin" {
	both_ways scen_server_fin
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ sD--$ ]]
	[ "$KEPT_TA" -ge 1200 ] && [ "$KEPT_TA" -le 2700 ]
}

# ---- backpressure ----

@test "a client flooding a server that does not read: the keeper's memory stays bounded, nothing is lost" {
	printf "$SWITCH" > "$W/switch"
	# the server reads nothing for 4 s, then everything: the flood's
	# checksum (the last 64 MiB it got: the request head comes before)
	start_script_server "cat $W/switch; sleep 4; tail -c 67108864 | cksum > $W/got.sum"
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 20s' keeper_proxy 1 <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	keeper=${KEEPER_PIDS[0]}
	yes keeper | head -c 67108864 | cksum > "$W/sent.sum"
	mkfifo "$W/gate"
	{ printf "$UPGRADE_REQ"; read -r _ < "$W/gate"; yes keeper | head -c 67108864; } |
		socat -t 20 - TCP:127.0.0.1:"$PPORT" > "$W/out" 2>&1 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	fds0=$(fds "$keeper")
	wait_for_line "$W/out" '101 Switching'
	tunnel_settled 1 "$client"
	[ "$(fds "$keeper")" -ge $((fds0 + 2)) ]
	before=$(rss "$keeper")
	echo go > "$W/gate"
	max=$before
	for i in $(seq 25); do
		sleep 0.1
		r=$(rss "$keeper")
		[ "$r" -le "$max" ] || max=$r
	done
	echo "keeper VmRSS: $before kB before, at most $max kB during the flood"
	# the flood is held back, not swallowed
	alive "$client"
	[ ! -s "$W/got.sum" ]
	[ $((max - before)) -lt 8192 ]
	# once the server reads, all of it arrives, intact
	wait_for 150 test -s "$W/got.sum"
	[ "$(cat "$W/got.sum")" = "$(cat "$W/sent.sum")" ]
	wait "$client" || true
	alive "$keeper"
}

@test "a server flooding a client that does not read: the keeper's memory stays bounded, nothing is lost" {
	printf "$SWITCH" > "$W/switch"
	start_script_server "touch $W/connected; cat $W/switch; yes server 2>/dev/null | head -c 67108864"
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 20s' keeper_proxy 1 <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	keeper=${KEEPER_PIDS[0]}
	yes server | head -c 67108864 | cksum > "$W/sent.sum"
	fds0=$(fds "$keeper")
	# the client (this shell) reads nothing until the memory is measured
	exec {fd}<>"/dev/tcp/127.0.0.1/$PPORT"
	printf "$UPGRADE_REQ" >&"$fd"
	wait_for 50 test -e "$W/connected"
	# handed over: the keeper holds the tunnel
	wait_for 30 only_keepers
	[ "$(fds "$keeper")" -ge $((fds0 + 2)) ]
	before=$(rss "$keeper")
	max=$before
	for i in $(seq 25); do
		sleep 0.1
		r=$(rss "$keeper")
		[ "$r" -le "$max" ] || max=$r
	done
	echo "keeper VmRSS: $before kB before, at most $max kB during the flood"
	[ $((max - before)) -lt 8192 ]
	# now read: the 101, then the whole flood, then the server's FIN
	timeout 15 tail -c 67108864 <&"$fd" | cksum > "$W/got.sum"
	exec {fd}>&-
	[ "$(cat "$W/got.sum")" = "$(cat "$W/sent.sum")" ]
	alive "$keeper"
}

# scen_stalled_server KEEPER: the client floods, the server reads
# nothing: once its buffers are full the tunnel idles out (timeout
# tunnel 1500ms) on the server's side.
scen_stalled_server() {
	local client
	printf "$SWITCH" > "$W/switch"
	start_script_server "cat $W/switch; sleep 20"
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 1500ms' keeper_proxy "$1" <<-EOF
	    server s1 127.0.0.1:$SPORT
	EOF
	mkfifo "$W/gate"
	{ printf "$UPGRADE_REQ"; read -r _ < "$W/gate"; yes flood | head -c 67108864; } |
		socat -t 20 - TCP:127.0.0.1:"$PPORT" > "$W/out" 2>/dev/null 3>&- &
	client=$!
	STARTED_PIDS+=("$client")
	wait_for_line "$W/out" '101 Switching'
	tunnel_settled 1 "$client"
	echo go > "$W/gate"
	log_fields '"GET /t '
}

@test "a server that stops reading: the stalled tunnel idles out on the server's side, as without keeper" {
	both_ways scen_stalled_server
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/s1\ 101\ [0-9]+\ sD--$ ]]
	[ "$KEPT_TA" -ge 1400 ] && [ "$KEPT_TA" -le 4000 ]
}

# ---- mode tcp ----

# tcp_proxy KEEPER: mode tcp, "listen raw" on $PPORT in front of the
# test backend ws, tcplog lines to log1.
tcp_proxy() {
	start_backend ws
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	{ echo "global"
	  [ "$1" = default ] || echo "    tunnel-keeper $1"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  echo "defaults"
	  echo "    mode tcp"
	  echo "    log global"
	  echo "    timeout connect 1s"
	  echo "    timeout client ${CLIENT_TIMEOUT:-5s}"
	  echo "    timeout server ${SERVER_TIMEOUT:-5s}"
	  echo "listen raw"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    server s1 127.0.0.1:$BPORT_ws"
	} > "$W/tcp.cfg"
	start_proxy < "$W/tcp.cfg"
	KEEPER=$1
	keepers_up
}

TCPLOGRE=' raw ([^ ]+) ([0-9-]+)/([0-9-]+)/([0-9]+) ([0-9]+) (..) ([0-9]+/[0-9]+/[0-9]+/[0-9]+/[0-9+]+) ([0-9]+/[0-9]+)$'

# tcplog_fields: the one tcplog line in log1: FIELDS ("backend/server
# bytes termination-state"), LTA (Tt), REST (the counts and queues).
tcplog_fields() {
	wait_for_line "$W/log1.udp" ' raw ' 80 || return 1
	local line
	line=$(grep -E -- ' raw ' "$W/log1.udp" | tail -1)
	[[ "$line" =~ $TCPLOGRE ]] || { echo "unexpected line: $line" >&2; return 1; }
	LTA=${BASH_REMATCH[4]}
	FIELDS="${BASH_REMATCH[1]} ${BASH_REMATCH[5]} ${BASH_REMATCH[6]}"
	REST="${BASH_REMATCH[7]} ${BASH_REMATCH[8]}"
	echo "[$KEEPER] $line"
}

# scen_tcp_close KEEPER: a WebSocket through mode tcp, closed by the client.
scen_tcp_close() {
	tcp_proxy "$1"
	ws_bg "$W/ws.out" -u /tcp-ws -n 3 -s 1000 -w 800 -W 200
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 3 messages' "$W/ws.out"
	tcplog_fields
}

@test "mode tcp: the connection is handed over too, and logged (tcplog) as without keeper" {
	both_ways scen_tcp_close
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^raw/s1\ [0-9]+\ --$ ]]
	read -r _ bytes _ <<< "$KEPT_FIELDS"
	[ "$bytes" -gt 3000 ]
	[ "$KEPT_TA" -ge 1000 ]
}

# scen_tcp_idle KEEPER: the client idles past timeout client.
scen_tcp_idle() {
	CLIENT_TIMEOUT=700ms SERVER_TIMEOUT=10s tcp_proxy "$1"
	ws_bg "$W/ws.out" -u /tcp-idle -n 1 -w 3000
	tunnel_settled 1 "$WS_PID"
	rc=0; wait "$WS_PID" || rc=$?
	[ "$rc" -eq 3 ]
	tcplog_fields
}

@test "mode tcp: timeout client closes an idle connection in the keeper, logged cD as without keeper" {
	both_ways scen_tcp_idle
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^raw/s1\ [0-9]+\ cD$ ]]
	[ "$KEPT_TA" -ge 600 ] && [ "$KEPT_TA" -le 2500 ]
}

# ---- health checks ----

@test "with health checks: the keepers and the checker are the only children; a server going DOWN keeps its tunnel" {
	start_backend ws
	start_backend chk       # the port its checks go to
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 20s' EXTRA_BACKEND='    option httpchk GET /health' \
		keeper_proxy 1 <<< "    server ws1 127.0.0.1:$BPORT_ws check port $BPORT_chk inter 200 fall 2"
	wait_for 30 count_at_least 2 '^GET /health' "$W/chk.log"
	# idle: the keeper and the health checker
	idle=$(pgrep -P "$PROXY_PID" | sort -n | tr '\n' ' ')
	echo "idle: $idle"
	[ "$(wc -w <<< "$idle")" -eq 2 ]
	ws_bg "$W/ws.out" -u /ws-checked -n 2 -w 3000
	wait_for 30 children_are "$idle"
	alive "$WS_PID"
	# the checks fail, the server goes DOWN; the tunnel in the keeper
	# stays
	kill -TERM "$(cat "$W/chk.pid")"
	wait_for_line "$W/proxy.err" 'Server be/ws1 is DOWN'
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
	log_fields '"GET /ws-checked '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
}

# ---- the runtime socket ----

# scen_shutdown KEEPER: tunnels to a and to b; "shutdown sessions server
# be/a" closes a's alone.
scen_shutdown() {
	start_backend a
	start_backend b
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 20s' keeper_proxy "$1" <<-EOF
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b
	EOF
	ws_bg "$W/a.out" -u /ws-a -n 2 -w 6000
	grep -q '^GET /ws-a ' "$W/a.log"
	a_pid=$WS_PID
	ws_bg "$W/b.out" -u /ws-b -n 2 -w 2500
	grep -q '^GET /ws-b ' "$W/b.log"
	b_pid=$WS_PID
	tunnel_settled 2 "$a_pid" "$b_pid"
	# each server counts its tunnel, in the keeper or not
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,0,0,1,"* ]]
	[[ "${lines[2]}" == "be,b,0,0,1,"* ]]
	run cli "shutdown sessions server be/a"
	[ "$output" = "" ]
	rc=0; wait "$a_pid" || rc=$?
	[ "$rc" -eq 3 ]             # closed by the peer while idle
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/a.out")
	[ "$idle" -lt 5000 ]
	# b's tunnel goes on
	wait "$b_pid"
	grep -q 'ok 2 messages' "$W/b.out"
	log_fields '"GET /ws-a '
}

@test "shutdown sessions server closes a tunnel held by the keeper, logged K as without keeper; the others go on" {
	both_ways scen_shutdown
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/a\ 101\ [0-9]+\ K...$ ]]
	# the keeper was not killed to do it
	[ "$(grep -c 'tunnel keeper 0 started' "$W/proxy.err")" -eq 1 ]
	alive "${KEEPER_PIDS[0]}"
	! grep -q 'lost' "$W/proxy.err"
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,a,0,0,0,"* ]]
}

# ---- maxconn ----

# scen_maxconn KEEPER: s1 has maxconn 1 and holds a tunnel; a second
# upgrade queues, then gets 503 after timeout queue (700 ms).
scen_maxconn() {
	SRV_OPTS='maxconn 1' EXTRA_DEFAULTS='    timeout queue 700ms' ws_logged "$1"
	ws_bg "$W/holder.out" -u /ws-holder -n 1 -w 2500
	tunnel_settled 1 "$WS_PID"
	start=$(date +%s%N)
	run "$T/wsclient" -p "$PPORT" -u /ws-queued -q -n 1
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "[$1] $output (after $elapsed ms)"
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected 101, got: HTTP/1.1 503"* ]]
	[ "$elapsed" -ge 600 ]
	wait "$WS_PID"
	grep -q 'ok 1 messages' "$W/holder.out"
	# the tunnel's end gives the slot back
	run "$T/wsclient" -p "$PPORT" -u /ws-next -q -n 1
	[ "$status" -eq 0 ]
	log_fields '"GET /ws-queued '
}

@test "a server's maxconn counts the keeper's tunnels: a second upgrade queues, then 503 sQ as without keeper" {
	both_ways scen_maxconn
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/\<NOSRV\>\ 503\ [0-9]+\ sQ--$ ]]
}

@test "a connection queued behind a keeper's tunnel gets the slot when that tunnel ends" {
	SRV_OPTS='maxconn 1' EXTRA_DEFAULTS='    timeout queue 5s' ws_logged 1
	hstart=$(date +%s%N)
	ws_bg "$W/holder.out" -u /ws-holder -n 1 -w 1500
	holder=$WS_PID
	tunnel_settled 1 "$holder"
	start=$(date +%s%N)
	run "$T/wsclient" -p "$PPORT" -u /ws-queued -q -n 2 -T 8000
	end=$(date +%s%N)
	elapsed=$(( (end - start) / 1000000 ))
	since=$(( (end - hstart) / 1000000 ))
	echo "$output (after $elapsed ms, $since ms after the holder started)"
	[ "$status" -eq 0 ]
	# served once the holder's tunnel had ended (1.5 s of idle)
	[ "$since" -ge 1500 ]
	[ "$elapsed" -ge 300 ]
	wait "$holder"
	grep -q 'ok 1 messages' "$W/holder.out"
	# the log says it waited in the queue (Tw)
	log_fields '"GET /ws-queued '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	grep -E '"GET /ws-queued ' "$W/log1.udp" | grep -qE ' be/ws1 [0-9]+/[0-9]{3,}/[0-9]+/[0-9]+/[0-9]+ 101 '
}

# ---- a keeper's death ----

@test "a keeper killed: its tunnels are lost, a warning, a new keeper, maxconn slots given back, new tunnels work" {
	SRV_OPTS='maxconn 1' \
		EXTRA_DEFAULTS=$'    timeout queue 1s\n    timeout tunnel 30s' ws_logged 1
	old=${KEEPER_PIDS[0]}
	ws_bg "$W/lost.out" -u /ws-lost -n 1 -w 8000
	lost=$WS_PID
	tunnel_settled 1 "$lost"
	kill -KILL "$old"
	# the client sees its connection closed, long before its 8 s
	rc=0; wait "$lost" || rc=$?
	cat "$W/lost.out"
	[ "$rc" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/lost.out")
	[ "$idle" -lt 5000 ]
	wait_for_line "$W/proxy.err" 'tunnel keeper.*lost|lost.*tunnel keeper'
	grep -E 'tunnel keeper.*lost|lost.*tunnel keeper' "$W/proxy.err"
	wait_for 50 count_at_least 2 'tunnel keeper 0 started, pid ' "$W/proxy.err"
	# no log line for the lost tunnel (wsproxy(8), TUNNEL KEEPERS): a
	# request logged after it is there, the tunnel is not
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/marker"
	wait_for_line "$W/log1.udp" '"GET /marker '
	! grep -q '"GET /ws-lost ' "$W/log1.udp"
	new=$(keeper_pids)
	echo "keeper $old killed, $new started"
	[ "$new" != "$old" ]
	alive "$new"
	alive "$PROXY_PID"
	wait_for 30 only_keepers
	# the server no longer counts the lost tunnel
	run cli "show stat -1 4 -1"
	[[ "${lines[1]}" == "be,ws1,0,0,0,"* ]] || { echo "$output"; false; }
	# the lost tunnel's slot is free: no queue, no 503; and the new
	# tunnel goes to the new keeper
	fds0=$(fds "$new")
	ws_bg "$W/after.out" -u /ws-after -n 2 -w 800
	tunnel_settled 1 "$WS_PID"
	[ "$(fds "$new")" -ge $((fds0 + 2)) ]
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/after.out"
	! grep -q 'killed by signal' <(grep -v "$old" "$W/proxy.err")
	alive "$PROXY_PID"
	# and once more: the new keeper killed, another one starts
	kill -KILL "$new"
	wait_for 50 count_at_least 3 'tunnel keeper 0 started, pid ' "$W/proxy.err"
	third=$(keeper_pids)
	[ "$third" != "$new" ] && [ "$third" != "$old" ]
	wait_for 30 only_keepers
	run "$T/wsclient" -p "$PPORT" -u /ws-third -q -n 2
	[ "$status" -eq 0 ]
}

# ---- global maxconn ----

@test "global maxconn counts the keeper's tunnels: a third connection waits in the backlog, as without keeper" {
	for k in default 1; do
		fresh_run "$k"
		EXTRA_GLOBAL='    maxconn 2' ws_logged "$k"
		ws_bg "$W/a.out" -u /ws-a -n 1 -W 1500
		a=$WS_PID
		ws_bg "$W/b.out" -u /ws-b -n 1 -W 1500
		b=$WS_PID
		tunnel_settled 2 "$a" "$b"
		start=$(date +%s%N)
		run curl -s -m 10 "http://127.0.0.1:$PPORT/third"
		elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
		echo "[$k] the third connection served after $elapsed ms"
		[ "$status" -eq 0 ]
		[[ "$output" == *"backend=ws"* ]]
		# only once a tunnel had ended
		[ "$elapsed" -ge 500 ]
		wait "$a"; wait "$b"
		stop_proxy
	done
}

# ---- per-source limits (stick tables) ----

# tracked_proxy KEEPER: conn_cur per source address tracked at the
# connection, a third connection from the same source refused; the
# frontend "show" on $SHOWPORT answers "cur=N" for the asking source.
tracked_proxy() {
	start_backend ws
	start_udpsink log1
	free_ports 1; SHOWPORT=${PORTS[0]}
	EXTRA_DEFAULTS='    timeout tunnel 30s' \
		EXTRA_FRONTEND=$'    stick-table type ip size 1k expire 30s store conn_cur\n    tcp-request connection track-sc0 src\n    tcp-request connection reject if { sc0_conn_cur gt 2 }' \
		EXTRA_SECTIONS=$'frontend show\n    bind 127.0.0.1:'"$SHOWPORT"$'\n    http-request return status 200 content-type text/plain lf-string "cur=%[src_conn_cur(fe)]"' \
		keeper_proxy "$1" <<< "    server ws1 127.0.0.1:$BPORT_ws"
}

# cur_of SRC: what "show" says to SRC.
cur_of() {
	curl -s -m 5 --interface "$1" "http://127.0.0.1:$SHOWPORT/"
}

# status_from SRC: the status of GET / from SRC (000: reset at accept).
status_from() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' --interface "$1" \
		"http://127.0.0.1:$PPORT/" || true
}

@test "tunnels in the keeper still count in their source's conn_cur: the third is refused, as without keeper" {
	for k in default 1; do
		fresh_run "$k"
		tracked_proxy "$k"
		ws_bg "$W/t1.out" -S 127.0.0.2 -u /ws-t1 -n 1 -w 1500
		t1=$WS_PID
		ws_bg "$W/t2.out" -S 127.0.0.2 -u /ws-t2 -n 1 -w 1500
		t2=$WS_PID
		tunnel_settled 2 "$t1" "$t2"
		[ "$(cur_of 127.0.0.2)" = "cur=2" ]
		[ "$(status_from 127.0.0.2)" = 000 ]
		# another source has its own count
		[ "$(status_from 127.0.0.3)" = 200 ]
		wait "$t1"; wait "$t2"
		grep -q 'ok 1 messages' "$W/t1.out"
		grep -q 'ok 1 messages' "$W/t2.out"
		# the tunnels' ends count them down
		wait_for 30 eval '[ "$(cur_of 127.0.0.2)" = "cur=0" ]'
		[ "$(status_from 127.0.0.2)" = 200 ]
		stop_proxy
	done
}

@test "a killed keeper's tunnels give their trackers back: conn_cur returns to 0, the source gets in again" {
	tracked_proxy 1
	ws_bg "$W/t1.out" -S 127.0.0.2 -u /ws-t1 -n 1 -w 20000
	t1=$WS_PID
	ws_bg "$W/t2.out" -S 127.0.0.2 -u /ws-t2 -n 1 -w 20000
	t2=$WS_PID
	tunnel_settled 2 "$t1" "$t2"
	[ "$(cur_of 127.0.0.2)" = "cur=2" ]
	[ "$(status_from 127.0.0.2)" = 000 ]
	kill -KILL "${KEEPER_PIDS[0]}"
	wait_for_line "$W/proxy.err" 'tunnel keeper.*lost|lost.*tunnel keeper'
	wait_for 30 eval '[ "$(cur_of 127.0.0.2)" = "cur=0" ]' ||
		{ echo "still $(cur_of 127.0.0.2)"; false; }
	[ "$(status_from 127.0.0.2)" = 200 ]
}

# ---- many tunnels ----

# keeper_fds_at_most N: the keepers hold N descriptors or fewer in all.
keeper_fds_at_most() {
	local pid total=0
	for pid in $(keeper_pids); do total=$((total + $(fds "$pid"))); done
	[ "$total" -le "$1" ]
}

@test "1000 idle tunnels are all handed over and each still echoes" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 4200 ] ||
		skip "needs 4200 descriptors, the hard limit is $hard"
	start_backend ws
	start_udpsink log1
	CLIENT_TIMEOUT=60s SERVER_TIMEOUT=60s EXTRA_GLOBAL='    maxconn 5000' \
		keeper_proxy on < /dev/null
	base=0
	for pid in $(keeper_pids); do base=$((base + $(fds "$pid"))); done
	mkfifo "$W/hold.in"
	"$T/wshold" -p "$PPORT" -n 1000 -u /ws-many -c 64 -T 20000 \
		< "$W/hold.in" > "$W/hold.out" 2> "$W/hold.err" 3>&- &
	STARTED_PIDS+=("$!")
	exec {hold}> "$W/hold.in"
	start=$(date +%s%N)
	wait_for 250 grep -q '^ready 1000$' "$W/hold.out" ||
		{ cat "$W/hold.out" "$W/hold.err"; false; }
	echo "1000 tunnels open after $(( ($(date +%s%N) - start) / 1000000 )) ms"
	# every child has handed over: the keepers hold 2000 sockets
	wait_for 100 only_keepers ||
		{ echo "$(pgrep -P "$PROXY_PID" | wc -l) children"; false; }
	total=0
	for pid in $(keeper_pids); do total=$((total + $(fds "$pid"))); done
	echo "the keepers hold $total descriptors"
	[ "$total" -ge 2000 ]
	echo echo >&"$hold"
	wait_for 200 grep -q '^echoed ' "$W/hold.out"
	cat "$W/hold.out" "$W/hold.err"
	grep -q '^echoed 1000 of 1000$' "$W/hold.out"
	echo open >&"$hold"
	wait_for 50 grep -q '^open ' "$W/hold.out"
	grep -q '^open 1000 of 1000$' "$W/hold.out"
	exec {hold}>&-
	# all closed: the keepers let go of the sockets
	wait_for 100 keeper_fds_at_most $((base + 20)) || {
		for pid in $(keeper_pids); do ls -l "/proc/$pid/fd"; done | head -50
		echo "backend children left: $(pgrep -P "$(cat "$W/ws.pid")" | wc -l)"
		false; }
	echo "echoed in $(( ($(date +%s%N) - start) / 1000000 )) ms in all"
}

# not_keepers: how many of the proxy's children are not keepers.
not_keepers() {
	pgrep -P "$PROXY_PID" | grep -cvxF -f <(all_keeper_pids) || true
}

@test "a keeper that falls behind: the children its full queue turned away relay meanwhile, then hand over; all echo" {
	start_backend ws
	start_udpsink log1
	CLIENT_TIMEOUT=60s SERVER_TIMEOUT=60s keeper_proxy 1 < /dev/null
	keeper=${KEEPER_PIDS[0]}
	base=$(not_keepers)
	# a stopped keeper reads nothing: its queue takes a few handovers
	kill -STOP "$keeper"
	mkfifo "$W/hold.in"
	"$T/wshold" -p "$PPORT" -n 100 -u /ws-storm -c 16 -T 20000 \
		< "$W/hold.in" > "$W/hold.out" 2> "$W/hold.err" 3>&- &
	STARTED_PIDS+=("$!")
	exec {hold}> "$W/hold.in"
	wait_for 150 grep -q '^ready 100$' "$W/hold.out" ||
		{ kill -CONT "$keeper"; cat "$W/hold.out" "$W/hold.err"; false; }
	sleep 0.3
	relaying=$(( $(not_keepers) - base ))
	echo "$relaying children relay their own tunnel"
	kill -CONT "$keeper"
	[ "$relaying" -ge 50 ]
	# each asks again, within 2 s of the last time, and the keeper
	# now has room for them all
	wait_for 100 only_keepers ||
		{ echo "$(not_keepers) children are not keepers"; false; }
	echo echo >&"$hold"
	wait_for 100 grep -q '^echoed ' "$W/hold.out"
	cat "$W/hold.out" "$W/hold.err"
	grep -q '^echoed 100 of 100$' "$W/hold.out"
	exec {hold}>&-
}

# hold_200 ULIMIT-ARGS: one keeper under "ulimit ULIMIT-ARGS", 200
# tunnels held open by wshold (fd $HOLD writes its commands), each of
# which must echo; the proxy is left running.
hold_200() {
	start_backend ws
	start_udpsink log1
	PROXY_LAUNCHER=(bash -c "ulimit $1 && exec \"\$@\"" limit)
	CLIENT_TIMEOUT=30s SERVER_TIMEOUT=30s keeper_proxy 1 < /dev/null
	grep 'open files' "/proc/${KEEPER_PIDS[0]}/limits"
	mkfifo "$W/hold.in"
	"$T/wshold" -p "$PPORT" -n 200 -u /ws-limit -c 32 -T 20000 \
		< "$W/hold.in" > "$W/hold.out" 2> "$W/hold.err" 3>&- &
	STARTED_PIDS+=("$!")
	exec {HOLD}> "$W/hold.in"
	wait_for 200 grep -q '^ready 200$' "$W/hold.out" ||
		{ cat "$W/hold.out" "$W/hold.err"; false; }
	echo echo >&"$HOLD"
	wait_for 200 grep -q '^echoed ' "$W/hold.out"
	cat "$W/hold.out" "$W/hold.err"
	grep 'keeper' "$W/proxy.err" | sort | uniq -c
	grep -q '^echoed 200 of 200$' "$W/hold.out"
}

# release_200: wshold closes its tunnels; nothing is left counted, and a
# soft stop ends the proxy.
release_200() {
	exec {HOLD}>&-
	wait_for 50 eval '[ "$(cli "show stat -1 4 -1" | awk -F, '\''$2 == "ws1" { print $5 }'\'')" = 0 ]'
	kill -USR1 "$PROXY_PID"
	wait_for 50 gone "$PROXY_PID"
}

@test "a keeper at its descriptor limit drops no connection: 200 tunnels under ulimit -Sn 256 all echo" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 1024 ] ||
		skip "needs a hard descriptor limit of 1024, it is $hard"
	# the soft limit a default login or service gets is often 1024:
	# 256 here, for 200 tunnels (400 sockets in one keeper)
	hold_200 -Sn256
	release_200
}

@test "a keeper at its hard descriptor limit: the tunnels it has no room for stay in their children; all 200 echo" {
	# 256 descriptors, hard: room for some 90 tunnels in the keeper
	hold_200 -n256
	# the keeper took what it had room for, the children the rest
	kept=$(( ($(ls "/proc/${KEEPER_PIDS[0]}/fd" | wc -l) - 8) / 2 ))
	children=$(( $(pgrep -P "$PROXY_PID" | wc -l) - 1 ))
	echo "in the keeper: about $kept; in their children: $children"
	[ "$children" -ge 50 ] && [ "$kept" -ge 50 ]
	! grep -q 'lost' "$W/proxy.err"
	release_200
}

# ---- signals ----

@test "SIGHUP with a tunnel in the keeper: the old tunnel goes on, new ones work, no keeper is left over" {
	EXTRA_DEFAULTS='    timeout tunnel 20s' ws_logged 1
	ws_bg "$W/old.out" -u /ws-old -n 3 -s 500 -w 3000
	old=$WS_PID
	tunnel_settled 1 "$old"
	for i in 1 2 3; do
		kill -HUP "$PROXY_PID"
		wait_for 50 count_at_least "$i" "reloaded" "$W/proxy.err"
	done
	mapfile -t KEEPER_PIDS < <(keeper_pids)
	ws_bg "$W/new.out" -u /ws-new -n 2 -w 600
	tunnel_settled 1 "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/new.out"
	wait "$old"
	grep -q 'ok 3 messages' "$W/old.out"
	log_fields '"GET /ws-old '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	log_fields '"GET /ws-new '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	alive "$PROXY_PID"
	# the tunnels are over: as many keepers as configured, no more
	wait_for 30 nchildren "$NKEEPERS" ||
		{ echo "children: $(pgrep -P "$PROXY_PID" | tr '\n' ' ')"; false; }
	wait_for 30 only_keepers
}

# scen_two_reloads KEEPER: a tunnel to a, two reloads (a's line moved),
# then "shutdown sessions server be/a" closes it; be/z's does not.
scen_two_reloads() {
	start_backend a
	start_backend b
	start_udpsink log1
	EXTRA_DEFAULTS='    timeout tunnel 20s' keeper_proxy "$1" <<-EOF
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b disabled
	EOF
	ws_bg "$W/a.out" -u /ws-a -n 1 -w 8000
	a=$WS_PID
	tunnel_settled 1 "$a"
	# two reloads, a's line moved: its tunnel is two generations back
	sed -i "s/^    server a \(.*\)/    server z 127.0.0.1:$BPORT_b disabled\n    server a \1/" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	kill -HUP "$PROXY_PID"
	wait_for 50 count_at_least 2 "reloaded" "$W/proxy.err"
	run cli "shutdown sessions server be/z"
	[ "$output" = "" ]
	sleep 0.3
	alive "$a"
	run cli "shutdown sessions server be/a"
	[ "$output" = "" ]
	rc=0; wait "$a" || rc=$?
	[ "$rc" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/a.out")
	[ "$idle" -lt 6000 ]
	log_fields '"GET /ws-a '
}

@test "after two reloads, shutdown sessions still reaches a tunnel in an earlier keeper, logged K" {
	both_ways scen_two_reloads
	[ "$KEPT_FIELDS" = "$REF_FIELDS" ]
	[ "$KEPT_REST" = "$REF_REST" ]
	[[ "$KEPT_FIELDS" =~ ^be/a\ 101\ [0-9]+\ K...$ ]]
}

@test "SIGUSR1 with a tunnel in the keeper: listeners close, the proxy exits once the tunnel ends" {
	EXTRA_DEFAULTS='    timeout tunnel 20s' ws_logged 1
	keeper=${KEEPER_PIDS[0]}
	ws_bg "$W/ws.out" -u /ws-soft -n 2 -w 2000
	tunnel_settled 1 "$WS_PID"
	kill -USR1 "$PROXY_PID"
	wait_for 30 not_listening "$PPORT"
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[ "$status" -ne 0 ]
	sleep 0.5
	# the tunnel still runs: the proxy waits for it
	alive "$PROXY_PID"
	alive "$WS_PID"
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
	wait_for 50 gone "$PROXY_PID"
	wait_for 30 gone "$keeper"
	log_fields '"GET /ws-soft '
	[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
}

@test "SIGUSR1, then the keeper killed: its tunnel is lost, no keeper restarts, the proxy exits" {
	EXTRA_DEFAULTS='    timeout tunnel 20s' ws_logged 1
	keeper=${KEEPER_PIDS[0]}
	ws_bg "$W/ws.out" -u /ws-soft -n 1 -w 10000
	tunnel_settled 1 "$WS_PID"
	kill -USR1 "$PROXY_PID"
	wait_for 30 not_listening "$PPORT"
	sleep 0.3
	alive "$PROXY_PID"
	kill -KILL "$keeper"
	rc=0; wait "$WS_PID" || rc=$?
	[ "$rc" -eq 3 ]
	wait_for 50 gone "$PROXY_PID"
	grep -E 'tunnel keeper.*lost' "$W/proxy.err"
	[ "$(grep -c 'tunnel keeper 0 started' "$W/proxy.err")" -eq 1 ]
}

@test "SIGTERM with a tunnel in the keeper: the tunnel is closed, the keepers exit with the proxy" {
	EXTRA_DEFAULTS='    timeout tunnel 20s' ws_logged 2
	ws_bg "$W/ws.out" -u /ws-term -n 1 -w 10000
	tunnel_settled 1 "$WS_PID"
	kill -TERM "$PROXY_PID"
	rc=0; wait "$PROXY_PID" || rc=$?
	[ "$rc" -eq 0 ]
	for pid in "${KEEPER_PIDS[@]}"; do wait_for 30 gone "$pid"; done
	# the tunnel went with them, long before the client's 10 s
	rc=0; wait "$WS_PID" || rc=$?
	[ "$rc" -eq 3 ]
	idle=$(sed -n 's/^closed after idle \([0-9]*\) ms/\1/p' "$W/ws.out")
	[ "$idle" -lt 5000 ]
}

@test "a reload that turns the keeper off, then on again: tunnels opened before each go on, new ones work" {
	EXTRA_DEFAULTS='    timeout tunnel 20s' ws_logged 1
	ws_bg "$W/a.out" -u /ws-a -n 2 -w 3500
	a=$WS_PID
	tunnel_settled 1 "$a"
	# off: the next tunnel keeps its own child
	sed -i 's/^    tunnel-keeper 1$/    tunnel-keeper off/' "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	ws_bg "$W/b.out" -u /ws-b -n 2 -w 2500
	b=$WS_PID
	# a child that is no keeper serves it
	[ -n "$(pgrep -P "$PROXY_PID" | grep -vxF -f <(all_keeper_pids))" ]
	# on again
	sed -i 's/^    tunnel-keeper off$/    tunnel-keeper 1/' "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for 50 count_at_least 2 "reloaded" "$W/proxy.err"
	ws_bg "$W/c.out" -u /ws-c -n 2 -w 800
	c=$WS_PID
	wait "$c"
	grep -q 'ok 2 messages' "$W/c.out"
	wait "$b"
	grep -q 'ok 2 messages' "$W/b.out"
	wait "$a"
	grep -q 'ok 2 messages' "$W/a.out"
	for p in a b c; do
		log_fields "\"GET /ws-$p "
		[[ "$FIELDS" =~ ^be/ws1\ 101\ [0-9]+\ ----$ ]]
	done
	alive "$PROXY_PID"
}

# ---- inetd mode ----

@test "inetd mode (-i) has no keeper: the connection is served in its own process" {
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	cat > "$W/proxy.cfg" <<-EOF
	global
	    tunnel-keeper on
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    default_backend be
	backend be
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	run "$WSPROXY" -c -f "$W/proxy.cfg"
	[ "$status" -eq 0 ]
	start_inetd_proxy
	ws_bg "$W/ws.out" -u /ws-inetd -n 2 -w 800
	# socat's child for the connection is wsproxy -i, serving it
	# itself: it runs, with no child of its own
	sleep 0.3
	inetd=$(pgrep -P "${INETD_PIDS[0]}")
	[ -n "$inetd" ]
	[ "$(readlink "/proc/$inetd/exe")" = "$(readlink -f "$WSPROXY")" ]
	[ -z "$(pgrep -P "$inetd")" ]
	wait "$WS_PID"
	grep -q 'ok 2 messages' "$W/ws.out"
	# (teardown checks that nothing was written to fd 2)
}
