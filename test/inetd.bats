#!/usr/bin/env bats
# -i: one connection on fd 0/1, from inetd (a socket, here through socat)
# or from a wrapper (two pipes). Nothing may ever be written to fd 2.

load helpers

write_config() {
	start_backend www
	start_backend ws
	cat > "$W/inetd.cfg" <<-EOF
	# a warning that must not reach fd 2 in inetd mode:
	global
	    nbproc 1
	$(defaults_section)
	frontend first
	    bind 127.0.0.1:1
	    use_backend ws if { path_beg /ws }
	    use_backend ws if { hdr(Upgrade) -i websocket }
	    default_backend www
	frontend other
	    bind 127.0.0.1:2
	    default_backend ws
	$(classic_backends)
	EOF
}

# start_socat [wsproxy args]: a socat listener that execs wsproxy -i on the
# accepted TCP socket (nofork: fd 0/1 are the socket itself), once per
# connection, as inetd would. Sets PPORT.
start_socat() {
	free_ports 1; PPORT=${PORTS[0]}
	# no trailing blank: socat would pass an empty argument
	local cmd="$WSPROXY -i -f $W/inetd.cfg${*:+ $*}"
	socat TCP-LISTEN:"$PPORT",bind=127.0.0.1,reuseaddr,fork \
		EXEC:"$cmd",nofork 2> "$W/socat.err" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$PPORT" "$!"
}

@test "-i over two pipes: a request in, the response out, nothing on fd 2" {
	write_config
	printf 'GET /pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		"$WSPROXY" -i -f "$W/inetd.cfg" > "$W/out" 2> "$W/err"
	grep -q '^HTTP/1.1 200 OK' "$W/out"
	grep -q '^backend=www' "$W/out"
	grep -q '^GET /pipe HTTP/1.1' "$W/out"
	[ ! -s "$W/err" ]
}

@test "-i over pipes: keep-alive requests routed afresh until stdin ends" {
	write_config
	printf 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /ws/b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n' |
		timeout 10 "$WSPROXY" -i -f "$W/inetd.cfg" > "$W/out" 2> "$W/err"
	got=$(grep -o '^backend=[a-z]*' "$W/out" | tr '\n' ' ')
	[ "$got" = "backend=www backend=ws backend=www " ]
	[ ! -s "$W/err" ]
}

@test "-i -F picks the frontend" {
	write_config
	printf 'GET / HTTP/1.0\r\n\r\n' |
		"$WSPROXY" -i -F other -f "$W/inetd.cfg" > "$W/out" 2> "$W/err"
	grep -q '^backend=ws' "$W/out"
	run "$WSPROXY" -i -F nosuch -f "$W/inetd.cfg" < /dev/null
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "-i with a config error exits 1 and still writes nothing to fd 2" {
	printf 'frontend fe\n  bogus\n' > "$W/bad.cfg"
	run "$WSPROXY" -i -f "$W/bad.cfg" < /dev/null
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "-i behind socat: HTTP routing and a WebSocket echo over the socket" {
	command -v socat >/dev/null || skip "socat is not installed"
	write_config
	start_socat
	run curl -s -m 5 "http://127.0.0.1:$PPORT/ws/x" "http://127.0.0.1:$PPORT/y"
	[ "$status" -eq 0 ]
	got=$(grep -o '^backend=[a-z]*' <<< "$output" | tr '\n' ' ')
	[ "$got" = "backend=ws backend=www " ]
	run "$T/wsclient" -p "$PPORT" -q -n 3 -s 70000 -t
	[ "$status" -eq 0 ]
	[[ "$output" == *"backend=ws"* ]]
	[[ "$output" == *"ok 3 messages"* ]]
	[ ! -s "$W/socat.err" ]
}

@test "-i behind socat: src and dst_port come from the socket" {
	command -v socat >/dev/null || skip "socat is not installed"
	write_config
	cat >> "$W/inetd.cfg" <<-EOF
	frontend addr
	    bind 127.0.0.1:3
	    use_backend ws if { src 127.0.0.1 } { dst_port 1:65535 }
	    default_backend www
	EOF
	start_socat -F addr
	run curl -s -m 5 "http://127.0.0.1:$PPORT/"
	[[ "$output" == *"backend=ws"* ]]
}

@test "-i: no X-Forwarded-For for a client without an IP address (UNIX socket)" {
	command -v socat >/dev/null || skip "socat is not installed"
	write_config
	sed -i 's/^frontend first$/&\n    option forwardfor/' "$W/inetd.cfg"
	grep -q 'option forwardfor' "$W/inetd.cfg"
	free_ports 1; PPORT=${PORTS[0]}
	# without nofork, socat hands wsproxy one end of a UNIX socket pair
	socat TCP-LISTEN:"$PPORT",bind=127.0.0.1,reuseaddr \
		EXEC:"$WSPROXY -i -f $W/inetd.cfg" 2> "$W/socat.err" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$PPORT" "$!"
	curl -s -m 2 "http://127.0.0.1:$PPORT/" > "$W/out"
	grep -q '^backend=www' "$W/out"
	! grep -qi 'X-Forwarded-For' "$W/www.log"
}
