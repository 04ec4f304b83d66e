#!/usr/bin/env bash
# bench/run.sh - "make bench": the same workloads against a direct
# connection to the backend (no proxy: the limit), wsproxy, and HAProxy
# (when installed), with the same routing configuration for both proxies
# (bench/wsproxy.cfg.in, bench/haproxy.cfg.in), then one table with
# every figure and the ratios wsproxy/direct and wsproxy/HAProxy.
#
# Targets (BENCH_TARGETS names them, in any order):
#   direct          the load generator straight to the backend
#   wsproxy         wsproxy as configured: one process per connection
#   wsproxy-keeper  the same configuration plus "tunnel-keeper on" (the
#                   value of BENCH_KEEPER) in its global section: after
#                   the 101 a tunnel is handed to a keeper process and its
#                   child exits.  Not in the default list; when named, the
#                   table gets a "keeper" column and the ratios kp/direct,
#                   kp/haprx and kp/ws (keeper over per-connection).  The
#                   keepers are children of the proxy: its process tree's
#                   CPU and Pss count them, and they are stopped by PID
#                   with it.  Checked with "wsproxy -c" before any run.
#   haproxy         HAProxy with bench/haproxy.cfg.in
#
# Run from the top of the repository after "make wsproxy helpers" and
# the bench binaries (make bench does all of it).  Installs nothing;
# a missing HAProxy is skipped, and said so.
#
# Settings (environment; make bench BENCH_SECS=10 passes them too):
#   BENCH_SECS=4        measured seconds per run
#   BENCH_WARM=1        warm-up seconds per run (not counted)
#   BENCH_ROUNDS=2      runs of each workload per target; the order of the
#                       targets is reversed every other round, and the
#                       table shows the median (errors: the sum, max: max)
#   BENCH_TARGETS="direct wsproxy haproxy"   (see Targets above)
#   BENCH_KEEPER=on     the tunnel-keeper value of wsproxy-keeper (on, or
#                       a number of keeper processes)
#   BENCH_WORKLOADS="ws64 ws64k hs http httpclose idle"
#   BENCH_IDLE=1000     tunnels held open by the idle workload
#   BENCH_IDLE_HOLD=2   seconds they are held before memory is sampled
#   BENCH_BACKEND=echod the backend: echod (bench/echod, epoll) or test
#                       (test/backend, a fork per connection)
#   BENCH_OUT=bench/out where raw.txt (every RESULT line), table.txt and
#                       the logs go
#   HAPROXY=haproxy     the HAProxy binary
#   WSPROXY=./wsproxy   the wsproxy binary (another build, e.g. a static
#                       one kept elsewhere; the table says which kind);
#                       relative to the top of the repository.  Copied
#                       once at the start: every run uses that copy.
#
# The idle workload's memory: "MemAvailable drop" is the whole machine's,
# so it counts everything the tunnels cost after the baseline (the
# proxy's processes, keepers included, the kernel's sockets, page tables
# and stacks, and the load generator's and backend's side too: see the
# direct column, and the row "(c) minus direct" when direct ran); "Pss"
# is summed over the proxy's process tree (its children, keepers
# included), and "Pss+PTE+kstacks" adds the tree's page tables and
# kernel stacks: per-process figures, which other processes on a shared
# machine do not move, as they move MemAvailable.
#
# Processes: we start the two backends, one proxy per run, and the load
# generator; each is stopped by its PID (a proxy's live descendants,
# connection children and keepers, by theirs), nothing by name.
set -u
set -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

SECS=${BENCH_SECS:-4}
WARM=${BENCH_WARM:-1}
ROUNDS=${BENCH_ROUNDS:-2}
TARGETS=${BENCH_TARGETS:-direct wsproxy haproxy}
WORKLOADS=${BENCH_WORKLOADS:-ws64 ws64k hs http httpclose idle}
IDLE_N=${BENCH_IDLE:-1000}
IDLE_HOLD=${BENCH_IDLE_HOLD:-2}
BACKEND=${BENCH_BACKEND:-echod}
OUT=${BENCH_OUT:-bench/out}
HAPROXY=${HAPROXY:-haproxy}
WSPROXY=${WSPROXY:-./wsproxy}
KEEPER=${BENCH_KEEPER:-on}

LOADGEN=bench/loadgen
FREEPORT=test/freeport

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_help "$@"

for f in "$WSPROXY" "$LOADGEN" "$FREEPORT"; do
	[ -x "$f" ] || die "$f is missing: run 'make bench' (or make wsproxy helpers bench/loadgen bench/echod)"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsproxy-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT       # until cleanup() below takes over
# Every run starts the same binary: a copy taken now, so that a "make"
# in the tree during the run (a shared machine) changes nothing here.
wsproxy_src=$WSPROXY
WSPROXY=$tmp/wsproxy
cp "$wsproxy_src" "$WSPROXY" || die "cannot copy $wsproxy_src"
wsproxy_id="$wsproxy_src, built $(date -u -r "$wsproxy_src" '+%H:%M UTC'), HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
# "make asan" leaves a sanitizer build in ./wsproxy, and make sees it as
# up to date: measuring that would be measuring ASan.
if grep -q -a -e __asan_init -e __ubsan_handle "$WSPROXY"; then
	note "WARNING: $wsproxy_src is a sanitizer build (make asan/ubsan): its"
	note "figures are not wsproxy's; 'make clean wsproxy' first"
	wsproxy_build="SANITIZER BUILD"
else
	wsproxy_build="plain build"
fi
# "make static" leaves a static ./wsproxy: say which one was measured.
if LC_ALL=C readelf -l "$WSPROXY" 2>/dev/null | grep -q 'program interpreter'; then
	wsproxy_build="$wsproxy_build, dynamic"
elif grep -q -a 'musl' "$WSPROXY"; then
	wsproxy_build="$wsproxy_build, static (musl)"
else
	wsproxy_build="$wsproxy_build, static"
fi
case $BACKEND in
echod) BACKEND_BIN=bench/echod ;;
test)  BACKEND_BIN=test/backend ;;
*)     die "BENCH_BACKEND must be echod or test" ;;
esac
[ -x "$BACKEND_BIN" ] || die "$BACKEND_BIN is missing"

# HAProxy is optional: without it the table has no HAProxy column.
have_haproxy=0
if command -v "$HAPROXY" >/dev/null 2>&1; then
	have_haproxy=1
	haproxy_version=$("$HAPROXY" -v 2>/dev/null | head -n 1)
else
	haproxy_version="not installed (skipped; apt-get install haproxy)"
fi
targets=()
for t in $TARGETS; do
	case $t in
	direct|wsproxy|wsproxy-keeper) targets+=("$t") ;;
	haproxy) if [ "$have_haproxy" = 1 ]; then targets+=("$t")
		 else note "HAProxy not found: skipping it"; fi ;;
	*) die "unknown target: $t" ;;
	esac
done

# make_cfg TARGET PROXY_PORT WWW_PORT WS_PORT FILE: the target's
# configuration.  wsproxy-keeper is bench/wsproxy.cfg.in, the same in
# every other respect, with "tunnel-keeper" added to its global section.
make_cfg() {
	local target=$1 in=bench/$1.cfg.in keeper=()
	if [ "$target" = wsproxy-keeper ]; then
		in=bench/wsproxy.cfg.in
		keeper=(-e "/^global\$/a\    tunnel-keeper $KEEPER")
	fi
	sed -e "s/@PROXY_PORT@/$2/" -e "s/@WWW_PORT@/$3/" -e "s/@WS_PORT@/$4/" \
	    "${keeper[@]}" "$in" > "$5"
}
# A wsproxy without the keeper would fail every wsproxy-keeper run:
# find out now, from "wsproxy -c".
case " ${targets[*]} " in
*" wsproxy-keeper "*)
	make_cfg wsproxy-keeper 1 2 3 "$tmp/check.cfg" || die "cannot write $tmp/check.cfg"
	grep -q "^    tunnel-keeper $KEEPER\$" "$tmp/check.cfg" ||
		die "no tunnel-keeper line in $tmp/check.cfg"
	check=$("$WSPROXY" -c -f "$tmp/check.cfg" 2>&1) ||
		die "$wsproxy_src refuses 'tunnel-keeper $KEEPER' (target wsproxy-keeper): ${check//$tmp\//}"
	;;
esac

# 1000 idle tunnels are 1000 descriptors in the load generator, 1000 in
# the backend and 2000 in HAProxy: lift the soft limit to the hard one.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard" || die "cannot raise ulimit -n to $hard"
[ "$hard" -ge $((2 * IDLE_N + 256)) ] ||
	note "ulimit -n is $hard: too low for $IDLE_N idle tunnels through HAProxy"

mkdir -p "$OUT" || die "cannot create $OUT"
raw=$OUT/raw.txt
table=$OUT/table.txt
: > "$raw" || die "cannot write $raw"
for log in wsproxy wsproxy-keeper haproxy loadgen backend-www backend-ws; do
	: > "$OUT/$log.log" || die "cannot write $OUT/$log.log"
done

# ---- processes we started, and how they end ----

backend_pids=()
proxy_pid=

# The proxy's descendants, for wsproxy (a child per connection, and the
# keepers, children of the proxy too; grandchildren in case): when the
# parent is gone they are orphans we still want gone before the next run.
descendants_of() {
	ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			queue[n++] = root
			for (i = 0; i < n; i++)
				for (p in parent)
					if (parent[p] == queue[i] && !(p in seen)) {
						seen[p] = 1; queue[n++] = p; print p
					}
		}'
}

# settle_tree PID: wait (up to 2 s) until PID's set of descendants has
# held still for 0.3 s: processes it starts by itself (the keepers) are
# then up before a workload begins, and before the idle workload takes
# its memory baseline.
settle_tree() {
	local prev cur i same=0
	prev=$(descendants_of "$1" | sort | tr '\n' ' ')
	for ((i = 0; i < 20 && same < 3; i++)); do
		sleep 0.1
		cur=$(descendants_of "$1" | sort | tr '\n' ' ')
		if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
		prev=$cur
	done
}

# SIGTERM a process we started, wait for it (up to 10 s, then SIGKILL
# it, and say so); then for the listed children it had (wsproxy's parent
# SIGTERMs them itself) up to 5 s, and SIGKILL, by PID, whichever still
# runs.
stop_pid() {
	local pid=$1; shift
	local kids=("$@") i alive
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		note "$pid still runs 10 s after SIGTERM: killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		alive=()
		for k in "${kids[@]}"; do
			kill -0 "$k" 2>/dev/null && alive+=("$k")
		done
		[ ${#alive[@]} -eq 0 ] && return 0
		sleep 0.1
	done
	note "killing ${#alive[@]} leftover children of $pid"
	kill -KILL "${alive[@]}" 2>/dev/null
	return 0
}

stop_proxy() {
	[ -n "$proxy_pid" ] || return 0
	local kids
	mapfile -t kids < <(descendants_of "$proxy_pid")
	stop_pid "$proxy_pid" "${kids[@]}"
	proxy_pid=
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	stop_proxy
	for p in "${backend_pids[@]}"; do stop_pid "$p"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


freeport() {
	"$FREEPORT" "$1" | tr '\n' ' ' || die "test/freeport failed"
}

# ---- the backends: one "www", one "ws", for the whole run ----

read -r WWW_PORT WS_PORT < <(freeport 2)
"$BACKEND_BIN" -p "$WWW_PORT" -n www 2>"$OUT/backend-www.log" &
WWW_PID=$!
backend_pids+=("$WWW_PID")
"$BACKEND_BIN" -p "$WS_PORT" -n ws 2>"$OUT/backend-ws.log" &
WS_PID=$!
backend_pids+=("$WS_PID")
wait_port "$WWW_PORT" "$WWW_PID" || die "backend www did not start (see $OUT/backend-www.log)"
wait_port "$WS_PORT" "$WS_PID" || die "backend ws did not start (see $OUT/backend-ws.log)"

# ---- one proxy per run, fresh, on a fresh port ----

# start_target TARGET: sets PORT (where the load generator connects) and
# proxy_pid (empty for direct).  $1 is also the backend's role (ws/www)
# for direct runs.
start_target() {
	local target=$1 role=$2 cfg
	proxy_pid=
	if [ "$target" = direct ]; then
		if [ "$role" = ws ]; then PORT=$WS_PORT; else PORT=$WWW_PORT; fi
		return 0
	fi
	for _ in 1 2 3; do      # a port taken between freeport and bind: retry
		read -r PORT < <(freeport 1)
		cfg=$tmp/$target.cfg
		make_cfg "$target" "$PORT" "$WWW_PORT" "$WS_PORT" "$cfg" ||
			die "cannot write $cfg"
		if [ "$target" = haproxy ]; then
			"$HAPROXY" -db -f "$cfg" 2>>"$OUT/haproxy.log" &
		else
			"$WSPROXY" -d -f "$cfg" 2>>"$OUT/$target.log" &
		fi
		proxy_pid=$!
		if wait_port "$PORT" "$proxy_pid"; then
			settle_tree "$proxy_pid"
			return 0
		fi
		stop_proxy
	done
	die "$target did not start (see $OUT/$target.log)"
}

# The workloads: load generator arguments and the backend they go to.
workload_args() {
	case $1 in
	ws64)      echo "ws -c 50 -s 64" ;;
	ws64k)     echo "ws -c 4 -s 65536" ;;
	hs)        echo "hs -c 50" ;;
	http)      echo "http -c 50" ;;
	httpclose) echo "httpclose -c 50" ;;
	idle)      echo "idle -c $IDLE_N -i 50 -s 64" ;;
	*)         return 1 ;;
	esac
}
workload_role() {
	case $1 in http|httpclose) echo www ;; *) echo ws ;; esac
}

for w in $WORKLOADS; do
	workload_args "$w" >/dev/null || die "unknown workload: $w"
done

nruns=$((ROUNDS * ${#targets[@]} * $(echo "$WORKLOADS" | wc -w)))
run_no=0
t_begin=$(date +%s)

run_one() {
	local round=$1 w=$2 target=$3 role args bpid line
	role=$(workload_role "$w")
	args=$(workload_args "$w")
	if [ "$role" = ws ]; then bpid=$WS_PID; else bpid=$WWW_PID; fi
	start_target "$target" "$role"
	local popt=()
	[ -n "$proxy_pid" ] && popt=(-P "$proxy_pid")
	local timing=(-d "$SECS" -w "$WARM")
	[ "$w" = idle ] && timing=(-d "$IDLE_HOLD")
	run_no=$((run_no + 1))
	# shellcheck disable=SC2086  # args is a word list on purpose
	line=$("$LOADGEN" $args -p "$PORT" -e "$role" "${timing[@]}" \
	       "${popt[@]}" -B "$bpid" 2>>"$OUT/loadgen.log" | grep '^RESULT ')
	stop_proxy
	if [ -z "$line" ]; then
		note "[$run_no/$nruns] $w $target: no result (see $OUT/loadgen.log)"
		line="RESULT failed=1 errors=1"
	fi
	line="round=$round workload=$w target=$target ${line#RESULT }"
	echo "$line" >> "$raw"
	note "[$run_no/$nruns] $(echo "$line" | cut -c1-150)"
	sleep 0.3       # let closing sockets and exiting children settle
}

note "backend: $BACKEND_BIN; haproxy: $haproxy_version"
note "$nruns runs of ${SECS}s (+${WARM}s warm-up), ${ROUNDS} round(s); output in $OUT"

# The machine's bare fork()+exit rate: the ceiling of fork-per-connection.
fork_line=$("$LOADGEN" fork -d 2 | grep '^RESULT ') || die "loadgen fork failed"
echo "round=1 workload=fork target=machine ${fork_line#RESULT }" >> "$raw"

for ((round = 1; round <= ROUNDS; round++)); do
	# Alternate the order, so that neither target always runs first
	# (after an idle machine) or last (after the other's TIME_WAITs).
	order=("${targets[@]}")
	if ((round % 2 == 0)); then
		order=()
		for ((i = ${#targets[@]} - 1; i >= 0; i--)); do order+=("${targets[i]}"); done
	fi
	for w in $WORKLOADS; do
		for t in "${order[@]}"; do
			run_one "$round" "$w" "$t"
		done
	done
done
t_end=$(date +%s)

# ---- the table ----

{
echo "wsproxy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr)"
echo "wsproxy: $wsproxy_id ($wsproxy_build); backend: $BACKEND_BIN; HAProxy: $haproxy_version"
echo "${ROUNDS} round(s) x ${SECS}s measured (+${WARM}s warm-up) per figure; idle: $IDLE_N tunnels held ${IDLE_HOLD}s; run time $((t_end - t_begin))s"
if [[ " ${targets[*]} " == *" wsproxy-keeper "* ]]; then
	echo "keeper: wsproxy-keeper = the wsproxy configuration plus \"tunnel-keeper $KEEPER\" in global"
	echo "medians over rounds (errors: sum, max: max); latencies in microseconds; ratios: ws = wsproxy, kp = wsproxy-keeper, over direct, HAProxy, wsproxy"
else
	echo "medians over rounds (errors: sum, max: max); latencies in microseconds; ratios = wsproxy/other"
fi
echo
awk -v targets="${targets[*]}" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)             # insertion sort: a few values
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n == 0) return ""
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function agg(list, how,   n, a, i, s) {
	if (list == "") return ""
	if (how == "med") return median(list)
	n = split(list, a, " "); s = a[1]
	for (i = 2; i <= n; i++)
		if (how == "sum") s += a[i]; else if (a[i] + 0 > s + 0) s = a[i]
	return s
}
function fmt(v) {
	if (v == "") return "-"
	if (v + 0 >= 100 || v == int(v)) return sprintf("%.0f", v)
	if (v + 0 >= 10) return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}
function ratio(a, b) {
	if (a == "" || b == "" || b + 0 == 0) return "-"
	return sprintf("%.2f", a / b)
}
{
	w = ""; t = ""
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "workload") w = kv[2]
		else if (kv[1] == "target") t = kv[2]
	}
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		k = w SUBSEP t SUBSEP kv[1]
		v[k] = (k in v) ? v[k] " " kv[2] : kv[2]
	}
	seen[w] = 1
}
# Columns: direct, wsproxy, haproxy and ws/direct, ws/haprx as always;
# with wsproxy-keeper among the targets, a keeper column after wsproxy
# and the ratios kp/direct, kp/haprx and kp/ws.
function row(w, key, label, how,   d, p, k, h) {
	if (!(w in seen)) return
	d = agg(v[w, "direct", key], how)
	p = agg(v[w, "wsproxy", key], how)
	k = agg(v[w, "wsproxy-keeper", key], how)
	h = agg(v[w, "haproxy", key], how)
	if (keeper)
		printf "%-10s %-26s %11s %11s %11s %11s %9s %9s %9s %9s %9s\n", w, label, fmt(d), fmt(p), fmt(k), fmt(h), ratio(p, d), ratio(k, d), ratio(p, h), ratio(k, h), ratio(k, p)
	else
		printf "%-10s %-26s %11s %11s %11s %9s %9s\n", w, label, fmt(d), fmt(p), fmt(h), ratio(p, d), ratio(p, h)
}
END {
	keeper = (" " targets " " ~ / wsproxy-keeper /)
	if (keeper)
		printf "%-10s %-26s %11s %11s %11s %11s %9s %9s %9s %9s %9s\n", "workload", "figure", "direct", "wsproxy", "keeper", "haproxy", "ws/direct", "kp/direct", "ws/haprx", "kp/haprx", "kp/ws"
	else
		printf "%-10s %-26s %11s %11s %11s %9s %9s\n", "workload", "figure", "direct", "wsproxy", "haproxy", "ws/direct", "ws/haprx"
	n = split("ws64 ws64k", wl, " ")
	for (i = 1; i <= n; i++) {
		w = wl[i]
		row(w, "rate", "msg/s (round trips)", "med")
		row(w, "mb_s", "MB/s (payload, each way)", "med")
		row(w, "p50_us", "RTT p50", "med")
		row(w, "p90_us", "RTT p90", "med")
		row(w, "p99_us", "RTT p99", "med")
		row(w, "max_us", "RTT max", "max")
		row(w, "proxy_us_per_op", "proxy CPU us/msg", "med")
		row(w, "proxy_cpu_pct", "proxy CPU %", "med")
		row(w, "backend_cpu_pct", "backend CPU %", "med")
		row(w, "self_cpu_pct", "loadgen CPU %", "med")
		row(w, "machine_busy_pct", "machine busy % (all CPUs)", "med")
		row(w, "machine_nice_pct", "niced jobs % (b)", "med")
		row(w, "other_cpu_pct", "other processes % (b)", "med")
		row(w, "errors", "errors", "sum")
	}
	if ("hs" in seen) {
		row("hs", "rate", "handshakes/s", "med")
		row("hs", "p50_us", "connect->101 p50", "med")
		row("hs", "p90_us", "connect->101 p90", "med")
		row("hs", "p99_us", "connect->101 p99", "med")
		row("hs", "max_us", "connect->101 max", "max")
		row("hs", "cyc_p50_us", "whole cycle p50", "med")
		row("hs", "proxy_us_per_op", "proxy CPU us/handshake", "med")
		row("hs", "proxy_cpu_pct", "proxy CPU %", "med")
		row("hs", "backend_cpu_pct", "backend CPU %", "med")
		row("hs", "self_cpu_pct", "loadgen CPU %", "med")
		row("hs", "machine_busy_pct", "machine busy % (all CPUs)", "med")
		row("hs", "machine_nice_pct", "niced jobs % (b)", "med")
		row("hs", "other_cpu_pct", "other processes % (b)", "med")
		row("hs", "errors", "errors", "sum")
	}
	n = split("http httpclose", wl, " ")
	for (i = 1; i <= n; i++) {
		w = wl[i]
		row(w, "rate", "requests/s", "med")
		row(w, "p50_us", "latency p50", "med")
		row(w, "p90_us", "latency p90", "med")
		row(w, "p99_us", "latency p99", "med")
		row(w, "max_us", "latency max", "max")
		row(w, "proxy_us_per_op", "proxy CPU us/request", "med")
		row(w, "proxy_cpu_pct", "proxy CPU %", "med")
		row(w, "backend_cpu_pct", "backend CPU %", "med")
		row(w, "self_cpu_pct", "loadgen CPU %", "med")
		row(w, "machine_busy_pct", "machine busy % (all CPUs)", "med")
		row(w, "machine_nice_pct", "niced jobs % (b)", "med")
		row(w, "other_cpu_pct", "other processes % (b)", "med")
		row(w, "errors", "errors", "sum")
	}
	if ("idle" in seen) {
		# The load generator and the backend hold their ends of the
		# tunnels too: with a direct run, its drop is theirs alone.
		if (("idle", "direct", "avail_pcp_per_conn_kb") in v) {
			dd = agg(v["idle", "direct", "avail_pcp_per_conn_kb"], "med")
			n = split("direct wsproxy wsproxy-keeper haproxy", tl, " ")
			for (i = 1; i <= n; i++)
				if (("idle", tl[i], "avail_pcp_per_conn_kb") in v)
					v["idle", tl[i], "net_pcp_kb"] = agg(v["idle", tl[i], "avail_pcp_per_conn_kb"], "med") - dd
		}
		row("idle", "conns", "tunnels held", "med")
		row("idle", "open_rate", "opened/s (50 in flight)", "med")
		row("idle", "procs", "proxy processes", "med")
		row("idle", "pss_kb", "proxy Pss total kB", "med")
		row("idle", "pss_per_conn_kb", "proxy Pss kB/tunnel", "med")
		row("idle", "est_per_conn_kb", "Pss+PTE+kstacks/tunnel (d)", "med")
		row("idle", "memavail_per_conn_kb", "MemAvailable drop kB/tunnel", "med")
		row("idle", "avail_pcp_per_conn_kb", " same + per-CPU free (c)", "med")
		if (("idle", "direct", "net_pcp_kb") in v)
			row("idle", "net_pcp_kb", " (c) minus direct (e)", "med")
		row("idle", "verified", "tunnels echoing after", "med")
		row("idle", "errors", "errors", "sum")
	}
	print "(b) % of all CPUs: niced background jobs; busy time not used by loadgen, proxy or backend"
	print "    (kernel threads, other processes; a few % is normal, more means a shared machine)"
	if ("idle" in seen) {
		print "(c) MemAvailable plus the free pages on the per-CPU lists (/proc/zoneinfo), which MemAvailable omits"
		print "(d) Pss plus page tables (VmPTE) plus a 16 KiB kernel stack per thread, over the proxy process tree,"
		print "    in kB per tunnel: what /proc shows per process, so other processes do not move it (MemAvailable"
		print "    is for the whole machine); sockets, task and mm structures are not in it"
		if (("idle", "direct", "net_pcp_kb") in v)
			print "(e) the proxy alone: (c) less (c) of the direct run, which is what the load generator and the backend hold"
	}
	if ("fork" in seen) {
		printf "\nmachine: fork()+_exit()+wait, serial: %s/s (%s us each); pipelined (64 unreaped): %s/s\n", fmt(agg(v["fork", "machine", "serial_forks_s"], "med")), fmt(agg(v["fork", "machine", "serial_us"], "med")), fmt(agg(v["fork", "machine", "pipelined_forks_s"], "med"))
	}
}' "$raw"
} | tee "$table"

errors=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^errors=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$raw")
echo
echo "raw results: $raw; table: $table; logs: $OUT/*.log"
[ "$errors" -eq 0 ] || note "$errors errors in total (see $OUT/loadgen.log)"
exit 0
