#!/usr/bin/env bats
# The PROXY protocol: "bind ... accept-proxy" (v1 and v2 in, the address
# used for ACLs, logs and X-Forwarded-For; malformed headers refused),
# "server ... send-proxy[-v2]" (the exact bytes out), interoperation with
# HAProxy when it is installed, and wss:// through stunnel.
#
# test/ppeer speaks the protocol on its own (written from the spec, no
# code shared with proxyproto.c): as a client it sends a header and a
# request, as a server it records the header it got, in hex.

load helpers

GET_CLOSE='GET /pp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

# start_pp_proxy: backends www and ws, a UDP log sink, a frontend with an
# accept-proxy bind on PPORT (IPv4) and PPORT6 ([::1]); "src 203.0.113.0/24"
# routes to ws. Extra frontend lines on stdin.
start_pp_proxy() {
	start_backend www
	start_backend ws
	start_udpsink log1
	free_ports 2; PPORT=${PORTS[0]} PPORT6=${PORTS[1]}
	{ defaults_section
	  echo "frontend public"
	  echo "    bind 127.0.0.1:$PPORT accept-proxy"
	  echo "    bind [::1]:$PPORT6 accept-proxy"
	  echo "    log 127.0.0.1:$UPORT_log1 local0"
	  echo "    option httplog"
	  echo "    option forwardfor"
	  echo "    acl from_doc src 203.0.113.0/24"
	  echo "    use_backend ws if from_doc"
	  echo "    default_backend www"
	  cat
	  classic_backends
	} > "$W/proxy.cfg.in"
	start_proxy < "$W/proxy.cfg.in"
}

# pp_get [ppeer client args]: a GET behind a PROXY header, answer printed.
pp_get() {
	printf "$GET_CLOSE" | "$T/ppeer" -c -p "$PPORT" "$@"
}

# raw_bytes FMT [rawclient args]: printf FMT (NULs included) to the
# accept-proxy bind, the answer on stdout, rawclient's messages dropped.
raw_bytes() {
	local fmt="$1"; shift
	printf "$fmt" > "$W/raw.in"
	"$T/rawclient" -p "$PPORT" "$@" < "$W/raw.in" 2>/dev/null
}

@test "v1 TCP4: the header's source is X-Forwarded-For, the log's %ci:%cp" {
	start_pp_proxy < /dev/null
	run pp_get TCP4 192.0.2.10 198.51.100.1 40001 80
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	[[ "$output" == *'backend=www'* ]]
	grep -q $'^X-Forwarded-For: 192.0.2.10\r$' "$W/www.log"
	wait_for_line "$W/log1.udp" '192\.0\.2\.10:40001 \[.*\] public www/www1 .* 200 .*"GET /pp HTTP/1.1"'
}

@test "v1 TCP6: an IPv6 source, on an IPv6 bind too" {
	start_pp_proxy < /dev/null
	run pp_get TCP6 2001:db8::7 2001:db8::1 40002 443
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	PPORT=$PPORT6 run pp_get -a ::1 TCP6 2001:db8::8 2001:db8::1 40003 443
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 2001:db8::7\r$' "$W/www.log"
	grep -q $'^X-Forwarded-For: 2001:db8::8\r$' "$W/www.log"
	wait_for_line "$W/log1.udp" ' 2001:db8::7:40002 \[.*\] public www/www1 '
	wait_for_line "$W/log1.udp" ' 2001:db8::8:40003 \[.*\] public www/www1 '
}

@test "v1 UNKNOWN: the connection's own address is kept" {
	start_pp_proxy < /dev/null
	run pp_get -v 1 UNKNOWN
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 127.0.0.1\r$' "$W/www.log"
	wait_for_line "$W/log1.udp" ' 127\.0\.0\.1:[0-9]+ \[.*\] public www/www1 '
}

@test "v2 IPv4 with TLVs, IPv6 and LOCAL" {
	start_pp_proxy < /dev/null
	run pp_get -v 2 -T TCP4 192.0.2.20 198.51.100.1 40020 80
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	run pp_get -v 2 TCP6 2001:db8::20 2001:db8::1 40021 80
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	run pp_get -v 2 LOCAL
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	run pp_get -v 2 UNKNOWN
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 192.0.2.20\r$' "$W/www.log"
	grep -q $'^X-Forwarded-For: 2001:db8::20\r$' "$W/www.log"
	[ "$(grep -c $'^X-Forwarded-For: 127.0.0.1\r$' "$W/www.log")" -eq 2 ]
	wait_for_line "$W/log1.udp" ' 192\.0\.2\.20:40020 \[.*\] public www/www1 '
	wait_for_line "$W/log1.udp" ' 2001:db8::20:40021 \[.*\] public www/www1 '
}

@test "src ACLs route on the PROXY header's address, v1 and v2" {
	start_pp_proxy < /dev/null
	run pp_get TCP4 203.0.113.5 198.51.100.1 40030 80
	[[ "$output" == *'backend=ws'* ]]
	run pp_get -v 2 TCP4 203.0.113.6 198.51.100.1 40031 80
	[[ "$output" == *'backend=ws'* ]]
	run pp_get -v 2 TCP4 192.0.2.6 198.51.100.1 40032 80
	[[ "$output" == *'backend=www'* ]]
	run pp_get -v 1 UNKNOWN
	[[ "$output" == *'backend=www'* ]]
}

@test "dst_port ACLs see the header's destination port" {
	start_pp_proxy <<-'EOF'
	    acl to_8443 dst_port 8443
	    use_backend ws if to_8443
	EOF
	run pp_get TCP4 192.0.2.1 198.51.100.1 40040 8443
	[[ "$output" == *'backend=ws'* ]]
	run pp_get -v 2 TCP4 192.0.2.1 198.51.100.1 40041 80
	[[ "$output" == *'backend=www'* ]]
}

@test "the request sent with the header in one segment is intact; keep-alive goes on" {
	start_pp_proxy < /dev/null
	run raw_bytes 'PROXY TCP4 192.0.2.30 198.51.100.1 40050 80\r\nGET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' -s
	[ "$(grep -c 'HTTP/1.1 200 OK' <<< "$output")" -eq 2 ]
	[ "$(grep -c $'^X-Forwarded-For: 192.0.2.30\r$' "$W/www.log")" -eq 2 ]
	grep -q '^GET /one HTTP/1.1' "$W/www.log"
	[ "$(count_matches PROXY "$W/www.log")" -eq 0 ]
}

@test "a header that comes in pieces is still read exactly" {
	start_pp_proxy < /dev/null
	run raw_bytes 'PROXY TCP4 192.0.2.@@@31 198.51.100.1 40051 80\r@@@\nGET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' -d 150
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 192.0.2.31\r$' "$W/www.log"
	run raw_bytes '\r\n\r\n\0\r\nQUIT\n\x21@@@\x11\x00\x0c\xc0\x00\x02\x20\xc6\x33\x64\x01@@@\x9c\x41\x00\x50GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' -d 150
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 192.0.2.32\r$' "$W/www.log"
	wait_for_line "$W/log1.udp" ' 192\.0\.2\.32:40001 \[.*\] public www/www1 '
}

@test "malformed v1 headers: closed, nothing forwarded, logged" {
	start_pp_proxy < /dev/null
	local req='GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	refused "PROXY TCP4 192.0.2.1  198.51.100.1 1 2\r\n$req" -        # double space
	refused "PROXY TCP4 192.0.2.01 198.51.100.1 1 2\r\n$req" -        # leading zero
	refused "PROXY TCP4 192.0.2.1 198.51.100.1 01 2\r\n$req" -        # port, too
	refused "PROXY TCP4 192.0.2.1 198.51.100.1 1 2\n$req" -           # no CR
	refused "PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r$req" -           # bare CR
	refused "PROXY TCP4 192.0.2.1 198.51.100.1 1 65536\r\n$req" -     # port range
	refused "PROXY TCP4 ::1 ::1 1 2\r\n$req" -                        # family mismatch
	refused "PROXY TCP6 2001:db8::1 2001:db8::2 1 2 3\r\n$req" -      # extra field
	refused "PROXY UNKNOWNX\r\n$req" -                                # bad family
	refused "PROXY $(printf 'x%.0s' {1..110})\r\n$req" -              # too long
	refused "PROXY TCP5 192.0.2.1 198.51.100.1 1 2\r\n$req" -         # bad family
	[ ! -s "$W/www.log" ] && [ ! -s "$W/ws.log" ]
	wait_for_line "$W/log1.udp" 'public/1: Received an unhandled protocol'
	[ "$(count_matches 'public/1: Received an unhandled protocol' "$W/log1.udp")" -eq 2 ]
	[ "$(count_matches 'public/1: Received an invalid PROXY protocol header' "$W/log1.udp")" -eq 9 ]
	grep -qE '^<134>.* 127\.0\.0\.1:[0-9]+ \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:.]{12}\] public/1: Received an invalid PROXY protocol header$' "$W/log1.udp"
}

@test "malformed v2 headers: closed, nothing forwarded, logged" {
	start_pp_proxy < /dev/null
	local sig='\r\n\r\n\0\r\nQUIT\n' req='GET / HTTP/1.1\r\nHost: x\r\n\r\n'
	refused "$sig\x11\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x01\x00\x01\x00\x02$req" -  # version 1
	refused "$sig\x22\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x01\x00\x01\x00\x02$req" -  # command 2
	refused "$sig\x21\x11\x00\x08\xc0\x00\x02\x01\xc6\x33\x64\x01$req" -                  # 8 < 12
	refused "$sig\x21\x11\x00\x10\xc0\x00\x02\x01\xc6\x33\x64\x01\x00\x01\x00\x02\x04\x00\x09\x00$req" - # TLV overflows
	refused "$sig\x21\x51\x00\x00$req" -                                                  # family 5
	refused "\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x00$req" -                                    # signature
	[ ! -s "$W/www.log" ] && [ ! -s "$W/ws.log" ]
	wait_for_line "$W/log1.udp" 'public/1: Received an unhandled protocol'
	[ "$(count_matches 'public/1: Received an invalid PROXY protocol header' "$W/log1.udp")" -eq 3 ]
	[ "$(count_matches 'public/1: Received something which does not look like' "$W/log1.udp")" -eq 2 ]
}

@test "truncated v2 header (the length says more than comes): closed, logged" {
	start_pp_proxy < /dev/null
	refused '\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33' -
	wait_for_line "$W/log1.udp" 'public/1: Truncated PROXY protocol header received'
	[ ! -s "$W/www.log" ]
}

@test "no PROXY header at all, or nothing: closed with a reset, logged" {
	start_pp_proxy < /dev/null
	run raw_bytes "$GET_CLOSE"
	[ "$status" -eq 5 ]            # reset by the peer
	[ -z "$output" ]
	refused '' -
	[ ! -s "$W/www.log" ]
	wait_for_line "$W/log1.udp" '127\.0\.0\.1:[0-9]+ \[.*\] public/1: Received something which does not look like a PROXY protocol header$'
	wait_for_line "$W/log1.udp" 'public/1: Connection closed while waiting for PROXY protocol header$'
	# the IPv6 bind is the frontend's second
	run raw_bytes "$GET_CLOSE" -a ::1 -p "$PPORT6"
	[ -z "$output" ]
	wait_for_line "$W/log1.udp" '::1:[0-9]+ \[.*\] public/2: Received something'
}

@test "a header that never ends: timeout http-request, logged" {
	start_pp_proxy <<-'EOF'
	    timeout http-request 300ms
	EOF
	run raw_bytes 'PROXY TCP4 192.0.2.1' -t 3000
	[ -z "$output" ]
	wait_for_line "$W/log1.udp" 'public/1: Timeout while waiting for PROXY protocol header$'
}

@test "option dontlognull: peers that sent nothing are not logged, garbage is" {
	start_pp_proxy <<-'EOF'
	    option dontlognull
	EOF
	refused '' -
	refused 'hello\r\n' -
	wait_for_line "$W/log1.udp" 'public/1: Received something'
	[ "$(count_matches 'Connection closed while waiting' "$W/log1.udp")" -eq 0 ]
}

@test "mode tcp with accept-proxy: the header is taken off the stream" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	defaults
	    mode tcp
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	listen raw
	    bind 127.0.0.1:$PPORT accept-proxy
	    server www1 127.0.0.1:$BPORT_www
	EOF
	run pp_get -v 2 TCP4 192.0.2.40 198.51.100.1 40060 80
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	head -1 "$W/www.log" | grep -q '^GET /pp HTTP/1.1'
}

# ---- send-proxy ----

# start_sp_proxy SERVER_PARAM: ppeer records what the server gets; the
# frontend has an accept-proxy bind (PPORT) and a plain one (PPORT2).
start_sp_proxy() {
	free_ports 4; PPORT=${PORTS[0]} PPORT2=${PORTS[1]} SPORT=${PORTS[2]} PPORT6=${PORTS[3]}
	"$T/ppeer" -l -p "$SPORT" -o "$W/srv.pp" -P "$W/srv.pid" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_file "$W/srv.pid"
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT accept-proxy
	    bind [::1]:$PPORT6 accept-proxy
	    bind 127.0.0.1:$PPORT2
	    default_backend pp
	backend pp
	    server s1 127.0.0.1:$SPORT $1
	EOF
}

@test "send-proxy: the exact v1 line, from the PROXY header or the connection" {
	start_sp_proxy send-proxy
	run pp_get TCP4 192.0.2.7 198.51.100.1 40000 8080
	[[ "$output" == *'v=1 cmd=PROXY fam=TCP4 src=192.0.2.7 dst=198.51.100.1 sport=40000 dport=8080'* ]]
	want=$(printf 'PROXY TCP4 192.0.2.7 198.51.100.1 40000 8080\r\n' | od -An -tx1 | tr -d ' \n')
	grep -q "^hex=$want v=1 " "$W/srv.pp"
	run pp_get TCP6 2001:db8::7 2001:db8::1 40001 443
	want=$(printf 'PROXY TCP6 2001:db8::7 2001:db8::1 40001 443\r\n' | od -An -tx1 | tr -d ' \n')
	grep -q "^hex=$want v=1 " "$W/srv.pp"
	# without accept-proxy: the client's own connection
	run curl -s -m 5 "http://127.0.0.1:$PPORT2/"
	[[ "$output" =~ v=1\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT2 ]]
	grep -qE "^hex=$(printf 'PROXY TCP4 127.0.0.1 127.0.0.1 ' | od -An -tx1 | tr -d ' \n')[0-9a-f]+0d0a v=1 " "$W/srv.pp"
}

@test "send-proxy-v2: the exact binary header, IPv4 and IPv6; curl's PROXY v1 in" {
	start_sp_proxy send-proxy-v2
	run pp_get TCP4 192.0.2.7 198.51.100.1 40000 8080
	[[ "$output" == *'v=2 cmd=PROXY fam=TCP4 src=192.0.2.7 dst=198.51.100.1 sport=40000 dport=8080'* ]]
	grep -q '^hex=0d0a0d0a000d0a515549540a2111000cc0000207c63364019c401f90 v=2 ' "$W/srv.pp"
	run pp_get -v 2 TCP6 2001:db8::7 2001:db8::1 40001 443
	grep -q '^hex=0d0a0d0a000d0a515549540a2121002420010db800000000000000000000000720010db80000000000000000000000019c4101bb v=2 ' "$W/srv.pp"
	run curl -s -m 5 "http://127.0.0.1:$PPORT2/"
	[[ "$output" =~ v=2\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT2 ]]
	run curl -s -m 5 -g "http://[::1]:$PPORT6/" --haproxy-protocol
	[[ "$output" =~ v=2\ cmd=PROXY\ fam=TCP6\ src=::1\ dst=::1\ sport=[0-9]+\ dport=$PPORT6 ]]
}

@test "send-proxy after accept-proxy UNKNOWN/LOCAL: the connection's addresses" {
	start_sp_proxy send-proxy-v2
	run pp_get -v 2 LOCAL
	[[ "$output" =~ v=2\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT ]]
	run pp_get -v 1 UNKNOWN
	[[ "$output" =~ v=2\ cmd=PROXY\ fam=TCP4\ src=127.0.0.1\ dst=127.0.0.1\ sport=[0-9]+\ dport=$PPORT ]]
}

# ---- against HAProxy (.ci/run installs it; skipped when absent) ----

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}

# start_haproxy: config on stdin (a file: in a pipe the pid would be
# recorded in a subshell and teardown would not stop it); waits until
# PORT accepts connections.
start_haproxy() {
	local port="$1"
	cat > "$W/haproxy.cfg"
	"$HAPROXY" -db -f "$W/haproxy.cfg" > "$W/haproxy.out" 2>&1 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_listen "$port" "$!" || { cat "$W/haproxy.out" >&2; return 1; }
}

haproxy_defaults() {
	cat <<-EOF
	defaults
	    mode http
	    timeout connect 1s
	    timeout client 5s
	    timeout server 5s
	EOF
}

@test "HAProxy send-proxy-v2 (and send-proxy) into an accept-proxy bind" {
	[ -x "$HAPROXY" ] || skip "no haproxy at $HAPROXY"
	start_pp_proxy < /dev/null
	free_ports 2; HPORT=${PORTS[0]} HPORT1=${PORTS[1]}
	{ haproxy_defaults
	  echo "listen h2"
	  echo "    bind 127.0.0.1:$HPORT accept-proxy"
	  echo "    server w 127.0.0.1:$PPORT send-proxy-v2"
	  echo "listen h1"
	  echo "    bind 127.0.0.1:$HPORT1"
	  echo "    server w 127.0.0.1:$PPORT send-proxy"
	} > "$W/haproxy.in"
	# not in a pipe: start_haproxy must record the pid in this shell
	start_haproxy "$HPORT" < "$W/haproxy.in"
	# a client HAProxy believes is 192.0.2.50 (our header to it)
	PPORT=$HPORT run pp_get TCP4 192.0.2.50 198.51.100.1 40070 80
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	grep -q $'^X-Forwarded-For: 192.0.2.50\r$' "$W/www.log"
	wait_for_line "$W/log1.udp" ' 192\.0\.2\.50:40070 \[.*\] public www/www1 '
	# v1 from HAProxy: curl's own port shows in our log
	run curl -s -m 5 --local-port 41000-41999 -D "$W/h1.head" "http://127.0.0.1:$HPORT1/v1"
	[[ "$output" == *'backend=www'* ]]
	wait_for_line "$W/log1.udp" ' 127\.0\.0\.1:41[0-9]{3} \[.*\] public www/www1 .*"GET /v1 HTTP/1.1"'
}

@test "wsproxy send-proxy and send-proxy-v2 into HAProxy's accept-proxy bind" {
	[ -x "$HAPROXY" ] || skip "no haproxy at $HAPROXY"
	start_backend www
	free_ports 3; PPORT=${PORTS[0]} HPORT=${PORTS[1]} HPORT2=${PORTS[2]}
	{ haproxy_defaults
	  echo "listen h"
	  echo "    bind 127.0.0.1:$HPORT accept-proxy"
	  echo "    bind 127.0.0.1:$HPORT2 accept-proxy"
	  echo "    option forwardfor"
	  echo "    server w 127.0.0.1:$BPORT_www"
	} > "$W/haproxy.in"
	start_haproxy "$HPORT" < "$W/haproxy.in"
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT accept-proxy
	    use_backend v2 if { dst_port 8443 }
	    default_backend v1
	backend v1
	    server h 127.0.0.1:$HPORT send-proxy
	backend v2
	    server h 127.0.0.1:$HPORT2 send-proxy-v2
	EOF
	run pp_get TCP4 192.0.2.60 198.51.100.1 40080 80
	[[ "$output" == *'backend=www'* ]]
	# (HAProxy 2.x sends header names in lower case)
	grep -qi $'^X-Forwarded-For: 192.0.2.60\r$' "$W/www.log"
	run pp_get -v 2 TCP6 2001:db8::60 2001:db8::1 40081 8443
	[[ "$output" == *'backend=www'* ]]
	grep -qi $'^X-Forwarded-For: 2001:db8::60\r$' "$W/www.log"
}

# ---- wss:// through stunnel ----

STUNNEL=$(command -v stunnel4 || command -v stunnel || true)

# The README's set-up: stunnel terminates TLS and sends PROXY v1 to an
# accept-proxy bind; a second stunnel (client mode) is the TLS client in
# front of test/wsclient.
start_wss() {
	[ -n "$STUNNEL" ] || skip "stunnel4 is not installed"
	command -v openssl >/dev/null || skip "no openssl"
	start_backend www
	start_backend ws
	start_udpsink log1
	free_ports 3; PPORT=${PORTS[0]} SPORT=${PORTS[1]} CPORT=${PORTS[2]}
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
	start_proxy <<-EOF
	$(defaults_section)
	    timeout tunnel 1h
	frontend public
	    bind 127.0.0.1:$PPORT accept-proxy
	    log 127.0.0.1:$UPORT_log1 local0
	    option httplog
	    option forwardfor
	    acl is_websocket hdr(Upgrade) -i websocket
	    use_backend ws if is_websocket
	    default_backend www
	$(classic_backends)
	EOF
	cat > "$W/stunnel.conf" <<-EOF
	foreground = yes
	pid =
	debug = info
	[wss]
	accept = 127.0.0.1:$SPORT
	connect = 127.0.0.1:$PPORT
	cert = $W/cert.pem
	key = $W/key.pem
	protocol = proxy
	EOF
	cat > "$W/client.conf" <<-EOF
	foreground = yes
	pid =
	debug = info
	[client]
	client = yes
	accept = 127.0.0.1:$CPORT
	connect = 127.0.0.1:$SPORT
	verifyPeer = yes
	CAfile = $W/cert.pem
	EOF
	"$STUNNEL" "$W/stunnel.conf" 2> "$W/stunnel.log" 3>&- &
	STARTED_PIDS+=("$!")
	"$STUNNEL" "$W/client.conf" 2> "$W/client.log" 3>&- &
	STARTED_PIDS+=("$!")
	wait_for_line "$W/stunnel.log" 'Configuration successful'
	wait_for_line "$W/client.log" 'Configuration successful'
}

@test "wss:// end to end: stunnel + PROXY v1 + accept-proxy, a TLS WebSocket client" {
	start_wss
	run "$T/wsclient" -p "$CPORT" -H example.com -u /chat -n 3 -s 100 -t
	[ "$status" -eq 0 ]
	[[ "$output" == *'HTTP/1.1 101'* ]]
	[[ "$output" == *'backend=ws'* ]]
	[[ "$output" == *'ok 3 messages'* ]]
	grep -q $'^X-Forwarded-For: 127.0.0.1\r$' "$W/ws.log"
	# the address is the TLS client's (stunnel's client side), not that
	# of stunnel's connection to wsproxy: the ports tell them apart
	port=$(sed -n 's/.*Service \[wss\] accepted connection from 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$W/stunnel.log" | head -1)
	[ -n "$port" ]
	wait_for_line "$W/log1.udp" " 127\.0\.0\.1:$port \[.*\] public ws/ws1 .* 101 .*\"GET /chat HTTP/1.1\""
}

@test "wss:// with openssl s_client: plain HTTPS through the same set-up" {
	start_wss
	command -v timeout >/dev/null || skip "no timeout(1)"
	run bash -c "printf 'GET /tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$SPORT -CAfile '$W/cert.pem' 2>/dev/null"
	[[ "$output" == *'HTTP/1.1 200 OK'* ]]
	[[ "$output" == *'backend=www'* ]]
	grep -q $'^X-Forwarded-For: 127.0.0.1\r$' "$W/www.log"
	[ "$(count_matches '^PROXY' "$W/www.log")" -eq 0 ]
}
