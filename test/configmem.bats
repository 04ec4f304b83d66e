#!/usr/bin/env bats
# A configuration owns its memory: a rejected one is freed, a replaced one
# is freed at reload, and a refused reload keeps the running one.

load helpers

VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--error-exitcode=9)

need_valgrind() {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	not_sanitized "valgrind cannot run it"
}

# big_config PPORT BPORT: 30 backends of 5 servers and 30 routing rules,
# so that a leaked configuration shows in the parent's memory.
big_config() {
	local i
	cat <<-EOF
	global
	    log 127.0.0.1:9 local0 notice
	    log-tag big
	    pidfile $W/unused.pid
	defaults
	    mode http
	    log global
	    option forwardfor header X-Client
	    option httpchk GET /health
	    default-server inter 3s
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	frontend public
	    bind 127.0.0.1:$1
	EOF
	for i in $(seq 30); do
		echo "    acl is_$i path_beg /b$i/ /c$i/ /d$i/"
		echo "    use_backend b$i if is_$i { hdr(host) -i -m dom b$i.example } || METH_POST"
	done
	echo "    default_backend www"
	echo "backend www"
	echo "    server www1 127.0.0.1:$2"
	for i in $(seq 30); do
		echo "backend b$i"
		for s in 1 2 3 4 5; do
			echo "    server s$s 127.0.0.1:$2 weight $s maxconn 9"
		done
	done
}

@test "valgrind: a file with an error in every kind of line frees everything it built" {
	need_valgrind
	cat > "$W/bad.cfg" <<-'EOF'
	global
	  foo bar
	  maxconn x
	  log 127.0.0.1 local9
	  log 127.0.0.1 local0
	  user nosuchuser-wsproxy
	  uid abc
	  lua-load /x.lua
	  chroot /tmp
	  pidfile /tmp/p
	  log-tag x
	defaults
	  mode http
	  timeout client 1.5s
	  log global
	  option forwardfor header X-A header X-B
	  option httpchk GET /
	  default-server inter 1s maxqueue 3
	defaults named
	  mode http
	  option forwardfor
	  stats auth x:y
	  stats realm R
	defaults other from named
	  bogus
	frontend fe
	  bind 127.0.0.1:0
	  bind 127.0.0.1:8080 ssl crt /x
	  acl a hdrx(host) foo
	  acl b path_beg /a /b
	  use_backend be if b { hdr(x) -m found } || !b
	  use_backend nosuch if b
	  default_backend nosuch2
	  option bogus
	  http-after-response set-header X-A b
	  stats auth
	  stats auth a:b
	  stats uri /s
	  stats admin if b
	  stats scope .
	  http-request use-service prometheus-exporter if b
	backend be
	  server s1 127.0.0.1:99999
	  server s2 127.0.0.1:1 weight 300 redir http://x
	  server s3 127.0.0.1:2 check inter 1s
	  timeout server 5 s
	  balance bogus
	listen
	listen l2 127.0.0.1:8082 junk
	  mode health
	EOF
	run "${VALGRIND[@]}" "$WSPROXY" -c -f "$W/bad.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" != *"definitely lost"* ]]
	[[ "$output" != *"indirectly lost"* ]]
	# every kind of line did fail
	[ "$(grep -c 'bad.cfg:[0-9]*: [^w]' <<< "$output")" -ge 25 ]
}

@test "valgrind: a valid file, with -c, leaves nothing behind" {
	need_valgrind
	big_config 18080 18081 > "$W/good.cfg"
	run "${VALGRIND[@]}" "$WSPROXY" -c -f "$W/good.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Configuration file is valid"* ]]
	[[ "$output" != *"lost"* ]]
}

@test "valgrind: errors in ACL conditions and patterns free what they built" {
	need_valgrind
	cat > "$W/bad.cfg" <<-'EOF'
	frontend fe
	  acl c hdr(host) -m foo bar
	  acl d hdr(host) -i a.example b.example src 10.0.0.1
	  acl e src 10.0.0.1 not-an-address
	  acl f path_len 3 x
	  acl g path_beg -f /nonexistent/patterns
	  acl ok path_beg /a
	  use_backend be if nosuchacl
	  use_backend be if ok { path_beg /x } nosuchacl
	  use_backend be if ok || { src 1.2.3.4 nonsense }
	  use_backend be if ok { path_beg /y
	  use_backend be if ok ||
	  use_backend be when ok
	backend be
	EOF
	run "${VALGRIND[@]}" "$WSPROXY" -c -f "$W/bad.cfg"
	[ "$status" -eq 1 ]
	[ "$(grep -c 'bad.cfg:[0-9]*: [^w]' <<< "$output")" -ge 10 ]
	[[ "$output" != *"definitely lost"* ]]
	[[ "$output" != *"indirectly lost"* ]]
}

# reloads N FILE_ODD FILE_EVEN: N SIGHUPs, the config file alternating
# between the two, each waited for in the proxy's messages (a SIGHUP sent
# before the last one was handled could be lost). A 10 ms poll of its
# own, not wait_for's tenths: a reload takes a few ms, and 220 of them
# waited for in tenths would double the test's time.
reloads() {
	local i j done_re='reloaded \|is invalid; still running' before
	before=$(count_matches "$done_re" "$W/proxy.err")
	for ((i = 1; i <= $1; i++)); do
		if ((i % 2)); then cp "$2" "$W/proxy.cfg"; else cp "$3" "$W/proxy.cfg"; fi
		kill -HUP "$PROXY_PID"
		for ((j = 0; j < 500; j++)); do
			count_at_least $((before + i)) "$done_re" "$W/proxy.err" &&
				break
			sleep 0.01
		done
		[ "$j" -lt 500 ] || { echo "reload $i not done" >&2; return 1; }
	done
}

vm_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/"$PROXY_PID"/status
}

@test "200 reloads, valid and invalid in turn: the parent's memory stays flat and it still serves" {
	not_sanitized "ASan's quarantine keeps what is freed"
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	big_config "$PPORT" "$BPORT_www" > "$W/valid.cfg"
	# as big, with its one error at the end: all of it is built, then freed
	{ cat "$W/valid.cfg"; echo "    http-after-response set-header X-A b"; } > "$W/invalid.cfg"
	start_proxy < "$W/valid.cfg"
	reloads 20 "$W/invalid.cfg" "$W/valid.cfg"
	rss0=$(vm_kb VmRSS); data0=$(vm_kb VmData)
	reloads 200 "$W/invalid.cfg" "$W/valid.cfg"
	rss1=$(vm_kb VmRSS); data1=$(vm_kb VmData)
	echo "VmRSS $rss0 -> $rss1 kB, VmData $data0 -> $data1 kB"
	[ $((rss1 - rss0)) -lt 1024 ]
	[ $((data1 - data0)) -lt 1024 ]
	[ "$(grep -c 'is invalid; still running' "$W/proxy.err")" -eq 110 ]
	[ "$(grep -c 'reloaded ' "$W/proxy.err")" -eq 110 ]
	run http_get /b7/x -H 'Host: b7.example'
	[[ "$output" == "HTTP/1.1 200"* ]]
	kill -0 "$PROXY_PID"
}

# www_proxy: backends www and ws, the proxy sending everything to www.
www_proxy() {
	start_backend www
	start_backend ws
	start_public_proxy www < <(classic_backends)
}

@test "SIGHUP with a refused keyword keeps the running configuration" {
	www_proxy
	sed -e 's/default_backend www/default_backend ws/' \
	    -e '/^frontend/a\    http-after-response set-header X-A b if { path_beg /admin }' \
	    "$W/proxy.cfg" > "$W/new.cfg"
	cp "$W/new.cfg" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'is invalid; still running the previous configuration'
	grep -q "proxy.cfg:[0-9]*: 'http-after-response' is not implemented by wsproxy" "$W/proxy.err"
	run http_get /admin
	[[ "$output" == "HTTP/1.1 200"* ]]
	[[ "$output" == *"backend=www"* ]]
}

@test "SIGHUP with an address that cannot be bound keeps the running configuration, and a later reload works" {
	www_proxy
	cp "$W/proxy.cfg" "$W/first.cfg"
	# the ws backend's port is taken: that bind fails
	sed -e 's/default_backend www/default_backend ws/' \
	    -e "/^frontend/a\\    bind 127.0.0.1:$BPORT_ws" \
	    "$W/first.cfg" > "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reload: still running the previous configuration'
	grep -q "cannot bind 127.0.0.1:$BPORT_ws" "$W/proxy.err"
	run http_get /a
	[[ "$output" == *"backend=www"* ]]
	sed -e 's/default_backend www/default_backend ws/' "$W/first.cfg" \
	    > "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'reloaded .*: 1 listeners'
	run http_get /b
	[[ "$output" == *"backend=ws"* ]]
}
