#!/usr/bin/env bats
# Per-client limits under load (reference 13): 2000 WebSocket upgrades at
# once from 50 source addresses (test/flood), with and without children
# SIGKILLed in the middle, and a table smaller than the number of
# clients. What must hold: every source gets exactly its limit, the
# counts go back to zero once everything closed (the parent gives back a
# dead child's trackers), the proxy still serves afterwards, and a full
# table keeps working.
#
# Size: 2000 connections from 50 sources with a limit of 10 is 500
# tunnels, i.e. 500 proxy children and 500 backend children at a time
# (here ulimit -u is 96367 and pid_max 32768: far more would fit; the
# tests skip below 2000 processes). The whole file takes about 40 s on 2
# CPUs, mostly forks and exits. Not in make test's inetd re-run: -i
# refuses stick tables.

load helpers

NSRC=50         # 127.0.0.10 .. 127.0.0.59
PER=40          # connections per source: 2000 in all
LIMIT=10

# load_proxy: global maxconn 10000, the classic defaults with 30 s
# timeouts (tunnels are held while the flood is classified), a frontend
# "fe" on $PPORT whose lines come on stdin, then a frontend "show" on
# $SHOWPORT that answers, without tracking anything, the client's
# conn_cur in fe's table and the number of entries in it; backend ws.
load_proxy() {
	local nproc
	nproc=$(ulimit -u)
	[ "$nproc" = unlimited ] || [ "$nproc" -ge 2000 ] ||
		skip "ulimit -u is $nproc: 1000 children (proxy and backend) must fit"
	[ "$(cat /proc/sys/kernel/pid_max)" -ge 4096 ] || skip "pid_max too low"
	start_backend ws
	free_ports 2; PPORT=${PORTS[0]}; SHOWPORT=${PORTS[1]}
	{ echo "global"
	  echo "    maxconn 10000"
	  CLIENT_TIMEOUT=30s SERVER_TIMEOUT=30s defaults_section
	  echo "    timeout tunnel 30s"
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    maxconn 3000"
	  cat
	  echo "    default_backend ws"
	  echo "frontend show"
	  echo "    bind 127.0.0.1:$SHOWPORT"
	  echo '    http-request return status 200 content-type text/plain lf-string "cur=%[src_conn_cur(fe)] cnt=%[table_cnt(fe)]"'
	  echo "backend ws"
	  echo "    server ws1 127.0.0.1:$BPORT_ws"
	} > "$W/load.cfg"
	start_proxy < "$W/load.cfg"
}

# src N: the N-th source address (0-based).
src() {
	echo "127.0.0.$((10 + $1))"
}

# show SRC: what the show frontend answers to SRC.
show() {
	curl -s -m 5 --interface "$1" "http://127.0.0.1:$SHOWPORT/"
}

# show_all: what the show frontend answers to each of the 50 sources,
# one line each (one curl for all: --next gives each URL its address).
show_all() {
	local i args=()
	for ((i = 0; i < NSRC; i++)); do
		((i == 0)) || args+=(--next)
		args+=(-s -m 5 -w '\n' --interface "$(src "$i")" "http://127.0.0.1:$SHOWPORT/")
	done
	curl "${args[@]}"
}

# cur_sum: the sum of conn_cur over the 50 sources; fails if a source
# is over the limit.
cur_sum() {
	local out sum=0 n=0
	while read -r out; do
		[[ "$out" =~ ^cur=([0-9]+)\  ]] || { echo "show said: '$out'" >&2; return 1; }
		[ "${BASH_REMATCH[1]}" -le "$LIMIT" ] ||
			{ echo "$(src "$n") over its limit: $out" >&2; return 1; }
		sum=$((sum + BASH_REMATCH[1])) n=$((n + 1))
	done < <(show_all)
	[ "$n" -eq "$NSRC" ] || { echo "$n answers to show" >&2; return 1; }
	echo "$sum"
}

# all_zero: every source's conn_cur is 0, and fe's table still has one
# entry per source (expire 30s: none expired).
all_zero() {
	local out n=0 bad=0
	while read -r out; do
		[ "$out" = "cur=0 cnt=$NSRC" ] || { echo "$(src "$n"): $out" >&2; bad=1; }
		n=$((n + 1))
	done < <(show_all)
	[ "$n" -eq "$NSRC" ] && [ "$bad" = 0 ]
}

# flood_start NAME FLOOD-ARGS...: test/flood to $PPORT in the
# background, holding its served tunnels until flood_release; output in
# $W/NAME.out. Returns once every connection is classified ("ready").
flood_start() {
	local name="$1"; shift
	rm -f "$W/$name.hold"; mkfifo "$W/$name.hold"
	"$T/flood" -p "$PPORT" "$@" < "$W/$name.hold" > "$W/$name.out" \
	    2> "$W/$name.err" 3>&- &
	FLOOD_PID=$!
	STARTED_PIDS+=("$FLOOD_PID")
	exec 5> "$W/$name.hold"
}

flood_ready() {
	wait_for_line "$W/$1.out" '^ready ' 400 || { cat "$W/$1.err" >&2; return 1; }
}

# flood_release: stdin's EOF ends the hold; flood reports and exits.
flood_release() {
	exec 5>&-
	wait "$FLOOD_PID"
}

# per_source NAME SERVED REFUSED [NSRC]: every source line of NAME.out
# says so.
per_source() {
	local n bad
	n=$(grep -c '^127\.0\.0\.[0-9]* served ' "$W/$1.out") || true
	[ "$n" -eq "${4:-$NSRC}" ] || { echo "$n source lines" >&2; cat "$W/$1.out" >&2; return 1; }
	bad=$(grep '^127\.' "$W/$1.out" | grep -v " served $2 refused $3 " || true)
	[ -z "$bad" ] || { echo "sources off the limit:" >&2; echo "$bad" >&2; return 1; }
}

# again: 5 sources (127.0.0.10-14) flood again, LIMIT + 2 connections
# each: each is served exactly LIMIT; then all closed, all counts 0.
again() {
	flood_start f2 -n 5 -c $((LIMIT + 2))
	flood_ready f2
	flood_release
	per_source f2 "$LIMIT" 2 5
	wait_for 100 no_children "$PROXY_PID"
	wait_for 5 all_zero
}

# kill_some N: SIGKILL N of the proxy's children picked at random;
# prints how many it killed.
kill_some() {
	local kids
	mapfile -t kids < <(pgrep -P "$PROXY_PID" | shuf -n "$1")
	[ "${#kids[@]}" -eq 0 ] || kill -KILL "${kids[@]}" 2>/dev/null || true
	echo "${#kids[@]}"
}

nchildren_at_least() {
	[ "$(pgrep -c -P "$PROXY_PID")" -ge "$1" ]
}

@test "2000 connections at once from 50 sources: each source is served exactly its limit, the counts go back to zero, and the limit serves again" {
	daemon_only "stick tables need the daemon"
	load_proxy <<-EOF
	    stick-table type ip size 1k expire 30s store conn_cur
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_cur gt $LIMIT }
	EOF
	flood_start f1 -n "$NSRC" -c "$PER"
	flood_ready f1
	grep -q "^ready served $((NSRC * LIMIT)) refused $((NSRC * (PER - LIMIT)))$" "$W/f1.out"
	# while the tunnels are held the table says so, for every source
	# (the proxy has a child per tunnel: only the tunnels are children)
	[ "$(pgrep -c -P "$PROXY_PID")" -eq $((NSRC * LIMIT)) ]
	[ "$(show "$(src 0)")" = "cur=$LIMIT cnt=$NSRC" ]
	[ "$(cur_sum)" -eq $((NSRC * LIMIT)) ]
	flood_release
	per_source f1 "$LIMIT" $((PER - LIMIT))
	grep -q "^total served $((NSRC * LIMIT)) refused $((NSRC * (PER - LIMIT))) timeout 0 closed 0 " "$W/f1.out"
	# all closed: every count back to zero (children reaped, trackers
	# given back)
	wait_for 100 no_children "$PROXY_PID"
	wait_for 5 all_zero
	# nothing stuck: sources get their limit again (5 of them: all 50
	# would be 500 more tunnels; all_zero saw every count at 0 already)
	again
}

@test "children SIGKILLed at random during the flood: no deadlock, a dead child's trackers are given back, and every source gets its limit again" {
	daemon_only "stick tables need the daemon"
	# the children count requests and bytes in the table too, so that
	# some may die in the middle of an update (the table's lock is
	# robust: the next locker rebuilds)
	load_proxy <<-EOF
	    stick-table type ip size 1k expire 30s store conn_cur,http_req_cnt,bytes_in_cnt,bytes_out_cnt
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_cur gt $LIMIT }
	EOF
	flood_start f1 -n "$NSRC" -c "$PER"
	# waves of kills while the connections arrive
	wait_for 100 nchildren_at_least 50
	killed=0
	for _ in 1 2 3 4 5; do
		killed=$((killed + $(kill_some 30)))
		sleep 0.2
	done
	flood_ready f1
	# whatever was killed, nothing hung: every connection was answered
	# (101, or refused, or closed by a dying child)
	grep -q '^ready ' "$W/f1.out"
	alive "$PROXY_PID"
	# one more wave once every connection is classified: the live count
	# drops by exactly the number killed, once the parent has reaped them
	# (and no source is ever over its limit, though kills freed slots
	# that later connections took: cur_sum checks)
	wait_for 20 eval '[ "$(pgrep -c -P "$PROXY_PID")" -eq "$(cur_sum)" ]'
	before=$(cur_sum)
	k=$(kill_some 40)
	[ "$k" -eq 40 ]
	wait_for 20 eval '[ "$(cur_sum)" -eq $((before - 40)) ]'
	flood_release
	echo "# killed $killed during the flood, 40 after; $(tail -1 "$W/f1.out")" >&3
	grep -q '^total served [0-9]* refused [0-9]* timeout 0 ' "$W/f1.out"
	wait_for 100 no_children "$PROXY_PID"
	wait_for 5 all_zero
	# new connections are served, each source exactly its limit
	again
}

@test "a table smaller than the number of sources keeps working: at most 'size' entries, the least recently used evicted, entries in use kept" {
	daemon_only "stick tables need the daemon"
	load_proxy <<-'EOF'
	    stick-table type ip size 20 expire 30s store conn_cur,http_req_cnt
	    http-request track-sc0 src
	    http-request return status 200 content-type text/plain lf-string "req=%[sc0_http_req_cnt] n=%[table_cnt]" if { path /count }
	    http-request deny deny_status 429 if { path_beg /ws } { sc0_conn_cur gt 1 }
	EOF
	# 50 sources one after another: each one new (req=1), the table full
	# from the 20th on, never over
	for ((i = 0; i < NSRC; i++)); do
		out=$(curl -s -m 5 --interface "$(src "$i")" "http://127.0.0.1:$PPORT/count")
		if ((i < 20)); then want="req=1 n=$((i + 1))"; else want="req=1 n=20"; fi
		[ "$out" = "$want" ] || { echo "$(src "$i"): '$out', not '$want'" >&2; false; }
	done
	# the 20 most recent sources are the ones kept: the last one counts
	# on; the first ones were evicted and start again from 1
	run curl -s -m 5 --interface "$(src 49)" "http://127.0.0.1:$PPORT/count"
	[ "$output" = "req=2 n=20" ]
	run curl -s -m 5 --interface "$(src 30)" "http://127.0.0.1:$PPORT/count"
	[ "$output" = "req=2 n=20" ]
	run curl -s -m 5 --interface "$(src 0)" "http://127.0.0.1:$PPORT/count"
	[ "$output" = "req=1 n=20" ]
	# Now entries in use: 2 tunnels from each of 50 sources, held. An
	# entry that a tunnel holds is never evicted, so 20 sources are
	# tracked (one tunnel served, the other over the limit of 1) and 30
	# find the table full of entries in use: not tracked, the limit does
	# not apply to them (HAProxy 2.6 does the same)
	flood_start f1 -n "$NSRC" -c 2 -u /ws
	flood_ready f1
	run show "$(src 0)"
	[[ "$output" == *" cnt=20" ]]
	flood_release
	[ "$(grep -c ' served 1 refused 1 ' "$W/f1.out")" -eq 20 ]
	[ "$(grep -c ' served 2 refused 0 ' "$W/f1.out")" -eq 30 ]
	grep -q '^total served 80 refused 20 timeout 0 closed 0 ' "$W/f1.out"
	# once they are closed the entries are free to go: a new source
	# is tracked
	wait_for 100 no_children "$PROXY_PID"
	run curl -s -m 5 --interface 127.0.0.200 "http://127.0.0.1:$PPORT/count"
	[ "$output" = "req=1 n=20" ]
}
