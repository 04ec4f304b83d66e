#!/usr/bin/env bats
# Servers on unix sockets, as HAProxy 2.6 has them: "/abs/path",
# "unix@PATH" (relative to the working directory) and "abns@NAME" (the
# abstract namespace, NUL-padded to the whole sun_path); HTTP, WebSocket,
# health checks, PROXY headers, retries and logs through them. The test
# backend listens on unix sockets with -u PATH, -a NAME (padded as 2.6)
# and -A NAME (exact length); ppeer records PROXY headers with -u PATH.

load helpers

# An abstract name of this test run only.
abns_name() {
	echo "wsproxy-test-$$-$BATS_TEST_NUMBER-$1"
}

# unix_proxy "backend lines...": a frontend on $PPORT logging httplog
# lines to the UDP sink "log1", default backend "be", then the lines.
unix_proxy() {
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	    log 127.0.0.1:$UPORT_log1 local0
	    option httplog
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend be
	$1
	EOF
}

# xbackend PATH: the X-Backend header of GET PATH.
xbackend() {
	http_get "$1" | tr -d '\r' | sed -n 's/^X-Backend: //p'
}

# config_check "lines...": wsproxy -c on the defaults and these lines;
# L is the number of the second of them.
config_check() {
	{ defaults_section; echo "$1"; } > "$W/t.cfg"
	L=$(( $(defaults_section | wc -l) + 2 ))
	run "$WSPROXY" -c -f "$W/t.cfg"
}

# hex STRING: its bytes in lower-case hex, as ppeer logs them.
hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

@test "HTTP through /abs/path, unix@ and abns@ servers reaches each, with X-Forwarded-For" {
	start_backend ux -u "$W/ux.sock"
	start_backend uu -u "$W/uu.sock"
	start_backend ab -a "$(abns_name ab)"
	unix_proxy "$(cat <<-EOF
	    option forwardfor
	    use_backend b_uu if { path_beg /uu }
	    use_backend b_ab if { path_beg /ab }
	backend be
	    server s1 $W/ux.sock
	backend b_uu
	    server s2 unix@$W/uu.sock
	backend b_ab
	    server s3 abns@$(abns_name ab)
	EOF
	)"
	run http_get /plain
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	[[ "$output" == *'backend=ux'* ]]
	[ "$(xbackend /uu)" = uu ]
	[ "$(xbackend /ab)" = ab ]
	grep -q '^GET /plain HTTP/1.1' "$W/ux.log"
	grep -q '^X-Forwarded-For: 127.0.0.1' "$W/ux.log"
	grep -q '^X-Forwarded-For: 127.0.0.1' "$W/uu.log"
	grep -q '^X-Forwarded-For: 127.0.0.1' "$W/ab.log"
	# the httplog line is the usual one: backend/server, 200, ----
	wait_for_line "$W/log1.udp" 'GET /ab '
	grep -qE ' public be/s1 [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 [0-9]+ - - ---- [0-9/]+ 0/0 "GET /plain HTTP/1.1"' "$W/log1.udp"
	grep -qE ' public b_ab/s3 .* 200 .* ---- .*"GET /ab HTTP/1.1"' "$W/log1.udp"
}

@test "unix@ with a relative path is taken from the working directory at connect time" {
	mkdir "$W/run"
	start_backend rel -u "$W/run/rel.sock"
	cd "$W/run"
	unix_proxy "$(cat <<-EOF
	backend be
	    server s1 unix@rel.sock
	EOF
	)"
	[ "$(xbackend /)" = rel ]
}

@test "unix@ with a relative path is looked for inside the chroot, not where wsproxy started" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	mkdir "$W/jail"
	start_backend inside -u "$W/jail/be.sock"
	start_backend outside -u "$W/be.sock"
	cd "$W"
	start_public_proxy be "chroot $W/jail" <<-EOF
	backend be
	    server s1 unix@be.sock
	EOF
	[ "$(xbackend /)" = inside ]
}

@test "a WebSocket upgrade through a unix server is echoed" {
	start_backend ws -u "$W/ws.sock"
	unix_proxy "$(cat <<-EOF
	backend be
	    server s1 unix@$W/ws.sock
	EOF
	)"
	run "$T/wsclient" -p "$PPORT" -u /ws -n 5 -t -s 3000
	[ "$status" -eq 0 ]
	[[ "$output" == *'HTTP/1.1 101 Switching Protocols'* ]]
	[[ "$output" == *'backend=ws'* ]]
	[[ "$output" == *'ok 5 messages'* ]]
	wait_for_line "$W/log1.udp" 'GET /ws '
	grep -qE ' public be/s1 .* 101 .*"GET /ws HTTP/1.1"' "$W/log1.udp"
}

@test "health checks: a removed socket file is DOWN (Socket error), UP again, a stale one refused" {
	start_backend hc -u "$W/hc.sock"
	unix_proxy "$(cat <<-EOF
	backend be
	    server s1 $W/hc.sock check inter 200 fall 2 rise 1
	EOF
	)"
	[ "$(xbackend /)" = hc ]
	kill -TERM "$(cat "$W/hc.pid")"
	rm -f "$W/hc.sock" "$W/hc.pid"
	wait_for_line "$W/proxy.err" 'Server be/s1 is DOWN' 30
	grep -F 'Server be/s1 is DOWN, reason: Socket error, info: "General socket error (No such file or directory)", check duration: ' "$W/proxy.err"
	run http_get /
	[[ "$output" == *'HTTP/1.1 503'* ]]
	start_backend hc -u "$W/hc.sock"
	wait_for_line "$W/proxy.err" 'Server be/s1 is UP' 30
	grep -F 'Server be/s1 is UP, reason: Layer4 check passed, check duration: ' "$W/proxy.err"
	[ "$(xbackend /)" = hc ]
	# killed: the file stays, nobody listens
	kill -TERM "$(cat "$W/hc.pid")"
	[ -S "$W/hc.sock" ]
	wait_for_line "$W/proxy.err" 'info: "General socket error \(Connection refused\)"' 30
	[ "$(count_matches 'Server be/s1 is DOWN' "$W/proxy.err")" -eq 2 ]
}

@test "option httpchk over a unix socket: the request arrives, the status is judged" {
	start_backend ok -u "$W/ok.sock"
	start_backend bad -u "$W/bad.sock"
	unix_proxy "$(cat <<-EOF
	    use_backend b_bad if { path_beg /bad }
	backend be
	    option httpchk GET /health
	    server s1 unix@$W/ok.sock check inter 200
	backend b_bad
	    option httpchk GET /status/503
	    server s2 unix@$W/bad.sock check inter 200
	EOF
	)"
	wait_for_line "$W/proxy.err" 'Server b_bad/s2 is DOWN' 30
	grep -F 'Server b_bad/s2 is DOWN, reason: Layer7 wrong status, code: 503, info: "Test", check duration: ' "$W/proxy.err"
	wait_for_line "$W/ok.log" '^GET /health HTTP/1.0'
	! grep -q 'be/s1 is DOWN' "$W/proxy.err"
	[ "$(xbackend /)" = ok ]
}

# start_ppeers: two PROXY header recorders, on $W/v1.sock and $W/v2.sock,
# writing what they got to $W/v1.pp and $W/v2.pp.
start_ppeers() {
	local v
	for v in v1 v2; do
		"$T/ppeer" -l -u "$W/$v.sock" -o "$W/$v.pp" -P "$W/$v.pid" 3>&- &
		STARTED_PIDS+=("$!")
	done
	wait_for_file "$W/v1.pid"
	wait_for_file "$W/v2.pid"
}

@test "send-proxy and send-proxy-v2 toward unix servers: the client connection's addresses" {
	start_ppeers
	unix_proxy "$(cat <<-EOF
	    use_backend b_v2 if { path_beg /v2 }
	backend be
	    server s1 $W/v1.sock send-proxy
	backend b_v2
	    server s2 unix@$W/v2.sock send-proxy-v2
	EOF
	)"
	run http_get /v1
	[[ "$output" =~ v=1\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT ]]
	grep -qE "^hex=$(hex 'PROXY TCP4 127.0.0.1 127.0.0.1 ')[0-9a-f]+20$(hex "$PPORT")0d0a v=1 " "$W/v1.pp"
	run http_get /v2
	[[ "$output" =~ v=2\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT ]]
	grep -qE "^hex=0d0a0d0a000d0a515549540a2111000c7f0000017f000001[0-9a-f]{4}$(printf '%04x' "$PPORT") v=2 " "$W/v2.pp"
}

@test "health checks with send-proxy on unix servers: PROXY UNKNOWN, and v2's LOCAL" {
	start_ppeers
	unix_proxy "$(cat <<-EOF
	backend be
	    server s1 $W/v1.sock send-proxy check inter 200
	    server s2 $W/v2.sock send-proxy-v2 check inter 200
	EOF
	)"
	wait_for_line "$W/v1.pp" 'v=1'
	wait_for_line "$W/v2.pp" 'v=2'
	grep -q "^hex=$(hex 'PROXY UNKNOWN')0d0a v=1 cmd=PROXY fam=UNKNOWN" "$W/v1.pp"
	grep -q '^hex=0d0a0d0a000d0a515549540a20000000 v=2 cmd=LOCAL fam=UNSPEC' "$W/v2.pp"
	! grep -q 'is DOWN' "$W/proxy.err"
}

@test "a missing socket: 503, SC, and the retries run back to back" {
	free_ports 1; DEAD=${PORTS[0]}
	unix_proxy "$(cat <<-EOF
	    use_backend b_tcp if { path_beg /tcp }
	backend be
	    retries 3
	    server s1 $W/missing.sock
	backend b_tcp
	    retries 1
	    server s2 127.0.0.1:$DEAD
	EOF
	)"
	start=$(date +%s%N)
	run http_get /
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "$output" == *'HTTP/1.1 503'* ]]
	# a refused TCP connect pauses a second before each retry; this
	# did not pause three times
	[ "$elapsed" -lt 800 ]
	wait_for_line "$W/log1.udp" 'be/s1'
	grep -qE ' public be/s1 [0-9]+/0/-1/-1/[0-9]+ 503 [0-9]+ - - SC-- [0-9]+/[0-9]+/0/0/3 0/0 "GET / HTTP/1.1"' "$W/log1.udp"
	# while TCP's asynchronous refusal still pauses
	start=$(date +%s%N)
	run http_get /tcp
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "$output" == *'HTTP/1.1 503'* ]]
	[ "$elapsed" -ge 900 ]
}

@test "abns@ names are NUL-padded as 2.6 pads them: an exact-length peer is not reached" {
	start_backend pad -a "$(abns_name pad)"
	start_backend exact -A "$(abns_name exact)"
	unix_proxy "$(cat <<-EOF
	    use_backend b_exact if { path_beg /exact }
	backend be
	    server s1 abns@$(abns_name pad)
	backend b_exact
	    retries 1
	    server s2 abns@$(abns_name exact)
	EOF
	)"
	[ "$(xbackend /)" = pad ]
	run http_get /exact
	[[ "$output" == *'HTTP/1.1 503'* ]]
	wait_for_line "$W/log1.udp" 'b_exact/s2 .* SC-- '
}

@test "a kept-alive client connection alternates between a TCP and a unix backend" {
	start_backend tcp
	start_backend ux -u "$W/ux.sock"
	unix_proxy "$(cat <<-EOF
	    option http-keep-alive
	    use_backend b_tcp if { path_beg /tcp }
	backend be
	    server s1 unix@$W/ux.sock
	backend b_tcp
	    server s2 127.0.0.1:$BPORT_tcp
	EOF
	)"
	run curl -s -m 5 -i "http://127.0.0.1:$PPORT/tcp/1" \
		"http://127.0.0.1:$PPORT/u/2" "http://127.0.0.1:$PPORT/tcp/3" \
		"http://127.0.0.1:$PPORT/u/4"
	[ "$(echo "$output" | tr -d '\r' | sed -n 's/^X-Backend: //p' | tr '\n' ' ')" = 'tcp ux tcp ux ' ]
	wait_for_line "$W/log1.udp" 'GET /u/4 '
	# one client connection: the same client address and port on all four
	[ "$(grep -oE '127\.0\.0\.1:[0-9]+ \[' "$W/log1.udp" | sort -u | wc -l)" -eq 1 ]
	grep -qE ' be/s1 .*"GET /u/2 ' "$W/log1.udp"
	grep -qE ' b_tcp/s2 .*"GET /tcp/3 ' "$W/log1.udp"
}

@test "roundrobin, leastconn and source balance over unix servers" {
	start_backend a -u "$W/a.sock"
	start_backend b -a "$(abns_name b)"
	unix_proxy "$(cat <<-EOF
	    use_backend b_src if { path_beg /src }
	    use_backend b_lc if { path_beg /lc }
	backend be
	    server a $W/a.sock
	    server b abns@$(abns_name b)
	backend b_lc
	    balance leastconn
	    server a $W/a.sock
	    server b abns@$(abns_name b)
	backend b_src
	    balance source
	    server a $W/a.sock
	    server b abns@$(abns_name b)
	EOF
	)"
	rr="$(xbackend /) $(xbackend /) $(xbackend /) $(xbackend /)"
	[ "$rr" = 'a b a b' ] || [ "$rr" = 'b a b a' ]
	[ -n "$(xbackend /lc)" ]
	first=$(xbackend /src)
	[ -n "$first" ]
	[ "$(xbackend /src) $(xbackend /src)" = "$first $first" ]
}

@test "unix server addresses: lengths, ports, relative paths and binds in the configuration" {
	p97=/$(printf 'x%.0s' $(seq 96))
	config_check "backend be
	    server s1 $p97"
	[ "$status" -eq 0 ]
	config_check "backend be
	    server s1 ${p97}y"
	[ "$status" -ne 0 ]
	[[ "$output" == *"t.cfg:$L: 'server s1' : socket path '${p97}y' too long (max 97)"* ]]
	config_check "backend be
	    server s1 unix@${p97}y"
	[[ "$output" == *"t.cfg:$L: 'server s1' : socket path 'unix@${p97}y' too long (max 97)"* ]]
	n107=$(printf 'n%.0s' $(seq 107))
	config_check "backend be
	    server s1 abns@$n107"
	[ "$status" -eq 0 ]
	config_check "backend be
	    server s1 abns@${n107}n"
	[ "$status" -ne 0 ]
	[[ "$output" == *"t.cfg:$L: 'server s1' : socket path 'abns@${n107}n' too long (max 107)"* ]]
	# no port: ":80" is part of the path
	config_check "backend be
	    server s1 /run/be.sock:80"
	[ "$status" -eq 0 ]
	# a relative path without unix@ is a host name
	config_check "backend be
	    server s1 be1.sock"
	[ "$status" -ne 0 ]
	[[ "$output" == *"t.cfg:$L: 'server s1' : could not resolve address 'be1.sock'"* ]]
	config_check "backend be
	    server s1 unix@"
	[ "$status" -ne 0 ]
	[[ "$output" == *"t.cfg:$L: 'server s1' : empty socket path in 'unix@'"* ]]
	# wsproxy listens on TCP only
	config_check "frontend fe
	    bind /run/fe.sock
	    default_backend be
	backend be
	    server s1 /run/be.sock"
	[ "$status" -ne 0 ]
	[[ "$output" == *"t.cfg:$L: 'bind' : '/run/fe.sock' is a unix socket, and wsproxy listens on TCP only"* ]]
	config_check "frontend fe
	    bind abns@fe,127.0.0.1:8080
	    default_backend be
	backend be
	    server s1 /run/be.sock"
	[[ "$output" == *"t.cfg:$L: 'bind' : 'abns@fe' is a unix socket"* ]]
}

@test "mode tcp relays to a unix server, logged in the tcplog format" {
	start_backend raw -u "$W/raw.sock"
	start_udpsink log1
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	listen fwd
	    mode tcp
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log1 local0
	    option tcplog
	    server s1 unix@$W/raw.sock
	EOF
	[ "$(xbackend /tcp)" = raw ]
	wait_for_line "$W/log1.udp" ' fwd fwd/s1 '
	grep -qE " fwd fwd/s1 0/[0-9]+/[0-9]+ [0-9]+ -- " "$W/log1.udp"
}

@test "-i over two pipes reaches a unix server too" {
	start_backend ux -u "$W/ux.sock"
	cat > "$W/inetd.cfg" <<-EOF
	$(defaults_section)
	frontend first
	    bind 127.0.0.1:1
	    default_backend be
	backend be
	    server s1 unix@$W/ux.sock
	EOF
	printf 'GET /pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		"$WSPROXY" -i -f "$W/inetd.cfg" > "$W/out" 2> "$W/err"
	grep -q '^HTTP/1.1 200 OK' "$W/out"
	grep -q '^backend=ux' "$W/out"
	[ ! -s "$W/err" ]
}
