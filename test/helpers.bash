# Shared set-up for the bats suite: free ports, backends, the proxy, and
# clean-up that kills only the processes this test started, by PID.

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
WSPROXY="$TOP/wsproxy"
T="$TOP/test"

setup() {
	STARTED_PIDS=()
	W="$BATS_TEST_TMPDIR"
}

teardown() {
	local pid
	for pid in "${STARTED_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}

# free_ports N: sets PORTS to N ports nobody listens on.
free_ports() {
	mapfile -t PORTS < <("$T/freeport" "${1:-1}")
}

# wait_for_file FILE [TENTHS]: the deterministic readiness signal.
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# start_backend NAME [extra args]: sets BPORT_<NAME>; logs what it got
# to $W/NAME.log.
start_backend() {
	local name="$1"; shift
	free_ports 1
	"$T/backend" -p "${PORTS[0]}" -n "$name" -l "$W/$name.log" \
		-P "$W/$name.pid" "$@" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/$name.pid"
	printf -v "BPORT_$name" '%s' "${PORTS[0]}"
}

# start_proxy: config on stdin; sets PPORT (if the config uses $PPORT, pick
# it with free_ports first). Its stderr goes to $W/proxy.err.
start_proxy() {
	cat > "$W/proxy.cfg"
	rm -f "$W/proxy.pid"
	"$WSPROXY" -d -f "$W/proxy.cfg" -p "$W/proxy.pid" "$@" \
		2> "$W/proxy.err" 3>&- &
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	wait_for_file "$W/proxy.pid" || { cat "$W/proxy.err" >&2; return 1; }
}

# The classic defaults, with short test timeouts.
defaults_section() {
	cat <<-EOF
	defaults
	    mode http
	    option http-server-close
	    retries 0
	    timeout connect 1s
	    timeout client ${CLIENT_TIMEOUT:-5s}
	    timeout server ${SERVER_TIMEOUT:-5s}
	EOF
}

# Backends "www" and "ws" for the three classic examples.
classic_backends() {
	cat <<-EOF
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
}

# http_get PATH [curl args...]: one request through the proxy.
http_get() {
	local path="$1"; shift
	curl -s -m 5 -i "http://127.0.0.1:$PPORT$path" "$@"
}

# raw [rawclient args]: sends stdin to the proxy, prints the answer.
raw() {
	"$T/rawclient" -p "$PPORT" "$@"
}

# count_matches PATTERN FILE
count_matches() {
	grep -c -- "$1" "$2" || true
}

# start_udpsink NAME: a syslog receiver; sets UPORT_<NAME>, lines land in
# $W/NAME.udp.
start_udpsink() {
	local name="$1"; shift
	free_ports 1
	"$T/udpsink" -p "${PORTS[0]}" -o "$W/$name.udp" -P "$W/$name.upid" \
		"$@" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/$name.upid"
	printf -v "UPORT_$name" '%s' "${PORTS[0]}"
}

# wait_for_line FILE PATTERN [TENTHS]: until grep -E finds it.
wait_for_line() {
	local i
	for ((i = 0; i < ${3:-50}; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line matching '$2' in $1:" >&2
	cat "$1" >&2 2>/dev/null
	return 1
}
