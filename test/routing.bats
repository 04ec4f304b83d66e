#!/usr/bin/env bats
# ACL routing: the three classic examples, HAProxy's matching semantics,
# and a fresh decision for every request on a kept-alive connection.

load helpers

setup_file() { :; }

# ws_backend HOST PATH [wsclient args]: which backend a WebSocket reached.
ws_backend() {
	local host="$1" path="$2"; shift 2
	"$T/wsclient" -p "$PPORT" -H "$host" -u "$path" -q -n 1 "$@" |
		sed -n 's/^backend=//p'
}

@test "example 1: route by sub-domain" {
	start_classic <<-'EOF'
	    acl is_websocket hdr_end(host) -i ws.example.com
	    use_backend ws if is_websocket
	    default_backend www
	EOF
	[ "$(backend_of / -H 'Host: ws.example.com')" = ws ]
	[ "$(backend_of / -H 'Host: WS.Example.COM')" = ws ]
	[ "$(backend_of / -H 'Host: www.example.com')" = www ]
	[ "$(backend_of / -H 'Host: example.com')" = www ]
	[ "$(ws_backend ws.example.com /)" = ws ]
	[ "$(ws_backend www.example.com /chat)" = www ]
}

@test "example 2: route by URI" {
	start_classic <<-'EOF'
	    acl is_example hdr_end(host) -i example.com
	    acl is_websocket path_beg -i /websockets
	    use_backend ws if is_websocket is_example
	    default_backend www
	EOF
	[ "$(backend_of /websockets/chat -H 'Host: example.com')" = ws ]
	[ "$(backend_of /WebSockets -H 'Host: www.example.com')" = ws ]
	[ "$(backend_of /websockets -H 'Host: example.org')" = www ]
	[ "$(backend_of /other -H 'Host: example.com')" = www ]
	[ "$(backend_of '/x?/websockets' -H 'Host: example.com')" = www ]
	[ "$(ws_backend example.com /websockets)" = ws ]
	[ "$(ws_backend example.com /elsewhere)" = www ]
}

@test "example 3: route by WebSocket detection" {
	start_classic <<-'EOF'
	    acl is_websocket hdr(Upgrade) -i WebSocket
	    acl is_websocket_server hdr_end(host) -i ws.example.com
	    use_backend ws if is_websocket is_websocket_server
	    default_backend www
	EOF
	[ "$(backend_of / -H 'Host: ws.example.com')" = www ]
	[ "$(ws_backend ws.example.com /)" = ws ]
	[ "$(ws_backend other.example.com /)" = www ]
	# Upgrade is matched case-insensitively, token by token
	[ "$(ws_backend ws.example.com / -e 'Upgrade: websocket')" = ws ]
}

@test "hdr(host) keeps the port: only hdr_dom/hdr_beg match Host with :port" {
	start_classic <<-'EOF'
	    use_backend ws if { hdr_end(host) -i ws.example.com }
	    use_backend ws if { path_beg /dom } { hdr_dom(host) -i ws.example.com }
	    default_backend www
	EOF
	[ "$(backend_of / -H 'Host: ws.example.com:8080')" = www ]
	[ "$(backend_of /dom -H 'Host: ws.example.com:8080')" = ws ]
	[ "$(backend_of /dom -H 'Host: xws.example.com:8080')" = www ]
	[ "$(backend_of / -H 'Host: ws.example.com')" = ws ]
}

@test "hdr() tests every comma-separated value of every occurrence" {
	start_classic <<-'EOF'
	    acl has_b hdr(x-h) b
	    acl has_ab hdr(x-h) "a, b"
	    acl quoted hdr(x-h) '"c,d"'
	    acl second hdr(x-h,2) two
	    acl last hdr(x-h,-1) last
	    use_backend ws if { path /b } has_b
	    use_backend ws if { path /ab } has_ab
	    use_backend ws if { path /q } quoted
	    use_backend ws if { path /occ } second
	    use_backend ws if { path /last } last
	    default_backend www
	EOF
	[ "$(backend_of /b -H 'X-H: a, b')" = ws ]
	[ "$(backend_of /b -H 'X-H: a' -H 'X-H:  b ')" = ws ]
	[ "$(backend_of /b -H 'X-H: ab')" = www ]
	[ "$(backend_of /ab -H 'X-H: a, b')" = www ]
	[ "$(backend_of /q -H 'X-H: x, "c,d"')" = ws ]
	[ "$(backend_of /occ -H 'X-H: one, two')" = ws ]
	[ "$(backend_of /occ -H 'X-H: two, one')" = www ]
	[ "$(backend_of /last -H 'X-H: a' -H 'X-H: b, last')" = ws ]
	[ "$(backend_of /last -H 'X-H: last, b')" = www ]
}

@test "conditions: AND by juxtaposition, || and or, !, unless, ACLs ORed by name" {
	start_classic <<-'EOF'
	    acl p_a path /a
	    acl p_b path /b
	    acl p_b path /b2
	    acl h_x hdr(x) 1
	    use_backend ws if p_a h_x || p_b
	    use_backend ws if { path /c } !h_x
	    use_backend ws unless { path_beg /c } || { path_beg /a } || { path_beg /b } || { path_beg /n }
	    use_backend ws if { path /n1 } or { path /n2 }
	    default_backend www
	EOF
	[ "$(backend_of /a -H 'X: 1')" = ws ]
	[ "$(backend_of /a)" = www ]
	[ "$(backend_of /b)" = ws ]
	[ "$(backend_of /b2)" = ws ]
	[ "$(backend_of /c)" = ws ]
	[ "$(backend_of /c -H 'X: 1')" = www ]
	[ "$(backend_of /zzz)" = ws ]
	[ "$(backend_of /n1)" = ws ]
	[ "$(backend_of /n2)" = ws ]
	[ "$(backend_of /n3)" = www ]
}

@test "fetches: path_dir, path_end, path_sub, url, url_beg, hdr_sub, hdr_beg, hdr_len, hdr_cnt, -m found" {
	start_classic <<-'EOF'
	    use_backend ws if { path_dir /api/ } { hdr(t) dir }
	    use_backend ws if { path_end .js } { hdr(t) end }
	    use_backend ws if { path_sub mid } { hdr(t) sub }
	    use_backend ws if { url /q?x=1 } { hdr(t) url }
	    use_backend ws if { url_beg /abs } { hdr(t) urlbeg }
	    use_backend ws if { hdr_sub(x) -i NEED } { hdr(t) hsub }
	    use_backend ws if { hdr_beg(x) pre } { hdr(t) hbeg }
	    use_backend ws if { hdr_len(x) 3 } { hdr(t) hlen }
	    use_backend ws if { hdr_cnt(x) ge 3 } { hdr(t) hcnt }
	    use_backend ws if { hdr(x) -m found } { hdr(t) found }
	    use_backend ws if { path_len 2:4 } { hdr(t) plen }
	    default_backend www
	EOF
	[ "$(backend_of /api/v1 -H 't: dir')" = ws ]
	[ "$(backend_of /x/api -H 't: dir')" = ws ]
	[ "$(backend_of /apiv1 -H 't: dir')" = www ]
	[ "$(backend_of /a/b.js?v=2 -H 't: end')" = ws ]
	[ "$(backend_of /a/b.jsx -H 't: end')" = www ]
	[ "$(backend_of /amidb -H 't: sub')" = ws ]
	[ "$(backend_of '/q?x=1' -H 't: url')" = ws ]
	[ "$(backend_of '/q?x=2' -H 't: url')" = www ]
	[ "$(backend_of /abs/x -H 't: urlbeg')" = ws ]
	[ "$(backend_of / -H 'x: i-need-it' -H 't: hsub')" = ws ]
	[ "$(backend_of / -H 'x: prefix' -H 't: hbeg')" = ws ]
	[ "$(backend_of / -H 'x: abc' -H 't: hlen')" = ws ]
	[ "$(backend_of / -H 'x: abcd' -H 't: hlen')" = www ]
	[ "$(backend_of / -H 'x: 1, 2' -H 'x: 3' -H 't: hcnt')" = ws ]
	[ "$(backend_of / -H 'x: 1, 2' -H 't: hcnt')" = www ]
	[ "$(backend_of / -H 'x;' -H 't: found')" = ws ]
	[ "$(backend_of / -H 't: found')" = www ]
	[ "$(backend_of /abc -H 't: plen')" = ws ]
	[ "$(backend_of /abcde -H 't: plen')" = www ]
}

@test "path and url_beg on an absolute-form request" {
	start_classic <<-'EOF'
	    use_backend ws if { path /p } { hdr(t) path }
	    use_backend ws if { url_beg /p } { hdr(t) url }
	    default_backend www
	EOF
	# curl --request-target sends the absolute form as given; Host must agree
	[ "$(backend_of / --request-target 'http://h.example/p?q=1' -H 'Host: h.example' -H 't: path')" = ws ]
	[ "$(backend_of / --request-target 'http://h.example/p' -H 'Host: h.example' -H 't: url')" = www ]
}

@test "method: the standard methods compare as codes, case-sensitively" {
	start_classic <<-'EOF'
	    use_backend ws if { method GET } { path /get }
	    use_backend ws if { method -i get } { path /iget }
	    use_backend ws if { method -i foo } { path /foo }
	    use_backend ws if METH_POST { path /post }
	    use_backend ws if METH_GET { path /head }
	    default_backend www
	EOF
	[ "$(backend_of /get)" = ws ]
	[ "$(backend_of /get -X get)" = www ]
	[ "$(backend_of /iget)" = www ]
	[ "$(backend_of /iget -X get)" = ws ]
	[ "$(backend_of /foo -X FOO)" = ws ]
	[ "$(backend_of /post -d x)" = ws ]
	[ "$(backend_of /head -I)" = ws ]
}

@test "src with CIDR (IPv4 and IPv6) and dst_port" {
	start_backend www
	start_backend ws
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    bind [::1]:$PPORT
	    use_backend ws if { src 127.0.0.0/8 } { path /v4 }
	    use_backend ws if { src 10.0.0.0/8 } { path /v4no }
	    use_backend ws if { src ::1 } { path /v6 }
	    use_backend ws if LOCALHOST { path /local }
	    use_backend ws if { dst_port $PPORT } { path /port }
	    use_backend ws if { dst_port lt 1024 } { path /lowport }
	    default_backend www
	EOF
	  classic_backends
	} > "$W/proxy.cfg.in"; start_proxy < "$W/proxy.cfg.in"
	[ "$(backend_of /v4)" = ws ]
	[ "$(backend_of /v4no)" = www ]
	[ "$(backend_of /local)" = ws ]
	[ "$(backend_of /port)" = ws ]
	[ "$(backend_of /lowport)" = www ]
	out=$(curl -s -m 5 -D - -o /dev/null "http://[::1]:$PPORT/v6")
	[[ "$out" == *"X-Backend: ws"* ]]
	out=$(curl -s -m 5 -D - -o /dev/null "http://[::1]:$PPORT/v4")
	[[ "$out" == *"X-Backend: www"* ]]
}

@test "no rule matches and no default_backend: 503; a listen uses its own servers" {
	start_backend www
	start_backend ws
	free_ports 2; PPORT=${PORTS[0]}; LPORT=${PORTS[1]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend ws if { path /ws }
	listen both 127.0.0.1:$LPORT
	    use_backend ws if { path /ws }
	    server own 127.0.0.1:$BPORT_www
	EOF
	  classic_backends
	} > "$W/proxy.cfg.in"; start_proxy < "$W/proxy.cfg.in"
	[ "$(backend_of /ws)" = ws ]
	run http_get /other
	[[ "${lines[0]}" == "HTTP/1.1 503 Service Unavailable"* ]]
	[ "$(PPORT=$LPORT backend_of /other)" = www ]
	[ "$(PPORT=$LPORT backend_of /ws)" = ws ]
}

@test "keep-alive: requests alternating www/ws on one connection each reach the right backend" {
	start_classic <<-'EOF'
	    acl is_websocket path_beg /ws
	    use_backend ws if is_websocket
	    default_backend www
	EOF
	u="http://127.0.0.1:$PPORT"
	run curl -s -v -m 5 "$u/a" "$u/ws/1" "$u/b" "$u/ws/2" "$u/c"
	[ "$status" -eq 0 ]
	got=$(grep -o '^backend=[a-z]*' <<< "$output" | tr '\n' ' ')
	[ "$got" = "backend=www backend=ws backend=www backend=ws backend=www " ]
	# one client connection, reused four times
	[ "$(grep -c 'Re-using existing connection' <<< "$output")" -eq 4 ]
	# a fresh server connection for every request, told to close
	[ "$(grep -c '^conn=1$' <<< "$output")" -eq 5 ]
	[ "$(grep -c '^Connection: close' "$W/www.log")" -eq 3 ]
	[ "$(grep -c '^Connection: close' "$W/ws.log")" -eq 2 ]
}

@test "environment variables in double quotes reach ACL patterns" {
	export WSPROXY_ROUTE_PATH=/from-env
	start_classic <<-'EOF'
	    use_backend ws if { path "${WSPROXY_ROUTE_PATH}" }
	    use_backend ws if { path '${WSPROXY_ROUTE_PATH}' } { hdr(t) literal }
	    default_backend www
	EOF
	[ "$(backend_of /from-env)" = ws ]
	[ "$(backend_of '/$%7BWSPROXY_ROUTE_PATH%7D' -H 't: literal')" = www ]
}
