#!/usr/bin/env bats
# The parent: pid file, signals, connection limits, isolation of children,
# and no descriptor or child left behind.

load helpers

# start_simple_proxy: www by default, ws for /ws*; global lines (or
# nothing) on stdin.
start_simple_proxy() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ cat
	  defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend ws if { path_beg /ws }
	    default_backend www
	EOF
	  classic_backends
	} > "$W/proxy.cfg.in"
	start_proxy < "$W/proxy.cfg.in"
}

children_of() {
	pgrep -P "$1" | sort
}

@test "-p writes the pid after binding; SIGTERM stops, kills children, removes it" {
	start_simple_proxy < /dev/null
	[ "$(cat "$W/proxy.pid")" = "$PROXY_PID" ]
	grep -q "listening on 127.0.0.1:$PPORT (frontend 'public')" "$W/proxy.err"
	"$T/wsclient" -p "$PPORT" -q -n 1 -w 10000 > "$W/ws.out" 2>&1 &
	client=$!
	wait_for 50 handshakes 1
	[ -n "$(children_of "$PROXY_PID")" ]
	kill -TERM "$PROXY_PID"
	rc=0; wait "$PROXY_PID" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -e "$W/proxy.pid" ]
	# the open tunnel was closed with its child
	rc=0; wait "$client" || rc=$?
	[ "$rc" -ne 0 ]
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[ "$status" -ne 0 ]
}

@test "SIGUSR1: listeners close at once, an open tunnel finishes, then exit" {
	start_simple_proxy < /dev/null
	"$T/wsclient" -p "$PPORT" -q -n 2 -w 1500 > "$W/ws.out" 2>&1 &
	client=$!
	wait_for 50 handshakes 1
	kill -USR1 "$PROXY_PID"
	wait_for 30 not_listening "$PPORT"
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[ "$status" -ne 0 ]
	kill -0 "$PROXY_PID"
	wait "$client"
	grep -q 'ok 2 messages' "$W/ws.out"
	wait_for 30 gone "$PROXY_PID"
}

@test "global maxconn: connections beyond it wait in the backlog, none is dropped" {
	start_simple_proxy <<-'EOF'
	global
	    maxconn 2
	EOF
	"$T/wsclient" -p "$PPORT" -q -n 1 -W 1500 > "$W/a.out" 2>&1 &
	a=$!
	"$T/wsclient" -p "$PPORT" -q -n 1 -W 1500 > "$W/b.out" 2>&1 &
	b=$!
	wait_for 50 handshakes 2
	[ "$(children_of "$PROXY_PID" | wc -l)" -eq 2 ]
	start=$(date +%s%N)
	run curl -s -m 10 "http://127.0.0.1:$PPORT/third"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$status" -eq 0 ]
	[[ "$output" == *"backend=www"* ]]
	# it was served only once a slot was free
	[ "$elapsed" -ge 500 ]
	wait "$a"; wait "$b"
}

@test "frontend maxconn caps that frontend's connections" {
	start_simple_proxy < /dev/null
	free_ports 1; P2=${PORTS[0]}
	cat >> "$W/proxy.cfg.in" <<-EOF
	frontend small
	    bind 127.0.0.1:$P2
	    maxconn 1
	    default_backend ws
	EOF
	stop_proxy
	start_proxy < "$W/proxy.cfg.in"
	"$T/wsclient" -p "$P2" -q -n 1 -W 1500 > "$W/a.out" 2>&1 &
	a=$!
	wait_for 50 handshakes 1
	start=$(date +%s%N)
	run curl -s -m 10 "http://127.0.0.1:$P2/"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "$output" == *"backend=ws"* ]]
	[ "$elapsed" -ge 500 ]
	# the other frontend is not limited by it
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=www"* ]]
	wait "$a"
}

@test "a child killed by a signal takes no other connection down" {
	start_simple_proxy < /dev/null
	"$T/wsclient" -p "$PPORT" -q -n 2 -w 1500 > "$W/a.out" 2>&1 &
	a=$!
	wait_for 50 handshakes 1
	victim=$(children_of "$PROXY_PID" | head -1)
	"$T/wsclient" -p "$PPORT" -q -n 2 -w 1500 > "$W/b.out" 2>&1 &
	b=$!
	wait_for 50 handshakes 2
	kill -KILL "$victim"
	rc_a=0; wait "$a" || rc_a=$?
	rc_b=0; wait "$b" || rc_b=$?
	[ "$rc_a" -ne 0 ]
	[ "$rc_b" -eq 0 ]
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=www"* ]]
	grep -q "killed by signal 9" "$W/proxy.err"
}

@test "a child's client socket comes from accept non-blocking and with TCP_NODELAY" {
	start_simple_proxy < /dev/null
	"$T/wsclient" -p "$PPORT" -q -n 1 -w 1500 > "$W/a.out" 2>&1 &
	a=$!
	wait_for 50 handshakes 1
	child=$(children_of "$PROXY_PID" | head -1)
	run "$T/sockopt" "$child" "$PPORT"
	[ "$status" -ne 77 ] || skip "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s' "$output" | head -1)" ]   # one socket
	[[ "$output" == *" nodelay=1 nonblock=1" ]]
	wait "$a"
}

# The parent's handlers are not the child's (reset_signals_in_child).
@test "a child dies of TERM, INT, HUP and USR1 as by default, and ignores CHLD" {
	start_simple_proxy < /dev/null
	n=0
	for sig in CHLD TERM INT HUP USR1; do
		idle=3000; [ "$sig" != CHLD ] || idle=500
		"$T/wsclient" -p "$PPORT" -q -n 1 -w "$idle" > "$W/$sig.out" 2>&1 &
		client=$!
		n=$((n + 1))
		wait_for 50 handshakes "$n"
		child=$(children_of "$PROXY_PID" | head -1)
		[ -n "$child" ]
		kill -"$sig" "$child"
		rc=0; wait "$client" || rc=$?
		if [ "$sig" = CHLD ]; then
			[ "$rc" -eq 0 ]         # the tunnel went on to its end
		else
			[ "$rc" -ne 0 ]         # closed under it
		fi
		wait_for 50 no_children "$PROXY_PID"   # the next one is alone
	done
	# the parent says how they ended (not for TERM: that is its own)
	for sig in INT HUP USR1; do
		grep -q "killed by signal $(kill -l "$sig")\$" "$W/proxy.err"
	done
	! grep -q "killed by signal $(kill -l TERM)\$" "$W/proxy.err"
	# and still serves
	run curl -s -m 2 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=www"* ]]
}

@test "after many connections the parent holds no extra descriptor and no zombie" {
	start_simple_proxy < /dev/null
	before=$(ls /proc/"$PROXY_PID"/fd | wc -l)
	for i in $(seq 100); do
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$PPORT/$i" || true
	done
	"$T/wsclient" -p "$PPORT" -q -c 50 -n 2
	printf 'GET / HTTP/1.1\r\nHost: x\r\n' | "$T/rawclient" -p "$PPORT" -t 200 > /dev/null || true
	wait_for 50 no_children "$PROXY_PID"
	after=$(ls /proc/"$PROXY_PID"/fd | wc -l)
	[ "$before" -eq "$after" ]
	zombies=$(ps -o stat= --ppid "$PROXY_PID" | grep -c Z || true)
	[ "$zombies" -eq 0 ]
}

@test "mode tcp: bytes are relayed without parsing" {
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	frontend raw
	    bind 127.0.0.1:$PPORT
	    use_backend ws if { src 127.0.0.1 }
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	run "$T/wsclient" -p "$PPORT" -q -n 2 -s 1000
	[ "$status" -eq 0 ]
	# nothing was rewritten: no Connection: close was added
	! grep -q '^Connection: close' "$W/ws.log"
}

@test "server choice: disabled and weight 0 are skipped, backups only when needed" {
	start_backend www
	start_backend ws
	free_ports 3; PPORT=${PORTS[0]}; P2=${PORTS[1]}; dead=${PORTS[2]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend be
	frontend second
	    bind 127.0.0.1:$P2
	    default_backend onlybackup
	backend be
	    server off 127.0.0.1:$dead disabled
	    server zero 127.0.0.1:$dead weight 0
	    server b1 127.0.0.1:$BPORT_ws backup
	    server on 127.0.0.1:$BPORT_www disabled enabled
	backend onlybackup
	    server off 127.0.0.1:$dead disabled
	    server b1 127.0.0.1:$BPORT_ws backup
	EOF
	run curl -s -m 5 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=www"* ]]
	run curl -s -m 5 "http://127.0.0.1:$P2/"
	[[ "$output" == *"backend=ws"* ]]
}

@test "daemon: detaches, writes a relative pid file where it was started, removes it" {
	free_ports 1; PPORT=${PORTS[0]}
	cat > "$W/d.cfg" <<-EOF
	global
	    daemon
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	EOF
	cd "$W"
	run "$WSPROXY" -f d.cfg -p run.pid
	[ "$status" -eq 0 ]
	wait_for_file "$W/run.pid"
	pid=$(cat "$W/run.pid")
	STARTED_PIDS+=("$pid")
	[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ]
	[ "$(readlink /proc/"$pid"/cwd)" = / ]
	kill -TERM "$pid"
	wait_for 30 gone "$pid"
	[ ! -e "$W/run.pid" ]
}

@test "chroot: the child serves from inside it; the pid file is still removed" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	mkdir "$W/jail"
	start_proxy <<-EOF
	global
	    chroot $W/jail
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	[ "$(readlink /proc/"$PROXY_PID"/root)" = "$W/jail" ]
	run curl -s -m 5 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=www"* ]]
	stop_proxy
	[ ! -e "$W/proxy.pid" ]
}

@test "RLIMIT_NOFILE: raised to what the listeners need, or a refusal saying why" {
	free_ports 1; PPORT=${PORTS[0]}
	# refused before anything is bound: the ports need not be free
	cat > "$W/many.cfg" <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$((PPORT + 100))-$((PPORT + 140))
	EOF
	run bash -c "ulimit -Sn 30; ulimit -Hn 30; exec '$WSPROXY' -d -f '$W/many.cfg'"
	[ "$status" -eq 111 ]
	[[ "$output" == *"41 listeners need 89 descriptors, but the hard limit (ulimit -Hn) is 30"* ]]
	# one listener needs 49: a soft limit of 30 is raised
	cat > "$W/one.cfg" <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	EOF
	PROXY_LAUNCHER=(bash -c 'ulimit -Sn 30; exec "$@"' ulimit)
	start_proxy < "$W/one.cfg"
	soft=$(awk '/^Max open files/ { print $4 }' /proc/"$PROXY_PID"/limits)
	[ "$soft" -ge 49 ]
}

@test "out of descriptors (EMFILE): the parent pauses, survives, then serves" {
	command -v prlimit >/dev/null || skip "prlimit is not installed"
	start_simple_proxy < /dev/null
	# the lowest free descriptor number: a limit there leaves no room
	# for one more, so accept() fails with EMFILE
	free=0
	while [ -e /proc/"$PROXY_PID"/fd/"$free" ]; do free=$((free + 1)); done
	prlimit --pid "$PROXY_PID" --nofile="$free:"
	curl -s -m 10 -o "$W/out" "http://127.0.0.1:$PPORT/waited" &
	client=$!
	wait_for_line "$W/proxy.err" 'accept: Too many open files'
	kill -0 "$PROXY_PID"
	prlimit --pid "$PROXY_PID" --nofile=1024:
	wait "$client"
	grep -q '^backend=www' "$W/out"
}

@test "fork failure (EAGAIN): the connection is closed and logged, the loop goes on" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody"
	command -v setpriv >/dev/null && command -v prlimit >/dev/null ||
		skip "setpriv/prlimit missing"
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	# a place nobody can read (the test's own directory is private)
	np=$(mktemp -d /tmp/wsproxy-nproc.XXXXXX)
	chmod 755 "$np"
	cat > "$np/np.cfg" <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	chmod 644 "$np/np.cfg"
	# nobody may have one process: the parent itself, so every fork fails
	# (not start_proxy: nobody could not read the test's own directory)
	prlimit --nproc=1:1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$WSPROXY" -d -f "$np/np.cfg" 2> "$W/np.err" 3>&- &
	pid=$!
	STARTED_PIDS+=("$pid")
	wait_for_line "$W/np.err" 'started'
	run curl -s -m 5 "http://127.0.0.1:$PPORT/"
	[ "$status" -ne 0 ]
	wait_for_line "$W/np.err" 'fork: connection closed'
	kill -0 "$pid"
	grep -q 'only 1 processes allowed' "$W/np.err"
	rm -rf "$np"
}
