#!/usr/bin/env bats
# Traffic and process logs: httplog/tcplog lines, syslog framing over UDP,
# level filters, dontlognull, and logging that never slows a request.

load helpers

# start_logged_proxy [extra global lines]: www and ws backends, one UDP
# target "log1" on local0, option httplog unless NO_HTTPLOG is set.
start_logged_proxy() {
	start_backend www
	start_backend ws
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	{ echo "global"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  cat
	  defaults_section
	  echo "    log global"
	  [ -n "${NO_HTTPLOG:-}" ] || echo "    option httplog"
	  [ -z "${DONTLOGNULL:-}" ] || echo "    option dontlognull"
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

SYSLOG_HEAD='<134>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} wsproxy\[[0-9]+\]: '
DATE='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]'

@test "an HTTP request gives one httplog line with the right fields" {
	start_logged_proxy < /dev/null
	got=$(curl -s -m 5 -o /dev/null -w '%{size_header} %{size_download}' \
		"http://127.0.0.1:$PPORT/hello?x=1")
	bytes=$(( ${got% *} + ${got#* } ))
	wait_for_line "$W/log1.udp" 'GET /hello'
	line=$(grep 'GET /hello' "$W/log1.udp")
	[[ "$line" =~ ^${SYSLOG_HEAD}127\.0\.0\.1:[0-9]+\ ${DATE}\ public\ www/www1\ [0-9]+/0/[0-9]+/[0-9]+/[0-9]+\ 200\ ${bytes}\ -\ -\ ----\ [0-9]+/[0-9]+/0/0/0\ 0/0\ \"GET\ /hello\?x=1\ HTTP/1\.1\"$ ]]
	# the datagram ends with exactly one newline
	[ "$(tail -c 1 "$W/log1.udp" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "a WebSocket is logged once its tunnel ends, with status 101 and the tunnel's bytes" {
	start_logged_proxy < /dev/null
	"$T/wsclient" -p "$PPORT" -u /ws/chat -q -n 2 -s 5000 -W 1000 > "$W/ws.out" 2>&1 &
	client=$!
	# the tunnel is open, and a request after it has been logged
	wait_for 50 handshakes 1
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/marker"
	wait_for_line "$W/log1.udp" 'GET /marker'
	! grep -q 'GET /ws/chat' "$W/log1.udp"
	wait "$client"
	wait_for_line "$W/log1.udp" 'GET /ws/chat'
	line=$(grep 'GET /ws/chat' "$W/log1.udp")
	[[ "$line" =~ \ public\ ws/ws1\ [0-9]+/0/[0-9]+/[0-9]+/([0-9]+)\ 101\ ([0-9]+)\ -\ -\ ----\  ]]
	[ "${BASH_REMATCH[1]}" -ge 1000 ]   # Ta covers the tunnel's life
	[ "${BASH_REMATCH[2]}" -gt 10000 ]  # bytes include the echoed frames
}

@test "errors are logged with their status, termination state and <NOSRV>/<BADREQ>" {
	free_ports 1; dead=${PORTS[0]}
	SERVER_TIMEOUT=300ms start_logged_proxy < /dev/null
	sed -i "s/^    server ws1 .*/    server ws1 127.0.0.1:$dead/" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" reloaded
	printf 'BAD REQUEST\r\n\r\n' | "$T/rawclient" -p "$PPORT" > /dev/null
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/sleep/2000"
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/ws/down"
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/garbage"
	wait_for_line "$W/log1.udp" '/garbage'
	grep -qE " public public/<NOSRV> -1/-1/-1/-1/[0-9]+ 400 [0-9]+ - - PR-- .* \"<BADREQ>\"$" "$W/log1.udp"
	grep -qE " public www/www1 [0-9]+/0/[0-9]+/-1/[0-9]+ 504 [0-9]+ - - sH-- .*\"GET /sleep/2000 HTTP/1.1\"$" "$W/log1.udp"
	grep -qE " public ws/ws1 [0-9]+/0/-1/-1/[0-9]+ 503 [0-9]+ - - SC-- .*\"GET /ws/down HTTP/1.1\"$" "$W/log1.udp"
	grep -qE " public www/www1 [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 502 [0-9]+ - - PH-- .*\"GET /garbage HTTP/1.1\"$" "$W/log1.udp"
}

@test "a request line is quoted with #XX escapes" {
	start_logged_proxy < /dev/null
	printf 'GET /a"b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		"$T/rawclient" -p "$PPORT" > /dev/null
	wait_for_line "$W/log1.udp" '/a#22b'
	grep -q '"GET /a#22b HTTP/1.1"$' "$W/log1.udp"
}

@test "keep-alive: one line per request; live counts show concurrent connections" {
	start_logged_proxy < /dev/null
	"$T/wsclient" -p "$PPORT" -u /ws/idle -q -n 1 -W 1500 > /dev/null 2>&1 &
	client=$!
	wait_for 50 handshakes 1
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/a" "http://127.0.0.1:$PPORT/b"
	wait_for_line "$W/log1.udp" '"GET /b '
	[ "$(grep -c '"GET /[ab] HTTP/1.1"' "$W/log1.udp")" -eq 2 ]
	grep -qE ' ---- 2/2/0/0/0 0/0 "GET /a HTTP/1.1"' "$W/log1.udp"
	wait "$client"
}

@test "option dontlognull: silent connections are not logged, one byte is" {
	DONTLOGNULL=1 start_logged_proxy < /dev/null
	"$T/rawclient" -p "$PPORT" -s -t 1000 < /dev/null > "$W/out" || true
	[[ "$(cat "$W/out")" == "HTTP/1.1 400"* ]]   # still answered
	printf 'G' | "$T/rawclient" -p "$PPORT" -s -t 1000 > /dev/null || true
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/marker"
	wait_for_line "$W/log1.udp" marker
	[ "$(grep -c 'CR--' "$W/log1.udp")" -eq 1 ]
	[ "$(grep -c ' public ' "$W/log1.udp")" -eq 2 ]
}

@test "without option httplog: one tcplog line per connection" {
	NO_HTTPLOG=1 start_logged_proxy < /dev/null
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/a" "http://127.0.0.1:$PPORT/b"
	wait_for_line "$W/log1.udp" ' public '
	# a second connection's line comes after any other of the first's
	port=$(curl -s -m 5 -o /dev/null -w '%{local_port}' "http://127.0.0.1:$PPORT/c")
	wait_for_line "$W/log1.udp" " 127\.0\.0\.1:$port "
	[ "$(grep -c ' public ' "$W/log1.udp")" -eq 2 ]
	grep -qE "${SYSLOG_HEAD}127\.0\.0\.1:[0-9]+ ${DATE} public www/www1 0/[0-9]+/[0-9]+ [0-9]+ -- [0-9]+/[0-9]+/0/0/0 0/0$" "$W/log1.udp"
}

@test "process messages: start and stop at notice, config warnings on reload" {
	start_logged_proxy < /dev/null
	wait_for_line "$W/log1.udp" '^<133>.* wsproxy\[[0-9]+\]: wsproxy .* started'
	sed -i 's/^global$/global\n    nbproc 2/' "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/log1.udp" '^<132>.*proxy.cfg:[0-9]+: warning: .nbproc. is not supported'
	kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || true
	wait_for_line "$W/log1.udp" '^<133>.*: stopped$'
}

@test "several targets, each filtered by its levels; MINLEVEL and len apply" {
	start_udpsink notice
	start_udpsink six -6
	start_udpsink minlvl
	start_logged_proxy <<-EOF
	    log 127.0.0.1:$UPORT_notice local1 notice
	    log [::1]:$UPORT_six local7
	    log 127.0.0.1:$UPORT_minlvl len 100 local2 debug info
	EOF
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/levels"
	wait_for_line "$W/log1.udp" '/levels'
	wait_for_line "$W/six.udp" '^<190>.*/levels'
	wait_for_line "$W/minlvl.udp" '^<150>.*wsproxy .* started'
	wait_for_line "$W/notice.udp" '^<141>.*wsproxy .* started'
	wait_for_line "$W/minlvl.udp" '^<150>.*public www/www1'
	# info traffic does not pass a notice filter
	! grep -q 'public' "$W/notice.udp"
	# len 100: every datagram is cut to 100 bytes before its newline
	[ "$(awk '{ if (length($0) > 100) n++ } END { print n + 0 }' "$W/minlvl.udp")" -eq 0 ]
	[ "$(awk '{ if (length($0) == 100) n++ } END { print n + 0 }' "$W/minlvl.udp")" -ge 1 ]
}

@test "an unreachable log server never slows a request" {
	free_ports 1; nobody=${PORTS[0]}
	start_logged_proxy <<-EOF
	    log 127.0.0.1:$nobody local0
	    log 127.0.0.1:$nobody local1
	EOF
	start=$(date +%s%N)
	for i in $(seq 30); do
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$PPORT/$i"
	done
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -lt 10000 ]
	wait_for_line "$W/log1.udp" '"GET /30 '
}

@test "log stdout format raw; -d echoes access lines only where logging is on" {
	start_backend www
	free_ports 2; PPORT=${PORTS[0]}; P2=${PORTS[1]}
	start_proxy <<-EOF
	$(defaults_section)
	    option httplog
	frontend logged
	    bind 127.0.0.1:$PPORT
	    log stdout format raw local0
	    default_backend www
	frontend quiet
	    bind 127.0.0.1:$P2
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/loud"
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$P2/silent"
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/last"
	wait_for_line "$W/proxy.out" '"GET /loud HTTP/1.1"'
	grep -qE '^127\.0\.0\.1:[0-9]+ \[' "$W/proxy.out"
	wait_for_line "$W/proxy.err" '"GET /loud HTTP/1.1"'
	# the request after the silent one has been logged, both ways
	wait_for_line "$W/proxy.out" '"GET /last HTTP/1.1"'
	wait_for_line "$W/proxy.err" '"GET /last HTTP/1.1"'
	! grep -q silent "$W/proxy.out" "$W/proxy.err"
}

# start_unix_sink NAME PATH: a syslog receiver on a unix datagram socket,
# as syslog's /dev/log; lines land in $W/NAME.udp.
start_unix_sink() {
	"$T/udpsink" -u "$2" -o "$W/$1.udp" -P "$W/$1.upid" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/$1.upid"
}

@test "log /path: datagrams to a unix socket (syslog's /dev/log), found again after a restart" {
	start_unix_sink ux "$W/log.sock"
	start_logged_proxy <<-EOF
	    log $W/log.sock local3
	EOF
	wait_for_line "$W/ux.udp" '^<157>.* wsproxy\[[0-9]+\]: wsproxy .* started'
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/unix"
	wait_for_line "$W/ux.udp" '^<158>[A-Z].* public www/www1 .*"GET /unix HTTP/1.1"$'
	# syslogd restarts: a new socket at the same path gets the next line
	kill -TERM "$(cat "$W/ux.upid")"
	rm -f "$W/ux.upid"
	start_unix_sink ux2 "$W/log.sock"
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/again"
	wait_for_line "$W/ux2.udp" '"GET /again HTTP/1.1"$'
	# and while it is away, requests go on
	kill -TERM "$(cat "$W/ux2.upid")"
	run curl -s -m 5 "http://127.0.0.1:$PPORT/away"
	[[ "$output" == *"backend=www"* ]]
}

@test "log /path under chroot is looked up inside the jail, as in HAProxy" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
	mkdir -p "$W/jail/dev"
	start_unix_sink jail "$W/jail/dev/log"
	start_logged_proxy <<-EOF
	    chroot $W/jail
	    log /dev/log local3
	EOF
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$PPORT/jailed"
	wait_for_line "$W/jail.udp" '^<158>.*"GET /jailed HTTP/1.1"$'
}

@test "log /path: a path too long for a unix socket is a FILE:LINE error" {
	long=/$(printf 'x%.0s' $(seq 120))
	printf 'global\n    log %s local0\n' "$long" > "$W/long.cfg"
	run "$WSPROXY" -c -f "$W/long.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"long.cfg:2: log : socket path '$long' too long (max 97)"* ]]
}
