#!/usr/bin/env bash
# bench/limits.sh - "make bench-limits": what a per-source connection
# limit costs the proxy (bench/RESULTS.md, "Stick tables"). One source
# (127.0.0.2, test/flood -r) opens WebSocket connections in a closed loop
# against a frontend that tracks it and rejects it at accept once over
# a conn_rate limit:
#
#     stick-table type ip size 1k expire 30s store conn_rate(10s)
#     tcp-request connection track-sc0 src
#     tcp-request connection reject if { sc0_conn_rate gt LIMIT }
#
# run twice with the same table and rules: LIMIT huge (every connection
# accepted: fork, upgrade, relay, close) and LIMIT 10 (all but the first
# few rejected before any fork). Measured for each:
#   - the proxy's CPU per flood connection: user+system time of the
#     parent plus that of its reaped children (utime, stime, cutime,
#     cstime of /proc/PID/stat), over the flood alone, after every child
#     was reaped;
#   - the round-trip latency (p50, p99) of one WebSocket echo from
#     another source (127.0.0.1, bench/loadgen ws -c 1) with no flood, then
#     while the flood runs.
# Then the ratios, all from this one run: rejected/accepted CPU per
# connection, and latency under each flood / without. How busy the
# whole machine was during each flood (all CPUs, /proc/stat) and the
# proxy's share of it are printed too: on a shared machine the rest is
# other people's work, and the latencies move with it.
#
# Run from the top of the repository after "make wsproxy helpers
# bench/loadgen bench/echod" (make bench-limits does it). Installs
# nothing.
#
# Settings (environment):
#   LIMITS_SECS=5       seconds of each flood and each latency run
#   LIMITS_SLOTS=20     flood connections in flight
#   BENCH_OUT=bench/out where limits.txt (the figures) and the logs go
#
# Processes: the backend, one proxy per case and the clients we start
# are stopped by PID; the proxy's children are waited for (they exit
# when their clients close), nothing is killed by name.
set -u
set -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

SECS=${LIMITS_SECS:-5}
SLOTS=${LIMITS_SLOTS:-20}
OUT=${BENCH_OUT:-bench/out}
FLOOD_SRC=127.0.0.2

die() { echo "limits: $*" >&2; exit 1; }
note() { echo "limits: $*" >&2; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_help "$@"

for f in ./wsproxy bench/loadgen bench/echod test/flood test/freeport; do
	[ -x "$f" ] || die "$f is missing: make wsproxy helpers bench/loadgen bench/echod"
done
grep -q -a -e __asan_init -e __ubsan_handle ./wsproxy &&
	note "WARNING: ./wsproxy is a sanitizer build: these are not wsproxy's figures"

mkdir -p "$OUT" || die "cannot create $OUT"
res=$OUT/limits.txt
: > "$OUT/limits-wsproxy.log" || die "cannot write in $OUT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsproxy-limits.XXXXXX") || die "mktemp failed"

backend_pid=
proxy_pid=
flood_pid=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -z "$flood_pid" ] || { kill -TERM "$flood_pid" 2>/dev/null; wait "$flood_pid" 2>/dev/null; }
	[ -z "$proxy_pid" ] || { kill -TERM "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; }
	[ -z "$backend_pid" ] || { kill -TERM "$backend_pid" 2>/dev/null; wait "$backend_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the proxy's CPU ticks so far: parent + reaped children
cpu_ticks() {
	# fields after "(comm)": 14 utime, 15 stime, 16 cutime, 17 cstime
	sed 's/^.*) //' "/proc/$proxy_pid/stat" | awk '{ print $12 + $13 + $14 + $15 }'
}

# the machine's CPU jiffies so far: "busy total" (all CPUs, /proc/stat)
machine_jiffies() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat
}


read -r WS_PORT < <(test/freeport 1)
bench/echod -p "$WS_PORT" -n ws 2>"$OUT/limits-echod.log" &
backend_pid=$!
wait_port "$WS_PORT" "$backend_pid" || die "echod did not start"

start_proxy() {
	local limit=$1 port
	read -r port < <(test/freeport 1)
	cat > "$tmp/limits.cfg" <<-EOF
	global
	    maxconn 4096
	defaults
	    mode http
	    timeout connect 5s
	    timeout client 30s
	    timeout server 30s
	    timeout tunnel 1h
	frontend fe
	    bind 127.0.0.1:$port
	    maxconn 4096
	    stick-table type ip size 1k expire 30s store conn_rate(10s)
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_rate gt $limit }
	    default_backend ws
	backend ws
	    server ws1 127.0.0.1:$WS_PORT
	EOF
	./wsproxy -d -f "$tmp/limits.cfg" 2>>"$OUT/limits-wsproxy.log" &
	proxy_pid=$!
	PORT=$port
	wait_port "$PORT" "$proxy_pid" || die "wsproxy did not start (see $OUT/limits-wsproxy.log)"
	wait_reaped     # wait_port's own connection
}

stop_proxy() {
	kill -TERM "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_pid=
}

# echo_latency: one WebSocket, 64-byte messages, from 127.0.0.1 (its
# own entry in the table, one connection: never limited); prints
# "p50 p99" in microseconds.
echo_latency() {
	local line
	line=$(bench/loadgen ws -c 1 -s 64 -p "$PORT" -d "$SECS" -w 1 \
	       2>>"$OUT/limits-loadgen.log" | grep '^RESULT ') ||
		die "loadgen failed (see $OUT/limits-loadgen.log)"
	[ "$(field errors "$line")" = 0 ] || note "loadgen errors: $line"
	echo "$(field p50_us "$line") $(field p99_us "$line")"
}

# one_case NAME LIMIT: the figures of one flood, as key=value words
one_case() {
	local name=$1 limit=$2 t0 t1 out conns served refused lat0 lat1 hz
	local m0 m1 mt0 mt1
	hz=$(getconf CLK_TCK)
	start_proxy "$limit"
	lat0=$(echo_latency)
	wait_reaped
	# CPU: the flood alone
	read -r m0 mt0 < <(machine_jiffies)
	t0=$(cpu_ticks)
	out=$(test/flood -p "$PORT" -s "$FLOOD_SRC" -c "$SLOTS" -r "$SECS" -T 5000 |
	      grep '^total ') || die "flood failed"
	wait_reaped
	t1=$(cpu_ticks)
	read -r m1 mt1 < <(machine_jiffies)
	served=$(field served "$out"); refused=$(field refused "$out")
	conns=$((served + refused))
	[ "$conns" -gt 0 ] || die "$name: the flood made no connection"
	# latency while the flood runs (1 s of flood first, 1 s after)
	test/flood -p "$PORT" -s "$FLOOD_SRC" -c "$SLOTS" -r $((SECS + 3)) -T 5000 \
	    > "$tmp/flood2.out" &
	flood_pid=$!
	sleep 1
	lat1=$(echo_latency)
	wait "$flood_pid"; flood_pid=
	wait_reaped
	stop_proxy
	echo "case=$name limit=$limit conns=$conns served=$served refused=$refused" \
	     "conn_per_s=$((conns / SECS)) cpu_ticks=$((t1 - t0)) hz=$hz" \
	     "cpu_us_per_conn=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$conns" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')" \
	     "machine_busy_pct=$(((m1 - m0) * 100 / (mt1 - mt0)))" \
	     "proxy_pct_of_machine=$(((t1 - t0) * 100 / (mt1 - mt0)))" \
	     "p50_quiet=${lat0% *} p99_quiet=${lat0#* } p50_flood=${lat1% *} p99_flood=${lat1#* }" \
	     "during_served_refused=$(awk '/^total / { print $3 "/" $5 }' "$tmp/flood2.out")"
}

note "$(nproc) CPUs; ${SECS}s per flood and per latency run; $SLOTS flood connections in flight from $FLOOD_SRC"
{
	echo "wsproxy stick-table limits, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr), commit $(git rev-parse --short HEAD 2>/dev/null)"
	one_case accepted 1000000000
	one_case rejected 10
} > "$res" || die "a case failed"
cat "$res"
awk '
/^case=/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] = kv[2] }
	c[++n] = $1
}
END {
	a = "case=accepted"; r = "case=rejected"
	printf "\nproxy CPU per connection: accepted %s us, rejected %s us; rejected/accepted = %.3f\n", v[a, "cpu_us_per_conn"], v[r, "cpu_us_per_conn"], v[r, "cpu_us_per_conn"] / v[a, "cpu_us_per_conn"]
	printf "flood connections per second: accepted %s, rejected %s\n", v[a, "conn_per_s"], v[r, "conn_per_s"]
	printf "machine busy during the flood (all CPUs): accepted %s%%, rejected %s%%; the proxy%ss part: %s%%, %s%%\n", v[a, "machine_busy_pct"], v[r, "machine_busy_pct"], "\047", v[a, "proxy_pct_of_machine"], v[r, "proxy_pct_of_machine"]
	for (i = 1; i <= n; i++)
		printf "%s: echo p50 %s -> %s us (x%.2f), p99 %s -> %s us (x%.2f) under the flood\n", substr(c[i], 6), v[c[i], "p50_quiet"], v[c[i], "p50_flood"], v[c[i], "p50_flood"] / v[c[i], "p50_quiet"], v[c[i], "p99_quiet"], v[c[i], "p99_flood"], v[c[i], "p99_flood"] / v[c[i], "p99_quiet"]
}' "$res" | tee -a "$res"
