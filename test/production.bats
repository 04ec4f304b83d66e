#!/usr/bin/env bats
# Deployment: privileges, reload, socket activation, inetd wrappers.

load helpers

# write_routes TARGET: a config whose default backend is TARGET.
write_routes() {
	cat > "$W/proxy.cfg" <<-EOF
	$(defaults_section)
	    timeout tunnel 10s
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend ws if { path_beg /ws }
	    default_backend $1
	$(classic_backends)
	EOF
}

# start_routes: www by default, ws for /ws*; the first config is kept in
# $W/first.cfg, $W/proxy.cfg is the one a reload reads.
start_routes() {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	write_routes www
	cp "$W/proxy.cfg" "$W/first.cfg"
	start_proxy < "$W/first.cfg"
}

@test "chroot, gid, uid and no supplementary groups, checked in a child's /proc" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	mkdir "$W/jail"
	start_proxy <<-EOF
	global
	    chroot $W/jail
	    uid 65534
	    gid 65534
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend ws
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	"$T/wsclient" -p "$PPORT" -q -n 1 -W 1500 > "$W/ws.out" 2>&1 &
	client=$!
	wait_for_line "$W/ws.log" '^Sec-WebSocket-Key: '
	child=$(pgrep -P "$PROXY_PID" | head -1)
	[ -n "$child" ]
	[ "$(readlink /proc/"$child"/root)" = "$W/jail" ]
	grep -qE '^Uid:\s+65534\s+65534\s+65534\s+65534$' /proc/"$child"/status
	grep -qE '^Gid:\s+65534\s+65534\s+65534\s+65534$' /proc/"$child"/status
	grep -qE '^Groups:\s*$' /proc/"$child"/status
	# the parent dropped them too, after binding
	grep -qE '^Uid:\s+65534' /proc/"$PROXY_PID"/status
	wait "$client"
}

@test "a chroot that cannot be entered is refused at start" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	free_ports 1; PPORT=${PORTS[0]}
	cat > "$W/c.cfg" <<-EOF
	global
	    chroot $W/no-such-dir
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	EOF
	run "$WSPROXY" -d -f "$W/c.cfg" -p "$W/c.pid"
	[ "$status" -eq 111 ]
	[[ "$output" == *"cannot drop privileges (chroot)"* ]]
	[ ! -e "$W/c.pid" ]
}

@test "SIGHUP: a changed route serves new connections; an open tunnel is not dropped" {
	start_routes
	[ "$(backend_of /x)" = www ]
	"$T/wsclient" -p "$PPORT" -u /ws/t -q -n 2 -W 1500 > "$W/ws.out" 2>&1 &
	client=$!
	wait_for_line "$W/ws.log" '^Sec-WebSocket-Key: '
	write_routes ws
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded'
	[ "$(backend_of /x)" = ws ]
	wait "$client"
	grep -q 'ok 2 messages' "$W/ws.out"
}

@test "SIGHUP with a broken file keeps the running configuration" {
	start_routes
	echo "frontend broken" > "$W/proxy.cfg"
	echo "    bogus keyword" >> "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'is invalid; still running the previous'
	grep -q "proxy.cfg:2: unknown keyword 'bogus'" "$W/proxy.err"
	[ "$(backend_of /x)" = www ]
	[ "$(backend_of /ws/y)" = ws ]
	# a valid file without any bind would leave nothing listening
	printf 'defaults\n    mode http\n' > "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'has no listener; still running the previous'
	[ "$(backend_of /x)" = www ]
}

@test "SIGHUP adds and removes listeners; the unchanged one never refuses" {
	start_routes
	free_ports 1; P2=${PORTS[0]}
	( for i in $(seq 150); do
		curl -s -m 5 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PPORT/$i"
	  done > "$W/codes" ) &
	loop=$!
	write_routes www
	sed -i "s/^    bind 127.0.0.1:$PPORT$/&\n    bind 127.0.0.1:$P2/" "$W/proxy.cfg"
	for n in 1 2 3; do
		kill -HUP "$PROXY_PID"
		wait_for 50 count_at_least "$n" reloaded "$W/proxy.err"
	done
	[ "$(PPORT=$P2 backend_of /new)" = www ]
	sed -i "/bind 127.0.0.1:$P2/d" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for 50 count_at_least 4 reloaded "$W/proxy.err"
	wait_for 30 not_listening "$P2"
	run curl -s -m 2 "http://127.0.0.1:$P2/"
	[ "$status" -ne 0 ]
	wait "$loop"
	[ "$(wc -l < "$W/codes")" -eq 150 ]
	[ "$(grep -vc '^200$' "$W/codes")" -eq 0 ]
}

has_child() {
	[ -n "$(pgrep -P "$1")" ]
}

@test "systemd socket activation: LISTEN_FDS sockets are matched to bind lines" {
	start_backend www
	free_ports 2; PPORT=${PORTS[0]}; EXTRA=${PORTS[1]}
	cat > "$W/sd.cfg" <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	# sdlaunch binds both and execs wsproxy with them on fd 3 and 4
	PROXY_LAUNCHER=("$T/sdlaunch" -P "$W/sd.pid" "127.0.0.1:$PPORT"
	    "127.0.0.1:$EXTRA" --)
	start_proxy < "$W/sd.cfg"
	pid=$(cat "$W/proxy.pid")
	[ "$pid" = "$PROXY_PID" ]
	[ "$(backend_of /sd)" = www ]
	# it serves on the socket it was given (fd 3), not one of its own
	[ "$(readlink /proc/"$pid"/fd/3)" != "" ]
	[[ "$(readlink /proc/"$pid"/fd/3)" == socket:* ]]
	# its children get TCP_NODELAY from it, as from a socket of its own
	"$T/wsclient" -p "$PPORT" -q -n 1 -w 1000 > /dev/null 2>&1 &
	client=$!
	wait_for 50 has_child "$pid"
	run "$T/sockopt" "$(pgrep -P "$pid" | head -1)" "$PPORT"
	wait "$client"
	[ "$status" -ne 77 ] || skip "$output"
	[[ "$output" == *" nodelay=1 nonblock=1" ]]
	# a socket no bind line claims is closed, with a warning
	grep -q "LISTEN_FDS: no 'bind' for 127.0.0.1:$EXTRA (fd 4); closed" "$W/proxy.err"
	run curl -s -m 2 "http://127.0.0.1:$EXTRA/"
	[ "$status" -ne 0 ]
}

@test "-i behind socat over a pipe pair, the client address from TCPREMOTEIP" {
	command -v socat >/dev/null || skip "socat is not installed"
	start_backend www
	start_backend ws
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	cat > "$W/i.cfg" <<-EOF
	global
	    log 127.0.0.1:$UPORT_log1 local0
	$(defaults_section)
	    option httplog
	    log global
	frontend public
	    bind 127.0.0.1:1
	    option forwardfor
	    use_backend ws if { src 10.0.0.0/8 }
	    default_backend www
	$(classic_backends)
	EOF
	# pipes: fd 0 and 1 are not sockets, the wrapper names the client
	socat TCP-LISTEN:"$PPORT",bind=127.0.0.1,reuseaddr,fork \
		EXEC:"$WSPROXY -i -f $W/i.cfg",pipes 2> "$W/socat.err" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$PPORT" "$!"
	curl -s -m 2 -o "$W/out" "http://127.0.0.1:$PPORT/plain"
	grep -q '^backend=www' "$W/out"
	! grep -qi 'X-Forwarded-For' "$W/www.log"
	# now as tcpserver would run it
	printf 'GET /ucspi HTTP/1.0\r\n\r\n' |
		TCPREMOTEIP=10.1.2.3 TCPREMOTEPORT=5555 TCPLOCALPORT=8080 \
		"$WSPROXY" -i -f "$W/i.cfg" > "$W/out2" 2> "$W/err2"
	grep -q '^backend=ws' "$W/out2"
	grep -q '^X-Forwarded-For: 10.1.2.3' "$W/ws.log"
	[ ! -s "$W/err2" ]
	wait_for_line "$W/log1.udp" ' 10\.1\.2\.3:5555 .*"GET /ucspi HTTP/1.0"'
	# TCPLOCALPORT alone still gives dst_port
	sed -i 's/^    use_backend ws if { src 10.0.0.0\/8 }$/&\n    use_backend ws if { dst_port 9999 }/' "$W/i.cfg"
	grep -q 'dst_port 9999' "$W/i.cfg"
	printf 'GET /port HTTP/1.0\r\n\r\n' | TCPLOCALPORT=9999 \
		"$WSPROXY" -i -f "$W/i.cfg" > "$W/out4" 2> /dev/null
	grep -q '^backend=ws' "$W/out4"
	printf 'GET /port HTTP/1.0\r\n\r\n' | TCPLOCALPORT=9998 \
		"$WSPROXY" -i -f "$W/i.cfg" > "$W/out5" 2> /dev/null
	grep -q '^backend=www' "$W/out5"
	# and as stunnel's exec mode names it
	printf 'GET /stunnel HTTP/1.0\r\n\r\n' |
		REMOTE_HOST=10.9.8.7 REMOTE_PORT=4444 \
		"$WSPROXY" -i -f "$W/i.cfg" > "$W/out3" 2> /dev/null
	grep -q '^X-Forwarded-For: 10.9.8.7' "$W/ws.log"
}

# test_flags FLAGS...: a sample's flags with the test's config (-f) and
# pid file (-p) in place of the shipped paths; sets FLAGS.
test_flags() {
	FLAGS=()
	while [ $# -gt 0 ]; do
		case "$1" in
		-f) FLAGS+=(-f "$W/c.cfg"); shift ;;
		-p) FLAGS+=(-p "$W/sample.pid"); shift ;;
		*) FLAGS+=("$1") ;;
		esac
		shift
	done
}

# run_shipped_flags FLAGS...: one request through wsproxy run that way.
run_shipped_flags() {
	test_flags "$@"
	printf 'GET /sample HTTP/1.0\r\n\r\n' | "$WSPROXY" "${FLAGS[@]}"
}

@test "the contrib samples run the command lines they ship" {
	start_backend www
	cat > "$W/c.cfg" <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:1
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	# inetd.conf: the words after the program path, argv[0] first
	line=$(grep -v '^#' "$TOP/contrib/inetd.conf" | grep wsproxy)
	set -- $line
	shift 6
	[ "$1" = wsproxy ]
	shift
	run_shipped_flags "$@" | grep -q '^backend=www'
	# xinetd: server_args
	set -- $(sed -n 's/^[[:space:]]*server_args[[:space:]]*=//p' "$TOP/contrib/wsproxy.xinetd")
	[ "$1" = -i ]
	run_shipped_flags "$@" | grep -q '^backend=www'
	# systemd, inetd style: ExecStart's flags, one connection on fd 0/1
	grep -q '^Accept=yes' "$TOP/contrib/wsproxy-inetd.socket"
	set -- $(sed -n 's/^ExecStart=[^ ]*wsproxy //p' "$TOP/contrib/wsproxy-inetd@.service")
	[ "$1" = -i ]
	run_shipped_flags "$@" | grep -q '^backend=www'
	# systemd, socket activation: the service runs in the foreground
	set -- $(sed -n 's/^ExecStart=[^ ]*wsproxy //p' "$TOP/contrib/wsproxy.service")
	[ "$1" = -d ]
	test_flags "$@"
	"$WSPROXY" -c "${FLAGS[@]:1}"
	grep -q '^ListenStream=0.0.0.0:80$' "$TOP/contrib/wsproxy.socket"
}
