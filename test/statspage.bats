#!/usr/bin/env bats
# The stats page (config-reference.md 14.1, 14.2): its keywords and their
# errors, where it sits in the rule order, stats auth, what the page and
# ;csv show, the counters that grow under traffic, the admin form, and
# the page rendered by a real browser (headless Chromium).

load helpers

# stats_proxy [frontend lines]: backends www (alive, checked) and dead
# (nothing listens; checked), a frontend "fe" on $PPORT with the lines
# on stdin, /dead going to the dead backend, the rest to www.
stats_proxy() {
	start_backend www
	free_ports 2; PPORT=${PORTS[0]}; DEAD=${PORTS[1]}
	{ defaults_section
	  cat <<-EOF
	    timeout check 500ms
	frontend fe
	    bind 127.0.0.1:$PPORT
	    log stderr format raw local0
	    option httplog
	EOF
	  cat
	  cat <<-EOF
	    use_backend dead if { path_beg /dead }
	    use_backend refused if { path_beg /refused }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www check inter 200ms
	backend dead
	    server d1 127.0.0.1:$DEAD check inter 200ms fall 1
	backend refused
	    server r1 127.0.0.1:$DEAD
	EOF
	} > "$W/stats.cfg"
	start_proxy < "$W/stats.cfg"
}

# status_of URL [curl args]: the HTTP status curl gets.
status_of() {
	local url="$1"; shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url"
}

# csv_field PXNAME SVNAME COLUMN: the column (by its header name) of that
# row of the CSV at $CSV_URL.
csv_field() {
	curl -s --max-time 5 "${CSV_ARGS[@]}" "$CSV_URL" | awk -F, -v px="$1" \
		-v sv="$2" -v col="$3" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == px && $2 == sv { print $(c[col]); found = 1 }
		END { exit !found }'
}

cfg_error() {
	local line
	{ echo "defaults"; echo "    mode http"
	  echo "frontend fe"; echo "    bind 127.0.0.1:18090"
	  for line; do echo "    $line"; done; } > "$W/e.cfg"
	run "$WSPROXY" -c -f "$W/e.cfg"
	[ "$status" -eq 1 ] || { echo "exit $status: $output" >&2; return 1; }
}

@test "stats keywords: every valid form passes -c without a word" {
	cat > "$W/ok.cfg" <<-EOF
	defaults
	    mode http
	    timeout client 1s
	    timeout connect 1s
	    timeout server 1s
	    stats enable
	    stats realm Admin\ Area
	    stats hide-version
	frontend fe
	    bind 127.0.0.1:18090
	    stats uri /st
	    stats uri /st2
	    stats auth admin:secret
	    stats auth other
	    stats refresh 10s
	    stats refresh 5
	    stats admin if { src 127.0.0.1 }
	    stats show-legends
	    stats show-node edge1
	    stats show-desc "the edge"
	    stats scope .
	    stats scope be
	    default_backend be
	backend be
	    stats admin unless TRUE
	    server s1 127.0.0.1:1
	EOF
	run "$WSPROXY" -c -f "$W/ok.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" != *warning* ]] || { echo "$output"; false; }
}

@test "stats keywords: 2.6's errors, as FILE:LINE, exit 1" {
	cfg_error "stats bogus"
	[[ "$output" == *"e.cfg:5: unknown stats parameter 'bogus', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."* ]]
	cfg_error "stats admin"
	[[ "$output" == *"e.cfg:5: 'stats admin' requires either 'if' or 'unless' followed by a condition."* ]]
	cfg_error "stats admin when TRUE"
	[[ "$output" == *"e.cfg:5: 'stats admin' requires either 'if' or 'unless' followed by a condition."* ]]
	cfg_error "stats admin if nosuchacl"
	[[ "$output" == *"e.cfg:5: error detected while parsing a 'stats admin' condition"* ]]
	cfg_error "stats auth"
	[[ "$output" == *"e.cfg:5: 'auth' needs a user:password account."* ]]
	cfg_error "stats realm"
	[[ "$output" == *"e.cfg:5: 'realm' needs an realm name."* ]]
	cfg_error "stats uri"
	[[ "$output" == *"e.cfg:5: 'uri' needs an URI prefix."* ]]
	cfg_error "stats refresh 5x"
	[[ "$output" == *"e.cfg:5: unexpected character 'x' in argument to stats refresh interval."* ]]
	cfg_error "stats http-request deny"
	[[ "$output" == *"e.cfg:5: 'stats http-request' is not implemented by wsproxy"* ]]
	printf 'defaults\n    mode http\n    stats admin if TRUE\n' > "$W/d.cfg"
	run "$WSPROXY" -c -f "$W/d.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"d.cfg:3: 'stats admin' not allowed in 'defaults' section."* ]]
}

@test "stats enable in defaults: every proxy after it serves /haproxy?stats; other paths reach the backend" {
	stats_proxy < /dev/null
	# no stats yet: the defaults section above has none
	[ "$(status_of "http://127.0.0.1:$PPORT/haproxy?stats")" = 200 ]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/haproxy?stats"
	[[ "$output" != *"<title>Statistics Report"* ]]
	sed -i 's/^    timeout check 500ms/    timeout check 500ms\n    stats enable/' "$W/stats.cfg"
	stop_proxy
	start_proxy < "$W/stats.cfg"
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/haproxy?stats"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" == *$'cache-control: no-cache\r'* ]]
	[[ "$output" == *$'content-type: text/html\r'* ]]
	[[ "$output" == *"<title>Statistics Report for HAProxy</title>"* ]]
	[[ "$output" != *"X-Backend"* ]]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/other"
	[[ "$output" == *"X-Backend: www"* ]]
}

@test "stats uri is a prefix of path and query, for GET, HEAD and POST only" {
	stats_proxy <<-EOF
	    stats uri /stats
	EOF
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/statsXYZ"
	[[ "$output" == *"Statistics Report"* ]]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/stats;csv"
	[[ "$output" == *$'content-type: text/plain\r'* ]]
	[[ "$output" == *"# pxname,svname,"* ]]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/stat"
	[[ "$output" == *"X-Backend: www"* ]]
	run curl -s -D - --max-time 5 -X PUT "http://127.0.0.1:$PPORT/stats"
	[[ "$output" == *"X-Backend: www"* ]]
	run curl -s -I --max-time 5 "http://127.0.0.1:$PPORT/stats"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"content-length: "* ]]
	# the default URI is no longer the page's
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/haproxy?stats"
	[[ "$output" == *"X-Backend: www"* ]]
	# logged as answered by the proxy itself
	wait_for_line "$W/proxy.err" 'fe fe/<NOSRV> .* 200 .* LR-- .*"GET /statsXYZ HTTP/1.1"'
}

@test "the page comes after the proxy's http-request rules and before its redirects" {
	stats_proxy <<-EOF
	    stats uri /st
	    http-request deny if { path /st/denied }
	    http-request set-path /st if { path /moved }
	    redirect location /elsewhere if { path_beg /st }
	EOF
	[ "$(status_of "http://127.0.0.1:$PPORT/st/denied")" = 403 ]
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/moved"
	[[ "$output" == *"Statistics Report"* ]]
	[ "$(status_of "http://127.0.0.1:$PPORT/st")" = 200 ]
}

@test "a backend's stats uri is checked once the request is routed to it" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    use_backend admin if { path_beg /admin }
	    default_backend www
	backend admin
	    stats uri /admin/stats
	    server a1 127.0.0.1:$BPORT_www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/admin/stats"
	[[ "$output" == *"Statistics Report"* ]]
	# the frontend has no page at that URI
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/x/admin/stats"
	[[ "$output" == *"X-Backend: www"* ]]
}

@test "stats auth: 401 with the stats realm without the right credentials, the page with them" {
	stats_proxy <<-'EOF'
	    stats uri /st
	    stats realm Admin\ Area
	    stats auth admin:s3cret
	    stats auth viewer
	EOF
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == "HTTP/1.1 401 Unauthorized"* ]]
	[[ "$output" == *$'www-authenticate: Basic realm="Admin Area"\r'* ]]
	[[ "$output" == *"You need a valid user and password to access this content."* ]]
	[ "$(status_of "http://127.0.0.1:$PPORT/st" -u admin:wrong)" = 401 ]
	[ "$(status_of "http://127.0.0.1:$PPORT/st;csv" -u nobody:s3cret)" = 401 ]
	[ "$(status_of "http://127.0.0.1:$PPORT/st" -u admin:s3cret)" = 200 ]
	[ "$(status_of "http://127.0.0.1:$PPORT/st;csv" -u admin:s3cret)" = 200 ]
	# "stats auth viewer": an empty password, as 2.6
	[ "$(status_of "http://127.0.0.1:$PPORT/st" -u viewer:)" = 200 ]
	# the rest of the site is not behind it
	[ "$(status_of "http://127.0.0.1:$PPORT/x")" = 200 ]
}

@test "the default realm is 2.6's" {
	stats_proxy <<-'EOF'
	    stats auth a:b
	EOF
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/haproxy?stats"
	[[ "$output" == *$'www-authenticate: Basic realm="HAProxy Statistics"\r'* ]]
}

@test "stats refresh: the refresh header, gone with ;norefresh; hide-version drops the version line" {
	stats_proxy <<-'EOF'
	    stats uri /st
	    stats refresh 5s
	EOF
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'refresh: 5\r'* ]]
	[[ "$output" == *"wsproxy version "* ]]
	[[ "$output" == *'name="viewport"'* ]]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/st;norefresh"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" != *"refresh: "* ]]
	sed -i 's/^    stats refresh 5s/    stats hide-version/' "$W/stats.cfg"
	stop_proxy
	start_proxy < "$W/stats.cfg"
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" != *"refresh: "* ]]
	[[ "$output" != *"wsproxy version "* ]]
}

@test "the page shows every proxy, its servers and their states; ;up hides the DOWN ones" {
	stats_proxy <<-'EOF'
	    stats uri /st
	EOF
	# the dead server is seen DOWN by its checks
	# servers start "UP 1/3" (going down) until their checks have risen,
	# as in 2.6; the dead one goes DOWN at its first failed check
	wait_for 50 sh -c "curl -s 'http://127.0.0.1:$PPORT/st' | grep -q 'active_down' &&
		curl -s 'http://127.0.0.1:$PPORT/st' | grep -q '<tr class=\"active_up\"><td class=\"name\">www1<'"
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *'<table class="tbl" id="px-fe">'* ]]
	[[ "$output" == *'<table class="tbl" id="px-www">'* ]]
	[[ "$output" == *'<table class="tbl" id="px-dead">'* ]]
	[[ "$output" == *'<td class="name">www1</td>'* ]]
	[[ "$output" == *'<td class="name">d1</td>'* ]]
	[[ "$output" == *'<tr class="active_up"><td class="name">www1</td>'* ]]
	[[ "$output" == *'<tr class="active_down"><td class="name">d1</td>'* ]]
	for group in Queue 'Session rate' Sessions Bytes Denied Errors Warnings Server; do
		[[ "$output" == *">$group</th>"* ]]
	done
	for col in Status LastChk Wght Act Bck Chk Dwn Dwntme; do
		[[ "$output" == *"<th>$col</th>"* ]]
	done
	[[ "$output" == *"General process information"* ]]
	[[ "$output" == *"pid = </b> $PROXY_PID "* ]]
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st;up"
	[[ "$output" == *'<td class="name">www1</td>'* ]]
	[[ "$output" != *'<td class="name">d1</td>'* ]]
}

@test "the counters grow with the traffic: sessions, requests, statuses, bytes, denials, connect errors, balancer picks" {
	RETRIES=1 stats_proxy <<-'EOF'
	    stats uri /st
	    http-request deny if { path /forbidden }
	EOF
	CSV_URL="http://127.0.0.1:$PPORT/st;csv" CSV_ARGS=()
	[ "$(csv_field fe FRONTEND stot)" -ge 1 ]
	stot=$(csv_field fe FRONTEND stot)
	req=$(csv_field fe FRONTEND req_tot)
	bin=$(csv_field fe FRONTEND bin)
	bout=$(csv_field fe FRONTEND bout)
	for i in 1 2 3; do
		[ "$(status_of "http://127.0.0.1:$PPORT/ok$i")" = 200 ]
	done
	[ "$(status_of "http://127.0.0.1:$PPORT/forbidden")" = 403 ]
	[ "$(status_of "http://127.0.0.1:$PPORT/refused")" = 503 ]
	[ "$(csv_field fe FRONTEND stot)" -ge $((stot + 5)) ]
	[ "$(csv_field fe FRONTEND req_tot)" -ge $((req + 5)) ]
	[ "$(csv_field fe FRONTEND hrsp_2xx)" -ge 3 ]
	[ "$(csv_field fe FRONTEND hrsp_4xx)" -ge 1 ]
	[ "$(csv_field fe FRONTEND hrsp_5xx)" -ge 1 ]
	[ "$(csv_field fe FRONTEND dreq)" -eq 1 ]
	[ "$(csv_field fe FRONTEND bin)" -gt "$bin" ]
	[ "$(csv_field fe FRONTEND bout)" -gt "$bout" ]
	[ "$(csv_field www BACKEND stot)" -eq 3 ]
	[ "$(csv_field www BACKEND lbtot)" -eq 3 ]
	[ "$(csv_field www BACKEND hrsp_2xx)" -eq 3 ]
	[ "$(csv_field www BACKEND bout)" -gt 0 ]
	# the refusing server: a connect error, and the retry
	[ "$(csv_field refused BACKEND econ)" -eq 1 ]
	[ "$(csv_field refused BACKEND wretr)" -eq 1 ]
	[ "$(csv_field refused BACKEND hrsp_5xx)" -eq 1 ]
	[ "$(csv_field refused BACKEND lbtot)" -eq 1 ]
	[ "$(csv_field www BACKEND econ)" -eq 0 ]
}

@test "stats admin: the form, its POST applied to the checked servers, and 2.6's redirect back with ;st=" {
	stats_proxy <<-'EOF'
	    stats uri /st
	EOF
	# without stats admin: no form, and a POST is denied
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" != *'name="action"'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 's=www1&action=drain&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == "HTTP/1.1 303 See Other"* ]]
	[[ "$output" == *$'location: /st;st=DENY\r'* ]]
	sed -i 's|^    stats uri /st|    stats uri /st\n    stats admin if { src 127.0.0.1 }|' "$W/stats.cfg"
	stop_proxy
	start_proxy < "$W/stats.cfg"
	wait_for 50 sh -c "curl -s 'http://127.0.0.1:$PPORT/st' | grep -q 'class=\"active_up\"><td><input type=\"checkbox\" name=\"s\" value=\"www1\">'"
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *'<select name="action">'* ]]
	[[ "$output" == *'<input type="checkbox" name="s" value="www1">'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 's=www1&action=drain&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'location: /st;st=DONE\r'* ]]
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st;st=DONE"
	[[ "$output" == *"Action processed successfully."* ]]
	[[ "$output" == *'<tr class="draining"><td><input type="checkbox" name="s" value="www1"></td><td class="name">www1</td>'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 's=www1&action=ready&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'location: /st;st=DONE\r'* ]]
	run curl -s --max-time 5 "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *'<tr class="active_up"><td><input type="checkbox" name="s" value="www1">'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 's=nosuch&action=drain&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'location: /st;st=ERRP\r'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 'action=drain&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'location: /st;st=NONE\r'* ]]
	run curl -s -D - -o /dev/null --max-time 5 -d 's=www1&action=bogus&b=www' "http://127.0.0.1:$PPORT/st"
	[[ "$output" == *$'location: /st;st=ERRP\r'* ]]
}

# chromium_run ARGS...: headless Chromium with its own profile in $W,
# under a timeout; skipped (saying so) when it is not installed.
chromium_run() {
	local chrome
	chrome=$(command -v chromium || command -v chromium-browser) ||
		skip "chromium is not installed (CI installs Debian's chromium)"
	timeout -k 5 90 "$chrome" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-dev-shm-usage \
		--user-data-dir="$W/chrome" "$@" 2> "$W/chrome.err"
}

@test "headless Chromium renders the page: the DOM shows the servers and their states, the screenshot is not blank" {
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null ||
		skip "chromium is not installed (CI installs Debian's chromium)"
	stats_proxy <<-'EOF'
	    stats uri /st
	EOF
	# servers start "UP 1/3" (going down) until their checks have risen,
	# as in 2.6; the dead one goes DOWN at its first failed check
	wait_for 50 sh -c "curl -s 'http://127.0.0.1:$PPORT/st' | grep -q 'active_down' &&
		curl -s 'http://127.0.0.1:$PPORT/st' | grep -q '<tr class=\"active_up\"><td class=\"name\">www1<'"
	chromium_run --dump-dom "http://127.0.0.1:$PPORT/st" > "$W/dom.html"
	grep -q '<title>Statistics Report for HAProxy</title>' "$W/dom.html"
	grep -qE '<tr class="active_up"><td class="name">www1</td>.*<td class="status">([0-9a-z]+ )?UP</td>' "$W/dom.html"
	grep -qE '<tr class="active_down"><td class="name">d1</td>.*<td class="status">([0-9a-z]+ )?DOWN</td>' "$W/dom.html"
	chromium_run --window-size=1024,768 --screenshot="$W/shot.png" \
		"http://127.0.0.1:$PPORT/st" > /dev/null
	[ -s "$W/shot.png" ]
	# decode the PNG (python3's zlib) and count its colours
	run python3 - "$W/shot.png" <<-'PY'
	import struct, sys, zlib
	data = open(sys.argv[1], 'rb').read()
	assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
	pos, idat = 8, b''
	while pos < len(data):
	    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
	    body = data[pos + 8:pos + 8 + n]
	    if kind == b'IHDR':
	        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
	    elif kind == b'IDAT':
	        idat += body
	    pos += 12 + n
	assert depth == 8 and ctype in (2, 6), (depth, ctype)
	bpp = 3 if ctype == 2 else 4
	raw, stride = zlib.decompress(idat), w * bpp
	prev, colours, i = bytearray(stride), set(), 0
	for y in range(h):
	    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
	    i += 1 + stride
	    for x in range(stride):
	        a = line[x - bpp] if x >= bpp else 0
	        b = prev[x]
	        c = prev[x - bpp] if x >= bpp else 0
	        if f == 1: line[x] = (line[x] + a) & 255
	        elif f == 2: line[x] = (line[x] + b) & 255
	        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
	        elif f == 4:
	            p = a + b - c
	            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
	            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
	            line[x] = (line[x] + pr) & 255
	    if y % 4 == 0:
	        for x in range(0, stride, bpp * 2):
	            colours.add(bytes(line[x:x + 3]))
	    prev = line
	print(w, h, len(colours))
	# the page's greens, reds, blues and text: far more than a blank page
	sys.exit(0 if len(colours) > 20 else 1)
	PY
	echo "$output"
	[ "$status" -eq 0 ]
}
