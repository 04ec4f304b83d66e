# shellcheck shell=bash
# bench/lib.sh - what the bench scripts share; sourced by run.sh,
# limits.sh and handshake.sh after they define die().

# bench_help "$@": any argument prints the script's opening comment (its
# manual) and exits, 0 for -h, 64 for anything else.
bench_help() {
	[ $# -gt 0 ] || return 0
	sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p'
	[ "$1" = -h ] && exit 0
	exit 64
}

# wait_port PORT PID: PORT accepts a TCP connection (bash's /dev/tcp, no
# client needed) while PID lives; fails after 5 s or when PID is gone.
wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_reaped: the proxy ($proxy_pid) has no child left, zombies
# included: their CPU and faults are in its cutime/cstime/cminflt now.
# shellcheck disable=SC2154  # proxy_pid: the sourcing script's
wait_reaped() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -z "$(ps -o pid= --ppid "$proxy_pid")" ] && return 0
		sleep 0.05
	done
	die "the proxy still has children: $(ps -o pid=,stat= --ppid "$proxy_pid" | head -5 | tr '\n' ' ')"
}

# field KEY LINE: the value of KEY=value (or "KEY value") in a RESULT line
field() {
	sed -n "s/.*[ ^]$1[= ]\([0-9.]*\).*/\1/p" <<< " $2" | head -1
}
