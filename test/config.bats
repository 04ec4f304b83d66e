#!/usr/bin/env bats
# -c: configuration checking, diagnostics with file and line, command line.

load helpers

check() {
	cat > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
}

@test "the seed config loads verbatim" {
	run "$WSPROXY" -c -f "$T/configs/seed.cfg"
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration file is valid" ]
}

# The stock file names the haproxy user and HAProxy's error pages, which
# a machine without the package lacks: the same lines, pointed at what
# every machine has.
@test "Debian's stock haproxy.cfg (log /dev/log, stats socket, TLS defaults) loads; only its TLS lines warn" {
	mkdir "$W/errors"
	for code in 400 403 408 500 502 503 504; do
		printf 'HTTP/1.0 %s Error\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>%s</h1></body></html>\n' \
			"$code" "$code" > "$W/errors/$code.http"
	done
	sed -e "s#/etc/haproxy/errors#$W/errors#" \
	    -e 's/user haproxy/user nobody/' \
	    -e "s/group haproxy/group $(id -gn nobody)/" \
	    "$T/configs/debian-2.6.cfg" > "$W/debian.cfg"
	run "$WSPROXY" -c -f "$W/debian.cfg"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Configuration file is valid" ]
	# the warnings are the TLS lines' (ca-base, crt-base, ssl-default-*)
	[ "$(grep -c ': warning: ' <<< "$output")" -eq 5 ]
	[ "$(grep ': warning: ' <<< "$output" | grep -vc -e "'ca-base'" -e "'crt-base'" -e "'ssl-default-bind-")" -eq 0 ]
}

@test "a HAProxy 1.4 style file: its cookie line is refused, the rest loads with warnings" {
	run "$WSPROXY" -c -f "$T/configs/legacy-1.4.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"legacy-1.4.cfg:5: warning: 'debug' is not supported"* ]]
	[[ "$output" == *"legacy-1.4.cfg:20: 'cookie' is not implemented by wsproxy, and ignoring it would let through or change"* ]]
	# without the cookie line (which would insert or rewrite cookies)
	grep -v '^.cookie' "$T/configs/legacy-1.4.cfg" > "$W/legacy.cfg"
	run "$WSPROXY" -c -f "$W/legacy.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Configuration file is valid"* ]]
	[[ "$output" == *"legacy.cfg:5: warning: 'debug' is not supported"* ]]
	# a server's cookie value does nothing without the proxy's cookie
	[[ "$output" == *"legacy.cfg:22: warning: 'server appli1-rewrite/app1_1' : 'cookie' is not supported"* ]]
	# option httpchk and check/inter/rise/fall are implemented now
	! grep -q 'legacy.cfg:21:' <<< "$output"
	! grep -q "'check'" <<< "$output"
}

@test "every error is reported as FILE:LINE: message, then exit 1" {
	check <<-'EOF'
	global
	  foo bar
	defaults
	  mode http
	  timeout client 1.5s
	frontend fe
	  bind 127.0.0.1:0
	  use_backend nosuch if { path_beg /x }
	  default_backend nosuch2
	  acl a hdrx(host) foo
	  option bogus
	backend be
	  server s1 127.0.0.1:99999
	  timeout server 5 s
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" != *"Configuration file is valid"* ]]
	f="$W/t.cfg"
	[[ "$output" == *"$f:2: unknown keyword 'foo' in 'global' section"* ]]
	[[ "$output" == *"$f:5: unexpected character '.' in 'timeout client'"* ]]
	[[ "$output" == *"$f:7: 'bind' : invalid port '0'"* ]]
	[[ "$output" == *"$f:8: Proxy 'fe': unable to find required use_backend: 'nosuch'."* ]]
	[[ "$output" == *"$f:9: Proxy 'fe': unable to find required default_backend: 'nosuch2'."* ]]
	[[ "$output" == *"$f:10: error detected while parsing ACL 'a' : unknown fetch method 'hdrx'"* ]]
	[[ "$output" == *"$f:11: unknown option 'bogus'."* ]]
	[[ "$output" == *"$f:13: 'server s1' : invalid port '99999'"* ]]
	[[ "$output" == *"$f:14: 'timeout server' : unexpected extra argument 's' after value '5'."* ]]
}

@test "keywords are case-sensitive and unknown ones are errors" {
	check <<-'EOF'
	defaults
	  Mode http
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: unknown keyword 'Mode' in 'defaults' section"* ]]
}

@test "an ACL must be declared before the rule that uses it" {
	check <<-'EOF'
	frontend fe
	  bind 127.0.0.1:8080
	  use_backend be if is_api
	  acl is_api path_beg /api
	backend be
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:3: error detected while parsing switching rule : no such ACL : 'is_api'."* ]]
}

@test "ACL flags, operators and bad patterns" {
	check <<-'EOF'
	defaults
	  mode http
	  timeout client 1s
	frontend fe
	  bind 127.0.0.1:8080
	  acl ok1 hdr(host) -i -m beg foo
	  acl ok2 dst_port gt 1024
	  acl ok3 dst_port 80:90 8080
	  acl ok4 src 10.0.0.0/8 127.1 ::1 192.168.0.0/255.255.0.0
	  acl ok5 url_beg -- -dash
	  acl ok6 hdr(x) -m found
	  acl ok7 hdr_cnt(host) eq 1
	  acl bad1 src 10.0.0.0/33
	  acl bad2 path_beg -x foo
	  acl bad3 hdr(host) -m foo bar
	  acl bad4 dst_port abc
	  acl bad/5 path /
	  acl nopat path_beg
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:13: error detected while parsing ACL 'bad1' : '10.0.0.0/33' is not a valid IPv4 or IPv6 address."* ]]
	[[ "$output" == *"t.cfg:14: error detected while parsing ACL 'bad2' : '-x' is not a valid ACL option."* ]]
	[[ "$output" == *"t.cfg:15: error detected while parsing ACL 'bad3' : unknown matching method 'foo'"* ]]
	[[ "$output" == *"t.cfg:16: error detected while parsing ACL 'bad4' : 'abc' is not a number."* ]]
	[[ "$output" == *"t.cfg:17: error detected while parsing ACL 'bad/5' : character '/' is not permitted"* ]]
	[[ "$output" == *"t.cfg:18: warning: parsing acl keyword 'path_beg' : no pattern to match against"* ]]
	! grep -q 't.cfg:[6-9]:\|t.cfg:1[0-2]:' <<< "$output"
}

@test "time values: units, rounding, overflow and bad syntax" {
	check <<-'EOF'
	defaults
	  timeout client 10us
	  timeout server 2m
	  timeout connect 1h
	  timeout tunnel 1d
	  timeout queue 25d
	  timeout http-request 5sec
	  timeout foobar 1s
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:6: timer overflow in argument '25d' to 'timeout queue'"* ]]
	[[ "$output" == *"t.cfg:7: warning: unexpected character 'e' after the timer value '5sec'"* ]]
	[[ "$output" == *"t.cfg:8: 'timeout' supports 'client', 'server', 'connect'"* ]]
	! grep -q 't.cfg:[2-5]:' <<< "$output"
}

@test "legacy contimeout/clitimeout/srvtimeout and bare redispatch load" {
	check <<-'EOF'
	defaults
	  mode http
	  contimeout 5000
	  clitimeout 50s
	  srvtimeout 1m
	  redispatch
	frontend fe
	  bind 127.0.0.1:8080
	  default_backend be
	backend be
	  server s1 127.0.0.1:8081
	EOF
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration file is valid" ]
}

@test "missing timeouts only warn, as HAProxy does" {
	check <<-'EOF'
	frontend fe
	  bind 127.0.0.1:8080
	  default_backend be
	backend be
	  server s1 127.0.0.1:8081
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"t.cfg:1: warning: missing timeouts for frontend 'fe'."* ]]
	[[ "$output" == *"t.cfg:4: warning: missing timeouts for backend 'be'."* ]]
}

@test "capability mismatches warn; server in a frontend is fatal" {
	check <<-'EOF'
	defaults
	  timeout client 1s
	  timeout connect 1s
	  timeout server 1s
	frontend fe
	  bind 127.0.0.1:8080
	  retries 2
	  timeout server 1s
	  server s1 127.0.0.1:1
	backend be
	  bind 127.0.0.1:8081
	  option httplog
	  maxconn 10
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:7: warning: 'retries' ignored because frontend 'fe' has no backend capability."* ]]
	[[ "$output" == *"t.cfg:8: warning: 'timeout server' will be ignored because frontend 'fe' has no backend capability"* ]]
	[[ "$output" == *"t.cfg:9: 'server' not allowed because frontend 'fe' has no backend capability."* ]]
	[[ "$output" == *"t.cfg:11: warning: 'bind' ignored because backend 'be' has no frontend capability."* ]]
	[[ "$output" == *"t.cfg:12: warning: backend 'be' : 'option httplog' directive is ignored in backends."* ]]
	[[ "$output" == *"t.cfg:13: warning: 'maxconn' ignored because backend 'be' has no frontend capability. Maybe you want 'fullconn' instead ?"* ]]
}

@test "keywords not allowed in defaults" {
	check <<-'EOF'
	defaults
	  bind 127.0.0.1:8080
	  server s1 127.0.0.1:1
	  use_backend be
	  acl a path /
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: 'bind' not allowed in 'defaults' section."* ]]
	[[ "$output" == *"t.cfg:3: 'server' not allowed in 'defaults' section."* ]]
	[[ "$output" == *"t.cfg:4: 'use_backend' not allowed in 'defaults' section."* ]]
	[[ "$output" == *"t.cfg:5: 'acl' not allowed in 'defaults' section."* ]]
}

@test "a second defaults section resets everything (mode mismatch shows it)" {
	check <<-'EOF'
	defaults
	  mode http
	  timeout client 1s
	frontend fe
	  bind 127.0.0.1:8080
	  default_backend be
	defaults
	  timeout connect 1s
	backend be
	  timeout server 1s
	  server s1 127.0.0.1:8081
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:6: http frontend 'fe' (${W}/t.cfg:4) tries to use incompatible tcp backend 'be'"* ]]
}

@test "duplicate proxy and server names" {
	check <<-'EOF'
	frontend fe
	  bind 127.0.0.1:8080
	frontend fe
	  bind 127.0.0.1:8081
	backend fe
	  server s1 127.0.0.1:1
	  server s1 127.0.0.1:2
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:3: frontend 'fe' has the same name as frontend 'fe' declared at"* ]]
	[[ "$output" == *"t.cfg:7: backend 'fe', another server named 's1' was already defined at line 6"* ]]
	# a frontend and a backend may share a name
	! grep -q 't.cfg:5: backend' <<< "$output"
}

@test "bind address forms" {
	check <<-'EOF'
	defaults
	  timeout client 1s
	frontend a
	  bind *:8080
	  bind :8081
	  bind 127.0.0.1:8082,[::1]:8083,::1:8084
	  bind 127.0.0.1:8090-8095
	  bind :::8085 name x
	frontend b
	  bind 127.0.0.1
	  bind 127.0.0.1:9-8
	  bind 127.0.0.1:8080 bogus
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:10: 'bind' : missing port specification in '127.0.0.1'"* ]]
	[[ "$output" == *"t.cfg:11: 'bind' : invalid port range '9-8'"* ]]
	[[ "$output" == *"t.cfg:12: 'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'bogus'."* ]]
	! grep -q 't.cfg:[3-8]:' <<< "$output"
}

@test "log targets: facilities, levels and address forms" {
	check <<-'EOF'
	global
	  log 127.0.0.1 local0
	  log 127.0.0.1:1514 local7 debug err
	  log [::1]:514 daemon
	  log ::1: user
	  log 127.0.0.1 len 200 local1 notice
	  log ::1 local0
	  log 127.0.0.1 local8
	  log 127.0.0.1 local0 verbose
	  log global
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:7: log : invalid address"* ]]
	[[ "$output" == *"t.cfg:8: unknown log facility 'local8'"* ]]
	[[ "$output" == *"t.cfg:9: unknown optional log level 'verbose'"* ]]
	[[ "$output" == *"t.cfg:10: 'global' is not supported for a global syslog server."* ]]
	! grep -q 't.cfg:[2-6]:' <<< "$output"
}

@test "quotes, escapes, comments and environment variables" {
	WSPROXY_TEST_VAR=x run "$WSPROXY" -c -f "$T/configs/quoting.cfg"
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration file is valid" ]
}

@test "more than 64 words on a line is fatal" {
	words=$(seq -s ' ' 1 70)
	printf 'frontend fe\n  description %s\n' "$words" > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: too many words, truncating after word 64"* ]]
}

@test "command line: -v, -h, bad options, missing file" {
	run "$WSPROXY" -v
	[ "$status" -eq 0 ]
	[[ "$output" == "wsproxy version "* ]]
	run "$WSPROXY" -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run "$WSPROXY" -z
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: wsproxy"* ]]
	run "$WSPROXY" -c -f "$W/nonexistent.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"nonexistent.cfg:0: cannot open configuration file"* ]]
}

@test "the default file is ./wsproxy.conf (the shipped sample is valid)" {
	cd "$TOP"
	run "$WSPROXY" -c
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration file is valid" ]
}

@test "server parameters: TLS ones are fatal, unimplemented ones warn by name" {
	check <<-'EOF'
	defaults
	  timeout connect 1s
	  timeout server 1s
	backend be
	  server s1 127.0.0.1:1 check inter 2s rise 2 fall 3 weight 10 backup
	  server s2 127.0.0.1:2 ssl verify none
	  server s3 127.0.0.1:3 bogus
	  server s4 127.0.0.1:4 weight 300
	  server s5 127.0.0.1:5 disabled enabled id 5
	EOF
	[ "$status" -eq 1 ]
	! grep -q 't.cfg:5:' <<< "$output"
	[[ "$output" == *"t.cfg:6: 'server be/s2' : 'ssl' cannot be honoured: wsproxy speaks no TLS"* ]]
	[[ "$output" == *"t.cfg:7: 'server be/s3' : unknown keyword 'bogus'."* ]]
	[[ "$output" == *"t.cfg:8: 'weight' value 300 is out of range (0..256)."* ]]
	! grep -q 't.cfg:9:' <<< "$output"
}

@test "extra words are errors, never dropped" {
	check <<-'EOF'
	defaults a b c
	defaults x from
	frontend fe 127.0.0.1:8080 junk
	  contimeout 5 s
	  bind 127.0.0.1:8081 backlog 10
	  bind 127.0.0.1:8082 backlog
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:1: 'defaults' expects [<name>] [from <defaults>]."* ]]
	[[ "$output" == *"t.cfg:2: 'defaults' expects [<name>] [from <defaults>]."* ]]
	[[ "$output" == *"t.cfg:3: 'frontend' : unexpected argument 'junk'."* ]]
	[[ "$output" == *"t.cfg:4: 'contimeout' : unexpected extra argument 's' after value '5'."* ]]
	[[ "$output" == *"t.cfg:6: 'bind' : missing value for 'backlog'."* ]]
	! grep -q 't.cfg:5:' <<< "$output"
}

@test "timeouts tarpit and client-fin load silently; filters that are not implemented are errors" {
	check <<-'EOF'
	defaults
	  timeout tarpit 1s
	  timeout client-fin 1s
	  mode http
	frontend fe
	  bind 127.0.0.1:8080
	  http-request deny if { path /admin }
	  block if { path /x }
	EOF
	[ "$status" -eq 1 ]
	! grep -q 't.cfg:[2-4]:' <<< "$output"
	! grep -q 't.cfg:7:' <<< "$output"
	[[ "$output" == *"t.cfg:8: The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."* ]]
}

@test "starting without any listener is a configuration error" {
	printf 'defaults\n  mode http\n' > "$W/t.cfg"
	run "$WSPROXY" -d -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no listener configured"* ]]
}

@test "balance, option httpchk and http-check: checked, unsupported ones said" {
	check <<-'EOF'
	defaults
	  mode http
	  balance leastconn
	  timeout connect 1s
	  timeout client 1s
	  timeout server 1s
	backend a
	  balance uri
	  server s1 127.0.0.1:1 maxconn 10 send-proxy-v2 check port 9 fastinter 1s downinter 5s
	backend b
	  balance bogus
	  option httpchk GET /health HTTP/1.1
	  http-check expect status 204
	  http-check expect string ok
	  option allbackups
	  http-check expect status 999
	  option httpchk GET / HTTP/1.0 extra
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:8: warning: 'balance uri' is not implemented by wsproxy; using 'roundrobin'."* ]]
	! grep -q 't.cfg:9:' <<< "$output"
	[[ "$output" == *"t.cfg:11: 'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'first', 'source',"* ]]
	! grep -q 't.cfg:12:' <<< "$output"
	! grep -q 't.cfg:13:' <<< "$output"
	[[ "$output" == *"t.cfg:14: 'http-check' : wsproxy only supports 'http-check expect status <code>'."* ]]
	! grep -q 't.cfg:15:' <<< "$output"
	[[ "$output" == *"t.cfg:16: 'http-check expect status' value 999 is out of range (100..599)."* ]]
	[[ "$output" == *"t.cfg:17: 'option httpchk' expects at most a method, a URI and a version."* ]]
}
