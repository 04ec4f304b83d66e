#!/usr/bin/env bash
# bench/handshake.sh - "make bench-handshake": what one new WebSocket
# connection costs wsproxy, against the floor of fork-per-connection (a
# bare fork(), _exit(), waitpid() of a process built the same way:
# bench/forkfloor), measured in the same run.
#
# One client (loadgen hs -c 1) connects, upgrades, closes, again and
# again, through wsproxy to bench/echod; wsproxy's account is its
# parent's /proc/PID/stat once every child is reaped: utime + stime +
# cutime + cstime, and minflt + cminflt + majflt + cmajflt (every page
# fault of the parent and of its children). forkfloor keeps the same
# account with getrusage. The ratio is per connection / per bare fork.
#
# Run from the top of the repository (make bench-handshake builds what
# it needs). It measures ./wsproxy as it is: "make" gives the dynamic
# build, "make static" the static one; forkfloor's copy is picked to
# match (bench/forkfloor or bench/forkfloor-static).
#
# Settings (environment):
#   HS_SECS=3       measured seconds per round
#   HS_ROUNDS=3     rounds; the table shows the median of each figure
#   HS_FORKS=2000   forks per forkfloor round
set -u
set -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

SECS=${HS_SECS:-3}
ROUNDS=${HS_ROUNDS:-3}
FORKS=${HS_FORKS:-2000}

die() { echo "handshake: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_help "$@"

if LC_ALL=C readelf -l ./wsproxy 2>/dev/null | grep -q 'program interpreter'; then
	build=dynamic floor=bench/forkfloor
else
	build=static floor=bench/forkfloor-static
fi
for f in ./wsproxy bench/loadgen bench/echod "$floor" test/freeport; do
	[ -x "$f" ] || die "$f is missing: run 'make bench-handshake'"
done
if grep -q -a -e __asan_init -e __ubsan_handle ./wsproxy; then
	die "./wsproxy is a sanitizer build: 'make clean wsproxy' first"
fi

tmp=$(mktemp -d) || exit 1
backend_pid='' proxy_pid=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -z "$proxy_pid" ] || { kill -TERM "$proxy_pid"; wait "$proxy_pid"; } 2>/dev/null
	[ -z "$backend_pid" ] || { kill -TERM "$backend_pid"; wait "$backend_pid"; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "ticks faults parent_ticks parent_faults user_ticks" of the proxy's
# parent and its reaped children
account() {
	# fields after "(comm)": 10 minflt 11 cminflt 12 majflt 13 cmajflt
	# 14 utime 15 stime 16 cutime 17 cstime
	sed 's/^.*) //' "/proc/$proxy_pid/stat" |
		awk '{ print $12 + $13 + $14 + $15, $8 + $9 + $10 + $11,
		    $12 + $13, $8 + $10, $12 + $14 }'
}


median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

read -r ws_port proxy_port < <(test/freeport 2 | tr '\n' ' ')
bench/echod -p "$ws_port" -n ws 2>"$tmp/echod.log" &
backend_pid=$!
wait_port "$ws_port" "$backend_pid" || die "echod did not start"

sed -e "s/@PROXY_PORT@/$proxy_port/" -e "s/@WS_PORT@/$ws_port/" \
    -e "s/@WWW_PORT@/$ws_port/" bench/wsproxy.cfg.in > "$tmp/wsproxy.cfg"
./wsproxy -d -f "$tmp/wsproxy.cfg" 2>"$tmp/wsproxy.log" &
proxy_pid=$!
wait_port "$proxy_port" "$proxy_pid" || die "wsproxy did not start: $(cat "$tmp/wsproxy.log")"
wait_reaped
clk=$(getconf CLK_TCK)

: > "$tmp/hs" ; : > "$tmp/floor"
for ((r = 1; r <= ROUNDS; r++)); do
	read -r ticks0 faults0 pticks0 pfaults0 uticks0 < <(account)
	line=$(bench/loadgen hs -c 1 -w 0 -d "$SECS" -p "$proxy_port" \
	    -H example.com | grep '^RESULT ') || die "loadgen failed"
	wait_reaped
	read -r ticks1 faults1 pticks1 pfaults1 uticks1 < <(account)
	ops=$(field ops "$line")
	[ "${ops:-0}" -gt 0 ] || die "no handshake: $line"
	[ "$(field errors "$line")" = 0 ] || die "loadgen counted errors: $line"
	awk -v t=$((ticks1 - ticks0)) -v f=$((faults1 - faults0)) \
	    -v pt=$((pticks1 - pticks0)) -v pf=$((pfaults1 - pfaults0)) \
	    -v ut=$((uticks1 - uticks0)) -v n="$ops" -v clk="$clk" \
	    'BEGIN { us = 1e6 / clk / n
		printf "%.1f %.1f %d %.1f %.1f %.1f\n", t * us, f / n, n,
		    pt * us, pf / n, ut * us }' >> "$tmp/hs"
	line=$("$floor" "$FORKS") || die "$floor failed"
	echo "$(field cpu_us_per_fork "$line") $(field faults_per_fork "$line")" \
	    >> "$tmp/floor"
done

hs_cpu=$(cut -d' ' -f1 "$tmp/hs" | median)
hs_flt=$(cut -d' ' -f2 "$tmp/hs" | median)
hs_n=$(cut -d' ' -f3 "$tmp/hs" | median)
hs_pcpu=$(cut -d' ' -f4 "$tmp/hs" | median)
hs_pflt=$(cut -d' ' -f5 "$tmp/hs" | median)
hs_ucpu=$(cut -d' ' -f6 "$tmp/hs" | median)
fl_cpu=$(cut -d' ' -f1 "$tmp/floor" | median)
fl_flt=$(cut -d' ' -f2 "$tmp/floor" | median)

echo "wsproxy $build build, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), medians of $ROUNDS rounds"
printf '%-44s %10s %10s %8s\n' "" "wsproxy" "bare fork" "ratio"
awk -v a="$hs_cpu" -v b="$fl_cpu" 'BEGIN { printf "%-44s %10.0f %10.0f %8.2f\n", "CPU per connection / per fork (us)", a, b, a / b }'
awk -v a="$hs_flt" -v b="$fl_flt" 'BEGIN { printf "%-44s %10.1f %10.1f %8.2f\n", "page faults per connection / per fork", a, b, a / b }'
awk -v a="$hs_pcpu" -v b="$hs_pflt" -v c="$hs_ucpu" 'BEGIN { printf "%-44s %10.0f\n%-44s %10.1f\n%-44s %10.0f\n", "  of the CPU, the parent'"'"'s (us)", a, "  of the faults, the parent'"'"'s", b, "  of the CPU, user time (us)", c }'
echo "($hs_n handshakes per round, one at a time; $FORKS forks per round)"
