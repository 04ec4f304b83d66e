# The one harness of the bats suite: free ports, backends, the proxy (as a
# daemon, or in inetd mode behind socat), readiness checks instead of
# sleeps, the client helpers several files share, and clean-up that kills
# only the processes this test started, by PID.
#
# WSPROXY_MODE=inetd (make test sets it for its second run of routing.bats,
# http.bats and websocket.bats): start_proxy serves every bind line of the
# config with "wsproxy -i" behind a socat listener, once per connection, as
# inetd would; the tests and their assertions are the same. A test that
# needs the daemon itself says so with daemon_only.

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
WSPROXY="$TOP/wsproxy"
T="$TOP/test"
WSPROXY_MODE=${WSPROXY_MODE:-daemon}

setup() {
	STARTED_PIDS=()
	INETD_PIDS=()
	BACKENDS=()
	W="$BATS_TEST_TMPDIR"
	# a file sets TEST_NEEDS="cmd..." for the programs all its tests
	# need (bats 1.8 cannot skip from setup_file)
	local cmd
	for cmd in ${TEST_NEEDS:-}; do
		command -v "$cmd" >/dev/null ||
			skip "these tests need $cmd, which is not installed"
	done
}

teardown() {
	local pid child
	# inetd mode: the wsproxy -i processes socat started for us first
	for pid in "${INETD_PIDS[@]}"; do
		for child in $(pgrep -P "$pid"); do
			kill -TERM "$child" 2>/dev/null || true
		done
	done
	for pid in "${STARTED_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	# in inetd mode fd 2 may be the client's socket: wsproxy -i must
	# never have written to it (nor socat have complained)
	if [ "${#INETD_PIDS[@]}" -gt 0 ] && [ -s "$W/proxy.err" ]; then
		echo "inetd mode: something was written to fd 2:" >&2
		cat "$W/proxy.err" >&2
		return 1
	fi
}

# ---- readiness ----

# wait_for TENTHS COMMAND...: runs COMMAND every 0.1 s until it succeeds,
# at most TENTHS times; fails (saying what) if it never did.
wait_for() {
	local tries="$1" i; shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out after $((tries / 10)).$((tries % 10)) s waiting for: $*" >&2
	return 1
}

# wait_for_file FILE [TENTHS]: the deterministic readiness signal.
wait_for_file() {
	wait_for "${2:-50}" test -s "$1"
}

# wait_for_line FILE PATTERN [TENTHS]: until grep -E finds it.
wait_for_line() {
	wait_for "${3:-50}" grep -qE -- "$2" "$1" 2>/dev/null && return 0
	echo "no line matching '$2' in $1:" >&2
	cat "$1" >&2 2>/dev/null
	return 1
}

# listening PORT: some TCP socket (IPv4 or IPv6, any address) listens on
# PORT (from /proc: no tool needed, no connection made).
listening() {
	awk -v port="$(printf '%04X' "$1")" '
		$4 == "0A" && substr($2, length($2) - 3) == port { found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# not_listening PORT: nothing listens on PORT (any more).
not_listening() {
	! listening "$1"
}

# no_children PID: the process has no child left, not even a zombie.
no_children() {
	[ -z "$(pgrep -P "$1")" ]
}

# alive PID: the process runs (a zombie not yet reaped does not count).
alive() {
	[ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# gone PID: the process has exited (a zombie not yet reaped counts).
gone() {
	! alive "$1"
}

# listening_or_dead PORT PID: for wait_for_listen; a dead PID ends the wait.
listening_or_dead() {
	listening "$1" && return 0
	alive "$2" || { echo "process $2 exited before listening on $1" >&2; return 0; }
	return 1
}

# wait_for_listen PORT [PID] [TENTHS]: until something listens on PORT;
# with PID, fails at once if that process (the one meant to listen) is gone.
wait_for_listen() {
	if [ -n "${2:-}" ]; then
		wait_for "${3:-50}" listening_or_dead "$1" "$2" && listening "$1"
	else
		wait_for "${3:-50}" listening "$1"
	fi
}

# count_at_least N PATTERN FILE: grep finds at least N lines (a file not
# there yet has none).
count_at_least() {
	local n
	n=$(grep -c -- "$2" "$3" 2>/dev/null) || true
	[ "${n:-0}" -ge "$1" ]
}

# handshakes N: the backends this test started have received N WebSocket
# handshakes in all (so the proxy has a child, a connection, for each).
handshakes() {
	local name total=0
	for name in "${BACKENDS[@]}"; do
		total=$((total + $(count_matches '^Sec-WebSocket-Key: ' "$W/$name.log")))
	done
	[ "$total" -ge "$1" ]
}

# ---- servers and the proxy ----

# free_ports N: sets PORTS to N ports nobody listens on, none of them
# handed out before in this test (GIVEN_PORTS).
free_ports() {
	local want=${1:-1} port fresh
	PORTS=()
	while [ "${#PORTS[@]}" -lt "$want" ]; do
		mapfile -t fresh < <("$T/freeport" "$want")
		[ "${#fresh[@]}" -gt 0 ] || return 1
		for port in "${fresh[@]}"; do
			# a port handed out earlier in this test may still be
			# unbound (a "dead" server's): never hand it out twice
			[[ " ${GIVEN_PORTS[*]} ${PORTS[*]} " == *" $port "* ]] &&
				continue
			[ "${#PORTS[@]}" -lt "$want" ] && PORTS+=("$port")
		done
	done
	GIVEN_PORTS+=("${PORTS[@]}")
}

# start_backend NAME [extra args]: sets BPORT_<NAME>; logs what it got
# to $W/NAME.log (and NAME joins BACKENDS, for refused).
start_backend() {
	local name="$1"; shift
	free_ports 1
	"$T/backend" -p "${PORTS[0]}" -n "$name" -l "$W/$name.log" \
		-P "$W/$name.pid" "$@" 3>&- &
	STARTED_PIDS+=("$!")
	BACKENDS+=("$name")
	wait_for_file "$W/$name.pid"
	printf -v "BPORT_$name" '%s' "${PORTS[0]}"
}

# start_proxy [wsproxy args]: the config on stdin (pick $PPORT with
# free_ports first; to build the config in this shell, write it to a file
# and redirect it in: a pipe would run start_proxy in a subshell). It is
# kept in $W/proxy.cfg, the proxy's stderr in $W/proxy.err, its stdout in
# $W/proxy.out. As a daemon (-d -p $W/proxy.pid), it is ready once the pid
# file is written, after binding; sets PROXY_PID. PROXY_LAUNCHER (an
# array) runs it through a wrapper that execs it (sdlaunch, ulimit...).
# In inetd mode see start_inetd_proxy.
start_proxy() {
	cat > "$W/proxy.cfg"
	rm -f "$W/proxy.pid"
	if [ "$WSPROXY_MODE" = inetd ]; then
		start_inetd_proxy "$@"
		return
	fi
	"${PROXY_LAUNCHER[@]}" "$WSPROXY" -d -f "$W/proxy.cfg" \
		-p "$W/proxy.pid" "$@" > "$W/proxy.out" 2> "$W/proxy.err" 3>&- &
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	wait_for 50 pidfile_or_dead "$W/proxy.pid" "$PROXY_PID" &&
		[ -s "$W/proxy.pid" ] || { cat "$W/proxy.err" >&2; return 1; }
}

# pidfile_or_dead FILE PID: for start_proxy; a dead proxy ends the wait.
pidfile_or_dead() {
	[ -s "$1" ] || ! alive "$2"
}

# stop_proxy: SIGTERM to the daemon start_proxy started, and wait for it.
stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || true
}

# start_inetd_proxy [wsproxy args]: inetd mode. For every bind line of
# $W/proxy.cfg (ADDR:PORT or [ADDR6]:PORT, and "listen NAME ADDR:PORT"),
# a socat listener that, once per connection, execs
# "wsproxy -i -F SECTION -f $W/proxy.cfg" with the accepted socket as fd
# 0 and 1 (nofork: no relay in between, and src/dst come from the socket
# itself), fd 2 being $W/proxy.err. Ready once every port listens.
# PROXY_PID stays empty: there is no daemon to signal.
start_inetd_proxy() {
	command -v socat >/dev/null || skip "inetd mode needs socat"
	local kw arg rest section="" binds=() b
	while read -r kw arg rest; do
		case "$kw" in
		frontend) section="$arg" ;;
		listen) section="$arg"
			[ -z "$rest" ] || binds+=("$section ${rest%% *}") ;;
		global|defaults|backend|userlist|peers|resolvers|program)
			section="" ;;
		bind) [ -z "$section" ] || binds+=("$section $arg") ;;
		esac
	done < "$W/proxy.cfg"
	[ "${#binds[@]}" -gt 0 ] || { echo "inetd mode: no bind line" >&2; return 1; }
	PROXY_PID=""
	local name addr port listen pid ports=()
	for b in "${binds[@]}"; do
		name=${b%% *} addr=${b#* }
		port=${addr##*:} addr=${addr%:*}
		case "$addr" in
		\[*\]) listen="TCP6-LISTEN:$port,bind=$addr,ipv6only=1" ;;
		*) listen="TCP4-LISTEN:$port,bind=${addr:-0.0.0.0}" ;;
		esac
		# no trailing blank: socat would pass an empty argument
		socat "$listen,reuseaddr,fork,backlog=1024" \
			EXEC:"$WSPROXY -i -F $name -f $W/proxy.cfg${*:+ $*}",nofork \
			2>> "$W/proxy.err" 3>&- &
		pid=$!
		STARTED_PIDS+=("$pid")
		INETD_PIDS+=("$pid")
		wait_for_listen "$port" "$pid" || { cat "$W/proxy.err" >&2; return 1; }
	done
}

# daemon_only REASON: the test needs the daemon (its children, signals,
# limits across connections...): skipped in inetd mode, saying why.
daemon_only() {
	[ "$WSPROXY_MODE" != inetd ] || skip "inetd mode: $1"
}

# ---- configuration pieces ----

# The classic defaults, with short test timeouts (CLIENT_TIMEOUT,
# SERVER_TIMEOUT and RETRIES change them).
defaults_section() {
	cat <<-EOF
	defaults
	    mode http
	    option http-server-close
	    retries ${RETRIES:-0}
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

# start_public_proxy DEFAULT [GLOBAL LINE...]: the proxy on a free
# $PPORT as most tests want it: a global section with the lines given
# (none: no global section), the classic defaults, a frontend "public"
# whose default backend is DEFAULT, then the backend sections on stdin.
start_public_proxy() {
	local default="$1" line; shift
	free_ports 1; PPORT=${PORTS[0]}
	{ if [ "$#" -gt 0 ]; then
		echo global
		for line; do echo "    $line"; done
	  fi
	  defaults_section
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT"
	  echo "    default_backend $default"
	  cat
	} > "$W/public.cfg"
	# not a pipe: start_proxy must run in this shell to set PROXY_PID
	start_proxy < "$W/public.cfg"
}

# lb_proxy BALANCE "server lines...": a frontend on $PPORT with one
# backend "be" ("-": no balance line); access lines (httplog) go to
# $W/proxy.err. The classic defaults (CLIENT_TIMEOUT, SERVER_TIMEOUT,
# RETRIES), then EXTRA_DEFAULTS lines.
lb_proxy() {
	local balance="balance $1" servers="$2"
	[ "$1" = - ] && balance=""
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	    ${EXTRA_DEFAULTS:-}
	frontend public
	    bind 127.0.0.1:$PPORT
	    log stderr format raw local0
	    option httplog
	    default_backend be
	backend be
	    $balance
	$servers
	EOF
}

# ---- clients ----

# start_classic: backends www and ws, a frontend "public" on $PPORT whose
# routing lines come on stdin.
start_classic() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT"
	  cat
	  classic_backends
	} > "$W/proxy.cfg.in"; start_proxy < "$W/proxy.cfg.in"
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

# backend_of PATH [curl args]: which backend answered GET PATH on $PPORT
# (its X-Backend header), or the status code when the proxy answered
# itself.
backend_of() {
	local path="$1" out b; shift
	out=$(curl -s -m 5 -D - -o /dev/null "http://127.0.0.1:$PPORT$path" "$@")
	b=$(grep -i '^x-backend:' <<< "$out" | tr -d '\r' | awk '{print $2}')
	if [ -n "$b" ]; then echo "$b"; else head -1 <<< "$out" | awk '{print $2}'; fi
}

# who [curl args]: the name of the backend that answered GET /.
who() {
	curl -s -m 5 -i "http://127.0.0.1:$PPORT/" "$@" |
		tr -d '\r' | sed -n 's/^X-Backend: //p'
}

# sequence N [curl args]: N requests, one after another; names joined.
sequence() {
	local n="$1" out=() i; shift
	for ((i = 0; i < n; i++)); do
		out+=("$(who "$@")")
	done
	echo "${out[*]}"
}

# refused BYTES [STATUS]: the printf-style BYTES sent to $PPORT get an
# answer starting "HTTP/1.1 STATUS " (400 by default) and the close; with
# STATUS "-", the bytes are followed by our FIN and nothing at all comes
# back (closed or reset). Either way no backend this test started has
# received a byte.
refused() {
	local out name
	printf "$1" > "$W/refused.in"
	if [ "${2:-400}" = - ]; then
		out=$("$T/rawclient" -p "$PPORT" -s -t 3000 < "$W/refused.in" 2>/dev/null) || true
		[ -z "$out" ] || { echo "got: ${out:0:200}" >&2; return 1; }
	else
		out=$("$T/rawclient" -p "$PPORT" -t 3000 < "$W/refused.in")
		[[ "$out" == "HTTP/1.1 ${2:-400} "* ]] || {
			echo "got: ${out:0:200}" >&2; return 1; }
	fi
	for name in "${BACKENDS[@]}"; do
		[ ! -s "$W/$name.log" ] || {
			echo "backend $name got:" >&2; cat "$W/$name.log" >&2; return 1; }
	done
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

# not_sanitized REASON: skips when wsproxy is a sanitizer build (make asan,
# make ubsan), for tests that valgrind runs or that weigh the parent's
# memory (ASan keeps freed memory in quarantine); CI runs them on the
# normal build.
not_sanitized() {
	! grep -qaE '__(a|ub)san_' "$WSPROXY" || skip "wsproxy is a sanitizer build: $1"
}
