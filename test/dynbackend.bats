#!/usr/bin/env bats
# use_backend with a log-format name (use_backend %[req.hdr(host),lower]):
# the backend is looked up by the expanded name for each request. As 2.6
# does (stream.c, process_switching_rules): a name that finds no backend
# ends the use_backend rules and the default_backend serves; without one
# a frontend answers 503 and a listen section its own servers. A
# frontend-only section is never a backend. Bad values are configuration
# errors with the line.

load helpers

# dyn_proxy: backends www, ws and other; a frontend "public" on $PPORT
# with the routing lines on stdin, then the three backend sections.
dyn_proxy() {
	start_backend www
	start_backend ws
	start_backend other
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT"
	  cat
	  cat <<-EOF
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	backend other
	    server other1 127.0.0.1:$BPORT_other
	EOF
	} > "$W/dyn.cfg"
	start_proxy < "$W/dyn.cfg"
}

# check_line LINE...: "wsproxy -c" on a file whose line 9 on are LINEs.
check_line() {
	{ defaults_section
	  echo "frontend public"
	  local line
	  for line; do printf '    %s\n' "$line"; done
	  echo "    bind 127.0.0.1:9"
	  echo "    default_backend www"
	  echo "backend www"
	  echo "    server www1 127.0.0.1:9"
	} > "$W/check.cfg"
	run "$WSPROXY" -c -f "$W/check.cfg"
}

@test "use_backend %[req.hdr(host),lower]: the backend named by the Host header" {
	dyn_proxy <<-'EOF'
	    use_backend %[req.hdr(host),lower]
	    default_backend other
	EOF
	[ "$(backend_of / -H 'Host: www')" = www ]
	[ "$(backend_of / -H 'Host: ws')" = ws ]
	[ "$(backend_of / -H 'Host: WS')" = ws ]
	[ "$(backend_of / -H 'Host: wWw')" = www ]
	# evaluated for every request of a keep-alive connection
	out=$(printf 'GET / HTTP/1.1\r\nHost: ws\r\n\r\nGET / HTTP/1.1\r\nHost: www\r\nConnection: close\r\n\r\n' |
		raw -t 3000 | tr -d '\r' | sed -n 's/^X-Backend: //p' | tr '\n' ' ')
	[ "$out" = "ws www " ]
}

@test "without a converter the name is taken as is: case matters" {
	dyn_proxy <<-'EOF'
	    use_backend %[req.hdr(host)]
	    default_backend other
	EOF
	[ "$(backend_of / -H 'Host: ws')" = ws ]
	[ "$(backend_of / -H 'Host: WS')" = other ]
	# the last element of the last Host line, as 2.6's req.hdr
	[ "$(backend_of / -H 'Host: www, ws')" = ws ]
}

@test "no backend by that name: the default_backend, even a frontend's name" {
	dyn_proxy <<-'EOF'
	    use_backend %[req.hdr(x-be)]
	    default_backend other
	backend tcpbe
	    mode tcp
	    server ws1 127.0.0.1:9
	EOF
	[ "$(backend_of / -H 'X-Be: nosuch')" = other ]
	[ "$(backend_of /)" = other ]
	[ "$(backend_of / -H 'X-Be: public')" = other ]
	# a backend of the other mode is not one wsproxy can use
	[ "$(backend_of / -H 'X-Be: tcpbe')" = other ]
	[ "$(backend_of / -H 'X-Be: ws')" = ws ]
	# a name longer than the 1024 bytes we expand it in
	[ "$(backend_of / -H "X-Be: $(printf 'w%.0s' {1..3000})")" = other ]
}

@test "an unresolved name ends the rules: later use_backend lines are not tried (2.6)" {
	dyn_proxy <<-'EOF'
	    use_backend %[req.hdr(x-be)] if { hdr(x-be) -m found }
	    use_backend ws
	    default_backend other
	EOF
	[ "$(backend_of / -H 'X-Be: www')" = www ]
	[ "$(backend_of / -H 'X-Be: nosuch')" = other ]
	# the condition false: the next rule
	[ "$(backend_of /)" = ws ]
}

@test "text around the expression, and a condition" {
	dyn_proxy <<-'EOF'
	    use_backend w%[req.hdr(x-suffix)] if { path_beg /dyn }
	    default_backend other
	EOF
	[ "$(backend_of /dyn -H 'X-Suffix: s')" = ws ]
	[ "$(backend_of /dyn -H 'X-Suffix: ww')" = www ]
	[ "$(backend_of /static -H 'X-Suffix: s')" = other ]
}

@test "no default_backend: a frontend answers 503, a listen uses its own servers" {
	dyn_proxy <<-'EOF'
	    use_backend %[req.hdr(x-be)]
	EOF
	[ "$(backend_of / -H 'X-Be: ws')" = ws ]
	[ "$(backend_of / -H 'X-Be: nosuch')" = 503 ]
	stop_proxy
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	listen self
	    bind 127.0.0.1:$PPORT
	    use_backend %[req.hdr(x-be)]
	    server other1 127.0.0.1:$BPORT_other
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	[ "$(backend_of / -H 'X-Be: ws')" = ws ]
	[ "$(backend_of / -H 'X-Be: nosuch')" = other ]
	# a listen section is a backend too: its own name routes to it
	[ "$(backend_of / -H 'X-Be: self')" = other ]
}

@test "the access log names the backend the expansion chose" {
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    log stderr format raw local0
	    option httplog
	    use_backend %[req.hdr(x-be)]
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
	[ "$(backend_of /a -H 'X-Be: ws')" = ws ]
	[ "$(backend_of /b -H 'X-Be: no')" = 503 ]
	wait_for 30 grep -q '"GET /b HTTP/1.1"' "$W/proxy.err"
	grep -q ' public ws/ws1 .*"GET /a HTTP/1.1"' "$W/proxy.err"
	grep -q ' public public/<NOSRV> .* 503 .*"GET /b HTTP/1.1"' "$W/proxy.err"
}

@test "tcp mode: connection fetches name the backend; HTTP fetches are refused" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend be_%[dst_port]
	backend be_$PPORT
	    server www1 127.0.0.1:$BPORT_www
	EOF
	[ "$(backend_of /)" = www ]
	cat > "$W/tcp.cfg" <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	frontend public
	    bind 127.0.0.1:9
	    use_backend %[req.hdr(host)]
	    default_backend be
	backend be
	    server www1 127.0.0.1:9
	EOF
	run "$WSPROXY" -c -f "$W/tcp.cfg"
	[ "$status" -ne 0 ]
	[[ "$output" == *"tcp.cfg:8: failed to parse use_backend rule '%[req.hdr(host)]' : failed to parse sample expression <req.hdr(host)]> : fetch method 'req.hdr' needs an HTTP proxy (mode http)."* ]]
}

@test "config: an unknown fetch is refused with its line and 2.6's message" {
	check_line 'use_backend %[nosuch]'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule '%[nosuch]' : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."* ]]
}

@test "config: an unknown converter is refused" {
	check_line 'use_backend %[req.hdr(host),nosuchconv]'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule '%[req.hdr(host),nosuchconv]' : failed to parse sample expression <req.hdr(host),nosuchconv]> : unknown converter 'nosuchconv'."* ]]
}

@test "config: a missing ']' is refused" {
	check_line 'use_backend be_%[src'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule 'be_%[src' : missing ']' after 'src'."* ]]
}

@test "config: a response fetch, an unknown variable and an unsupported one are refused" {
	check_line 'use_backend %[res.hdr(x)]'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule '%[res.hdr(x)]' : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here."* ]]
	check_line 'use_backend %zz'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule '%zz' : no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'."* ]]
	check_line 'use_backend be_%T'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: failed to parse use_backend rule 'be_%T' : format variable 'T' is not supported in values."* ]]
}

@test "config: every bad line is reported, and a valid dynamic name loads" {
	check_line 'use_backend %[nosuch]' 'use_backend %[src' 'use_backend %[path,lower] if { path_beg /x }'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: "* ]]
	[[ "$output" == *"check.cfg:10: "* ]]
	[[ "$output" != *"check.cfg:11: "* ]]
	check_line 'use_backend %[path,lower] if { path_beg /x }' 'use_backend x%[src]y%[dst_port]%%'
	[ "$status" -eq 0 ]
}

@test "a name of text only (%% folded) is resolved at load like any name" {
	check_line 'use_backend ww%%w'
	[ "$status" -ne 0 ]
	[[ "$output" == *"check.cfg:9: Proxy 'public': unable to find required use_backend: 'ww%w'."* ]]
}
