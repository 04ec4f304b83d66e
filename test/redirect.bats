#!/usr/bin/env bats
# redirect rules (HAProxy 2.6's semantics, config-reference.md 10.5,
# 10.1, 10.11): the exact bytes of every form, which rule answers and
# when (frontend before use_backend, a backend's after routing), the
# connection after a redirect, the log line, and every configuration
# error with its FILE:LINE.

load helpers

# redirect_proxy: a frontend "public" on $PPORT, httplog to the udpsink
# "log", the redirect lines on stdin, then default_backend www (the
# backend "www" answers whatever no rule took).
redirect_proxy() {
	start_backend www
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log local0
	    option httplog
	EOF
	  cat
	  cat <<-EOF
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	} > "$W/redirect.cfg"
	start_proxy < "$W/redirect.cfg"
}

# exact BYTES: raw's answer to the request on stdin is BYTES (printf).
exact() {
	local want
	want=$(printf "$1"; echo .)
	# the whole answer: no more once it has been quiet for 300 ms
	got=$(raw -t 3000 -q 300; echo .)
	[ "$got" = "$want" ] || {
		echo "want: $(printf '%q' "$want")" >&2
		echo "got:  $(printf '%q' "$got")" >&2
		return 1; }
}

# req TARGET [HEADER LINES]: a GET with Host: t and Connection: close,
# more lines in printf form.
req() {
	printf "GET %s HTTP/1.1\r\nHost: t\r\n${2:-}Connection: close\r\n\r\n" "$1"
}

# loc LOCATION [STATUS REASON]: the redirect 2.6 sends, then our close.
loc() {
	local status="${2:-302 Found}" cc='cache-control: no-cache\r\n'
	case "$status" in 301*|308*) cc='' ;; esac
	printf 'HTTP/1.1 %s\\r\\ncontent-length: 0\\r\\nlocation: %s\\r\\n%sconnection: close\\r\\n\\r\\n' \
		"$status" "$1" "$cc"
}

# untouched: the backend has received no request.
untouched() {
	[ ! -s "$W/www.log" ] || { cat "$W/www.log" >&2; return 1; }
}

@test "location: HAProxy's exact 302, the request's query not carried, drop-query and append-slash without effect" {
	redirect_proxy <<-'EOF'
	    redirect location /new if { path /old }
	    redirect location /loc drop-query append-slash if { path_beg /ldx }
	EOF
	printf 'GET /old HTTP/1.1\r\nHost: t\r\n\r\n' |
		exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n\r\n'
	req '/old?a=1' | exact "$(loc /new)"
	req '/ldx?y=1' | exact "$(loc /loc)"
	untouched
}

@test "code 301, 302, 303, 307, 308: their reason phrases; cache-control only for 302, 303 and 307" {
	redirect_proxy <<-'EOF'
	    redirect location /c301 code 301 if { path /301 }
	    redirect location /c302 code 302 if { path /302 }
	    redirect location /c303 code 303 if { path /303 }
	    redirect location /c307 code 307 if { path /307 }
	    redirect location /c308 code 308 if { path /308 }
	EOF
	req /301 | exact 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /c301\r\nconnection: close\r\n\r\n'
	req /302 | exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /c302\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n'
	req /303 | exact 'HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /c303\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n'
	req /307 | exact 'HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /c307\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n'
	req /308 | exact 'HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /c308\r\nconnection: close\r\n\r\n'
	untouched
}

@test "prefix: the path and its query after the prefix; drop-query; append-slash after the query; no normalisation" {
	redirect_proxy <<-'EOF'
	    redirect prefix /pfx if { path_beg /p/ }
	    redirect prefix /pfx drop-query if { path_beg /pd/ }
	    redirect prefix https://example.org append-slash if { path_beg /pa }
	    redirect prefix /old/ if { path_beg /trail/ }
	    redirect prefix /x drop-query append-slash if { path_beg /both }
	EOF
	req '/p/a?q=1' | exact "$(loc '/pfx/p/a?q=1')"
	req '/pd/a?q=1' | exact "$(loc /pfx/pd/a)"
	req '/pa?q=1' | exact "$(loc 'https://example.org/pa?q=1/')"
	req '/pa/' | exact "$(loc 'https://example.org/pa/')"
	req /trail/a | exact "$(loc /old//trail/a)"
	req '/both?z' | exact "$(loc /x/both/)"
	untouched
}

@test "prefix /: a self-redirect; an absolute-form request gives its path and query only" {
	redirect_proxy <<-'EOF'
	    redirect prefix / code 301 if { path_beg /pslash }
	    redirect prefix /abs if { path_beg /a }
	EOF
	req '/pslash/a?q=1' | exact "$(loc '/pslash/a?q=1' '301 Moved Permanently')"
	printf 'GET http://elsewhere.example:81/a/b?c HTTP/1.1\r\nHost: elsewhere.example:81\r\nConnection: close\r\n\r\n' |
		exact "$(loc '/abs/a/b?c')"
	untouched
}

@test "scheme: the Host header as sent, port included; none without Host; drop-query and append-slash" {
	redirect_proxy <<-'EOF'
	    redirect scheme https if { path_beg /s/ }
	    redirect scheme https drop-query append-slash if { path_beg /sd }
	EOF
	printf 'GET /s/x?q HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n' |
		exact "$(loc 'https://example.com:8080/s/x?q')"
	printf 'GET /s/x?q HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n' |
		exact "$(loc 'https://example.com/s/x?q')"
	printf 'GET /s/x HTTP/1.0\r\n\r\n' | exact "$(loc 'https:///s/x')"
	req '/sd?y=1' | exact "$(loc 'https://t/sd/')"
	untouched
}

@test "set-cookie and clear-cookie: the header after the others; the last of the two written applies" {
	redirect_proxy <<-'EOF'
	    redirect location /s code 301 set-cookie SEEN=1 if { path /set }
	    redirect location /c clear-cookie SEEN if { path /clear }
	    redirect location /e clear-cookie SEEN= if { path /cleareq }
	    redirect location /l set-cookie A=1 clear-cookie B if { path /last }
	EOF
	req /set | exact 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /s\r\nset-cookie: SEEN=1; path=/;\r\nconnection: close\r\n\r\n'
	req /clear | exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /c\r\ncache-control: no-cache\r\nset-cookie: SEEN; path=/; Max-Age=0;\r\nconnection: close\r\n\r\n'
	req /cleareq | exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /e\r\ncache-control: no-cache\r\nset-cookie: SEEN=; path=/; Max-Age=0;\r\nconnection: close\r\n\r\n'
	req /last | exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /l\r\ncache-control: no-cache\r\nset-cookie: B; path=/; Max-Age=0;\r\nconnection: close\r\n\r\n'
}

@test "if and unless: the first rule whose condition holds answers; none holding, the request is forwarded" {
	redirect_proxy <<-'EOF'
	    acl internal hdr(x-internal) -m found
	    redirect location /first if { path_beg /r }
	    redirect location /second if { path_beg /r }
	    redirect location /outside unless internal || { path_beg /r } || { path_beg /free }
	EOF
	req /r/x | exact "$(loc /first)"
	req /elsewhere | exact "$(loc /outside)"
	run backend_of /free
	[ "$output" = www ]
	run backend_of /elsewhere -H 'X-Internal: 1'
	[ "$output" = www ]
	grep -q 'GET /free' "$W/www.log"
	! grep -q 'GET /r/x' "$W/www.log"
}

@test "the frontend's redirect comes before its use_backend whatever the order of the lines, and 2.6's warning says so" {
	redirect_proxy <<-'EOF'
	    use_backend www if { path_beg /both }
	    redirect location /won if { path_beg /both }
	EOF
	run "$WSPROXY" -c -f "$W/redirect.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"redirect.cfg:13: warning: a 'redirect' rule placed after a 'use_backend' rule will still be processed before."* ]]
	req /both | exact "$(loc /won)"
	untouched
}

@test "a backend's redirect applies after routing, and only to requests routed there" {
	start_backend www
	start_udpsink log
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    log 127.0.0.1:$UPORT_log local0
	    option httplog
	    redirect location /from-fe if { path /fe }
	    use_backend moved if { path_beg /m }
	    default_backend www
	backend moved
	    redirect prefix /new code 301 unless { path /m/keep }
	    server www1 127.0.0.1:$BPORT_www
	backend www
	    redirect location /never if { path /x }
	    server www1 127.0.0.1:$BPORT_www
	EOF
	req /m/a | exact "$(loc /new/m/a '301 Moved Permanently')"
	req /fe | exact "$(loc /from-fe)"
	run backend_of /m/keep
	[ "$output" = www ]
	req /x | exact "$(loc /never)"
	run backend_of /y
	[ "$output" = www ]
	wait_for_line "$W/log.udp" 'GET /y '
	grep -qE ' public moved/<NOSRV> [0-9]+/-1/-1/-1/[0-9]+ 301 [0-9]+ - - LR-- .*"GET /m/a HTTP/1.1"' "$W/log.udp"
	grep -qE ' public public/<NOSRV> [0-9]+/-1/-1/-1/[0-9]+ 302 [0-9]+ - - LR-- .*"GET /fe HTTP/1.1"' "$W/log.udp"
	grep -qE ' public www/<NOSRV> [0-9]+/-1/-1/-1/[0-9]+ 302 [0-9]+ - - LR-- .*"GET /x HTTP/1.1"' "$W/log.udp"
}

@test "a listen section's redirect rules apply before its own servers" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	listen both
	    bind 127.0.0.1:$PPORT
	    redirect location /l if { path /go }
	    server www1 127.0.0.1:$BPORT_www
	EOF
	req /go | exact "$(loc /l)"
	run backend_of /stay
	[ "$output" = www ]
}

@test "keep-alive: the connection goes on after a redirect, and the next request on it is routed afresh" {
	redirect_proxy <<-'EOF'
	    redirect location /new if { path /old }
	EOF
	out=$( { printf 'GET /old HTTP/1.1\r\nHost: t\r\n\r\n'; req /after; } | raw -t 3000)
	printf -v want 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n\r\n'
	[[ "$out" == "$want"HTTP/1.1\ 200\ OK* ]]
	[[ "$out" == *"backend=www"* ]]
	grep -q 'GET /after' "$W/www.log"
	! grep -q 'GET /old' "$W/www.log"
	# HTTP/1.0 with keep-alive: said so
	{ printf 'GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'; req /after2; } |
		raw -t 3000 > "$W/out10"
	printf -v want 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nconnection: keep-alive\r\n\r\nHTTP/1.1 200 OK'
	[[ "$(cat "$W/out10")" == "$want"* ]]
}

@test "a request with a body not all received: connection: close, then the close; a whole one is dropped; the backend gets nothing" {
	redirect_proxy <<-'EOF'
	    redirect location /new
	EOF
	printf 'POST /old HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n1234567' |
		exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n'
	# a chunked body that came whole with the head has been received
	# (reference 10.5): it is dropped, and the next request is served
	printf 'POST /old HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		exact 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n\r\nHTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n'
	untouched
}

@test "logged as 2.6 logs a redirect: the frontend as backend, <NOSRV>, the bytes sent, LR" {
	redirect_proxy <<-'EOF'
	    redirect location /new if { path /old }
	EOF
	req /old | raw -t 3000 > "$W/out"
	[ "$(wc -c < "$W/out")" -eq 101 ]
	wait_for_line "$W/log.udp" 'GET /old'
	grep -qE ' public public/<NOSRV> 0/-1/-1/-1/[0-9]+ 302 101 - - LR-- .*"GET /old HTTP/1.1"$' "$W/log.udp"
}

@test "a redirect the buffer cannot hold: 500, logged IR, nothing forwarded" {
	local long path
	long=$(head -c 15000 /dev/zero | tr '\0' a)
	path=$(head -c 3000 /dev/zero | tr '\0' b)
	redirect_proxy <<-EOF
	    redirect prefix /$long
	EOF
	out=$(req "/$path" | raw -t 3000)
	[[ "$out" == "HTTP/1.1 500 "* ]]
	wait_for_line "$W/log.udp" ' public public/<NOSRV> [-0-9/]+ 500 [0-9]+ - - IR-- '
	untouched
}

@test "http-request redirect: the target is a log-format value" {
	redirect_proxy <<-'EOF'
	    http-request redirect location /to-%[req.hdr(x-to)] if { path /h }
	    http-request redirect prefix /p%[path] if { path_beg /px }
	    http-request redirect location %[req.hdr(x-none)] ignore-empty if { path /ie }
	    http-request redirect prefix %[req.hdr(x-none)] ignore-empty if { path /iep }
	    http-request redirect scheme %[req.hdr(x-scheme)] if { path /sch }
	EOF
	req /h 'X-To: there\r\n' | exact "$(loc /to-there)"
	req /px | exact "$(loc /p/px/px)"
	run backend_of /ie
	[ "$output" = www ]
	req /iep | exact "$(loc /iep)"
	req /sch 'X-Scheme: wss\r\n' | exact "$(loc wss://t/sch)"
}

@test "plain redirect: a %[...] in the target is literal text" {
	redirect_proxy <<-'EOF'
	    redirect location /plain-%[src] if { path /pl }
	EOF
	req /pl | exact "$(loc '/plain-%%[src]')"
}

@test "redirect in a tcp proxy: a warning, no effect" {
	cat > "$W/t.cfg" <<-'EOF'
	defaults
	    mode tcp
	    timeout client 1s
	    timeout connect 1s
	    timeout server 1s
	listen t
	    bind 127.0.0.1:18093
	    redirect location /x
	    server s 127.0.0.1:9
	EOF
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"t.cfg:8: warning: tcp listen 't': 'redirect' has no effect in tcp mode."* ]]
}

# cfg_error LINES... : a file with those lines in a frontend (line 3 on)
# fails -c with exit 1; $output holds the messages.
cfg_error() {
	local line
	{ echo "frontend fe"; echo "    bind 127.0.0.1:18090"
	  for line; do echo "    $line"; done; } > "$W/e.cfg"
	run "$WSPROXY" -c -f "$W/e.cfg"
	[ "$status" -eq 1 ] || { echo "exit $status: $output" >&2; return 1; }
}

@test "configuration errors: 2.6's messages, each at its FILE:LINE, exit 1" {
	local pre="error detected in frontend 'fe' while parsing redirect rule :"
	cfg_error "redirect location"
	[[ "$output" == *"e.cfg:3: $pre missing argument for 'location'."* ]]
	cfg_error "redirect prefix /p set-cookie"
	[[ "$output" == *"e.cfg:3: $pre missing argument for 'set-cookie'."* ]]
	cfg_error "redirect location /a code"
	[[ "$output" == *"e.cfg:3: $pre missing argument for 'code'."* ]]
	cfg_error "redirect location /a code 304"
	[[ "$output" == *"e.cfg:3: $pre 'code': unsupported HTTP code '304' (must be one of 301, 302, 303, 307 or 308)."* ]]
	cfg_error "redirect location /a code abc"
	[[ "$output" == *"e.cfg:3: $pre 'code': unsupported HTTP code 'abc' (must be one of 301, 302, 303, 307 or 308)."* ]]
	cfg_error "redirect location /a bogus"
	[[ "$output" == *"e.cfg:3: $pre expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'bogus')."* ]]
	cfg_error "redirect code 301"
	[[ "$output" == *"e.cfg:3: $pre redirection type expected ('prefix', 'location', or 'scheme')."* ]]
	cfg_error "redirect location /a if nosuch"
	[[ "$output" == *"e.cfg:3: $pre error in condition: no such ACL : 'nosuch'."* ]]
	# 2.6 reads the condition where it meets it: before the type check,
	# after the words before it
	cfg_error "redirect if nosuch"
	[[ "$output" == *"e.cfg:3: $pre error in condition: no such ACL : 'nosuch'."* ]]
	cfg_error "redirect code 302 if TRUE"
	[[ "$output" == *"e.cfg:3: $pre redirection type expected ('prefix', 'location', or 'scheme')."* ]]
	cfg_error "redirect location /a code 300 if nosuch"
	[[ "$output" == *"e.cfg:3: $pre 'code': unsupported HTTP code '300' (must be one of 301, 302, 303, 307 or 308)."* ]]
	cfg_error "acl ok path /" "redirect location /a if ok" "redirect location /b bogus"
	[[ "$output" == *"e.cfg:5: $pre expects"* ]]
	[[ "$output" != *"e.cfg:4: error"* ]]
	printf 'defaults\n    mode http\n    redirect location /x\n' > "$W/d.cfg"
	run "$WSPROXY" -c -f "$W/d.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"d.cfg:3: 'redirect' not allowed in 'defaults' section."* ]]
	printf 'backend b\n    redirect scheme\n' > "$W/b.cfg"
	run "$WSPROXY" -c -f "$W/b.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"b.cfg:2: error detected in backend 'b' while parsing redirect rule : missing argument for 'scheme'."* ]]
}

@test "a valid redirect loads without a diagnostic" {
	cat > "$W/ok.cfg" <<-'EOF'
	defaults
	    mode http
	    timeout client 1s
	    timeout connect 1s
	    timeout server 1s
	frontend fe
	    bind 127.0.0.1:18091
	    redirect scheme https code 308 drop-query append-slash set-cookie X=1 ignore-empty if { hdr(host) -m found }
	    default_backend b
	backend b
	    redirect prefix / unless { path_beg /a }
	    server s 127.0.0.1:9
	EOF
	run "$WSPROXY" -c -f "$W/ok.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" != *"ok.cfg:"* ]]
}
