#!/usr/bin/env bats
# Every keyword wsproxy knows, run through -c: the implemented ones with
# a valid argument, the unimplemented ones as wsproxy.conf.5 classes them
# (errors or warnings). The lists are read from the sources' keyword
# tables and from the man page, and compared, so that neither can drift.

load helpers

SOURCES=(config.c cfgwords.c cfgglobal.c cfgproxy.c cfgoption.c cfgserver.c cfgstats.c)
CONTEXTS=(global proxy option server bind stats timeout)

# src_list CONTEXT: "name SUPPORT" (DONE WARN REFUSE TLS) for each entry
# of the table between "BEGIN KEYWORDS CONTEXT" and "END KEYWORDS".
src_list() {
	(cd "$TOP" && awk -v ctx="$1" '
		index($0, "/* BEGIN KEYWORDS " ctx " */") { on = 1; next }
		/END KEYWORDS/ { on = 0 }
		on && match($0, /"[^"]+"/) {
			name = substr($0, RSTART + 1, RLENGTH - 2)
			sup = "DONE"
			if (match($0, /KW_[A-Z]+/))
				sup = substr($0, RSTART + 3, RLENGTH - 3)
			else if ($0 ~ /WARN\(/)
				sup = "WARN"
			else if ($0 ~ /REFUSE\(/)
				sup = "REFUSE"
			print name, sup
		}' "${SOURCES[@]}")
}

# man_list CONTEXT CLASS: the entries ("name [placeholder]") of the list
# of wsproxy.conf.5 between '.\" keywords: CONTEXT CLASS' and
# '.\" end of keywords'.
man_list() {
	sed -n "/^\.\\\\\" keywords: $1 $2\$/,/^\.\\\\\" end of keywords/p" \
		"$TOP/wsproxy.conf.5" |
	grep -E '^\.(Ic|Cm) ' |
	sed -E 's/^\.(Ic|Cm) //; s/ (Ic|Cm) / /g; s/ \.$//; s/ ,$//' |
	tr ',' '\n' |
	sed -E 's/^ +//; s/ +$//; s/ Ar / /' |
	if [ "$1" = stats ] || [ "$1" = timeout ]; then
		sed -E "s/^$1 //"
	else
		cat
	fi | grep -v '^$'
}

names() { awk '{ print $1 }' | sort -u; }

# The implemented keywords, each with a line that uses it validly: where
# the line goes (global, or the listen section) and the line.
DONE_SAMPLES='
global  chroot            chroot /
global  daemon            daemon
global  gid               gid 65534
global  group             group nogroup
global  log               log 127.0.0.1:514 local0 info
global  log-tag           log-tag front
global  maxconn           maxconn 100
global  pidfile           pidfile /run/wsproxy-test.pid
global  quiet             quiet
global  stats             stats timeout 30s
global  tune.bufsize      tune.bufsize 32768
global  tune.http.maxhdr  tune.http.maxhdr 50
global  tunnel-keeper     tunnel-keeper 2
global  uid               uid 65534
global  user              user nobody
proxy   acl               acl api path_beg /api
proxy   balance           balance leastconn
proxy   bind              bind 127.0.0.1:18082 accept-proxy
proxy   capture           capture request header Host len 20
proxy   clitimeout        clitimeout 10s
proxy   contimeout        contimeout 2s
proxy   default-server    default-server inter 3s fall 2 maxconn 10
proxy   default_backend   default_backend be
proxy   description       description the public side
proxy   errorfile         errorfile 503 /dev/null
proxy   errorloc          errorloc 503 /maint.html
proxy   errorloc302       errorloc302 503 /maint.html
proxy   errorloc303       errorloc303 503 /maint.html
proxy   http-check        http-check expect status 204
proxy   http-request      http-request set-header X-Proto http
proxy   http-response     http-response del-header Server
proxy   id                id 7
proxy   log               log global
proxy   maxconn           maxconn 100
proxy   mode              mode tcp
proxy   monitor           monitor fail if { path_beg /x }
proxy   monitor-uri       monitor-uri /healthz
proxy   no                no option httpclose
proxy   option            option forwardfor
proxy   redirect          redirect prefix /new code 301 if { path_beg /old }
proxy   redispatch        redispatch
proxy   retries           retries 2
proxy   server            server s2 127.0.0.1:2 check
proxy   srvtimeout        srvtimeout 10s
proxy   stats             stats enable
proxy   stick-table       stick-table type ip size 1k store conn_cur
proxy   tcp-request       tcp-request connection reject if { src 10.0.0.0/8 }
proxy   timeout           timeout client 3s
proxy   use_backend       use_backend be if { path_beg /x }
option  allbackups        option allbackups
option  dontlognull       option dontlognull
option  forceclose        option forceclose
option  forwardfor        option forwardfor except 127.0.0.0/8 header X-Client if-none
option  http-keep-alive   option http-keep-alive
option  http-server-close option http-server-close
option  httpchk           option httpchk GET /health HTTP/1.1
option  httpclose         option httpclose
option  httplog           option httplog
option  redispatch        option redispatch
option  tcplog            option tcplog
stats   admin             stats admin if { src 127.0.0.1 }
stats   auth              stats auth admin:secret
stats   enable            stats enable
stats   hide-version      stats hide-version
stats   realm             stats realm Admin
stats   refresh           stats refresh 10s
stats   scope             stats scope .
stats   show-desc         stats show-desc edge
stats   show-legends      stats show-legends
stats   show-node         stats show-node edge1
stats   uri               stats uri /stats
server  backup            server s2 127.0.0.1:2 backup
server  check             server s2 127.0.0.1:2 check
server  check-send-proxy  server s2 127.0.0.1:2 check check-send-proxy
server  disabled          server s2 127.0.0.1:2 disabled
server  downinter         server s2 127.0.0.1:2 check downinter 5s
server  enabled           server s2 127.0.0.1:2 enabled
server  fall              server s2 127.0.0.1:2 fall 5
server  fastinter         server s2 127.0.0.1:2 fastinter 500ms
server  id                server s2 127.0.0.1:2 id 12
server  inter             server s2 127.0.0.1:2 inter 1s
server  maxconn           server s2 127.0.0.1:2 maxconn 50
server  no-check          server s2 127.0.0.1:2 no-check
server  port              server s2 127.0.0.1:2 check port 8080
server  rise              server s2 127.0.0.1:2 rise 3
server  send-proxy        server s2 127.0.0.1:2 send-proxy
server  send-proxy-v2     server s2 127.0.0.1:2 send-proxy-v2
server  weight            server s2 127.0.0.1:2 weight 20
bind    accept-proxy      bind 127.0.0.1:18082 accept-proxy
bind    backlog           bind 127.0.0.1:18082 backlog 64
bind    id                bind 127.0.0.1:18082 id 3
bind    name              bind 127.0.0.1:18082 name public
timeout check             timeout check 2s
timeout client            timeout client 3s
timeout client-fin        timeout client-fin 1s
timeout connect           timeout connect 2s
timeout http-keep-alive   timeout http-keep-alive 1s
timeout http-request      timeout http-request 5s
timeout queue             timeout queue 5s
timeout server            timeout server 30s
timeout server-fin        timeout server-fin 1s
timeout tarpit            timeout tarpit 1s
timeout tunnel            timeout tunnel 1h
'

# Lines that draw a warning although their keyword is implemented.
WARNING_EXPECTED=''

# write_cfg PLACE LINE: the test file with LINE at line 2 (global) or
# line 10 (in a listen section); sets L to that line.
write_cfg() {
	local g='# -' p='# -'
	if [ "$1" = global ]; then g="$2"; L=2; else p="$2"; L=10; fi
	cat > "$W/t.cfg" <<-EOF
	global
	  $g
	defaults
	  mode http
	  timeout client 1s
	  timeout connect 1s
	  timeout server 1s
	listen px
	  bind 127.0.0.1:18080
	  $p
	backend be
	  server b1 127.0.0.1:1
	EOF
}

# line_for CONTEXT ENTRY: where and how an entry of the man page's lists
# is written.
line_for() {
	case "$1" in
	global) echo "global $2" ;;
	proxy|lines) echo "proxy $2" ;;
	option) echo "proxy option $2" ;;
	server) echo "proxy server sx 127.0.0.1:3 $2" ;;
	bind) echo "proxy bind 127.0.0.1:18081 $2" ;;
	stats) echo "proxy stats $2" ;;
	timeout) echo "proxy timeout $2 1s" ;;
	esac
}

@test "the man page's error and warning lists are exactly the keyword tables' refused and warned entries" {
	local fail=0 ctx want got
	for ctx in "${CONTEXTS[@]}"; do
		want=$(src_list "$ctx" | awk '$2 == "REFUSE" || $2 == "TLS"' |
			names)
		got=$(man_list "$ctx" errors | names)
		if [ "$want" != "$got" ]; then
			echo "$ctx errors: sources vs wsproxy.conf.5:"
			diff <(echo "$want") <(echo "$got") || true
			fail=1
		fi
		want=$(src_list "$ctx" | awk '$2 == "WARN"' | names)
		# tune.* is a prefix rule, not a table entry
		got=$(man_list "$ctx" warnings | grep -v '\.\*$' | names)
		if [ "$want" != "$got" ]; then
			echo "$ctx warnings: sources vs wsproxy.conf.5:"
			diff <(echo "$want") <(echo "$got") || true
			fail=1
		fi
	done
	[ "$fail" -eq 0 ]
	# the extraction itself works
	[ "$(src_list proxy | grep -c .)" -gt 70 ]
	[ "$(man_list proxy errors | grep -c .)" -gt 30 ]
	man_list global warnings | grep -qx 'tune\.\*'
	man_list server errors | grep -qx 'maxqueue n'
}

@test "every implemented keyword has a valid sample here, and no sample names a keyword that is not implemented" {
	local fail=0 ctx want got
	for ctx in "${CONTEXTS[@]}"; do
		want=$(src_list "$ctx" | awk '$2 == "DONE"' | names)
		got=$(awk -v c="$ctx" '$1 == c { print $2 }' <<< "$DONE_SAMPLES" |
			sort -u)
		if [ "$want" != "$got" ]; then
			echo "$ctx implemented: sources vs DONE_SAMPLES:"
			diff <(echo "$want") <(echo "$got") || true
			fail=1
		fi
	done
	[ "$fail" -eq 0 ]
}

@test "every implemented keyword loads with a valid argument, without a diagnostic" {
	local fail=0 ctx name sample place
	while read -r ctx name sample; do
		[ -n "$ctx" ] || continue
		place=proxy
		[ "$ctx" = global ] && place=global
		write_cfg "$place" "$sample"
		run "$WSPROXY" -c -f "$W/t.cfg"
		if [ "$status" -ne 0 ]; then
			echo "$ctx $name: '$sample' exits $status: $output"
			fail=1
		elif grep -q "t.cfg:$L: " <<< "$output" &&
		    ! grep -qx "$name" <<< "$WARNING_EXPECTED"; then
			echo "$ctx $name: '$sample': $output"
			fail=1
		fi
	done <<< "$DONE_SAMPLES"
	[ "$fail" -eq 0 ]
}

# check_listed KIND CHECK: runs every keyword wsproxy.conf.5 lists as KIND
# (errors or warnings) through -c, each in its own file, and CHECK (a
# function of $status and $output) judges each; NLISTED counts them.
check_listed() {
	local fail=0 ctx entry place line
	NLISTED=0
	for ctx in "${CONTEXTS[@]}" lines; do
		while read -r entry; do
			read -r place line <<< "$(line_for "$ctx" "$entry")"
			write_cfg "$place" "$line"
			run "$WSPROXY" -c -f "$W/t.cfg"
			NLISTED=$((NLISTED + 1))
			if ! "$2"; then
				echo "$ctx '$line': status $status: $output"
				fail=1
			fi
		done < <(man_list "$ctx" "$1")
	done
	[ "$fail" -eq 0 ]
}

# An error: exit 1, the line named without "warning", never valid (a
# keyword 2.1 removed gets 2.6's "The 'reqrep' directive ...").
refused_at_line() {
	[ "$status" -eq 1 ] && grep -qE "t.cfg:$L: ('|The ')" <<< "$output" &&
	    ! grep -q "t.cfg:$L: warning" <<< "$output" &&
	    [[ "$output" != *"Configuration file is valid"* ]]
}

warned_at_line() {
	[ "$status" -eq 0 ] && grep -q "t.cfg:$L: warning: " <<< "$output"
}

@test "every keyword listed as an error in wsproxy.conf.5 fails -c with FILE:LINE" {
	check_listed errors refused_at_line
	[ "$NLISTED" -ge 60 ]
}

@test "every keyword listed as a warning in wsproxy.conf.5 loads with a warning naming its line" {
	check_listed warnings warned_at_line
	[ "$NLISTED" -gt 85 ]
}

# refused_in_proxy LINE MESSAGE: the line, in a proxy, fails -c with
# MESSAGE after its FILE:LINE.
refused_in_proxy() {
	write_cfg proxy "$1"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:10: $2"* ]]
}

@test "a refused keyword says it is not implemented and what ignoring it would do" {
	refused_in_proxy 'tcp-response content reject if { src 10.0.0.0/8 }' \
	    "'tcp-response' is not implemented by wsproxy, and ignoring it would let through or change what this line denies, limits, authenticates, redirects or rewrites"
	# the 1.x header rules 2.1 removed: 2.6's error, naming what replaces
	# each (wsproxy has them all)
	refused_in_proxy 'reqrep ^([^\ :]*)\ /websockets/(.*) \1\ /\2' \
	    "The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."
	refused_in_proxy 'rspidel ^Server:.*' \
	    "The 'rspidel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead."
	refused_in_proxy 'block if { src 10.0.0.0/8 }' \
	    "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."
	refused_in_proxy 'bind 127.0.0.1:18443 ssl crt /etc/ssl/site.pem' \
	    "'bind' : 'ssl' cannot be honoured: wsproxy speaks no TLS"
}

@test "spread-checks, listed late in its table, is known (every table is checked sorted at start)" {
	write_cfg global 'spread-checks 5'
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"t.cfg:2: warning: 'spread-checks' is not supported by wsproxy; ignored."* ]]
}

@test "default-server: its parameters start each later server; one from defaults is inherited; id is refused" {
	cat > "$W/t.cfg" <<-'EOF'
	defaults
	  default-server inter 0s
	  default-server maxqueue 10
	backend a
	  default-server id 3
	  default-server bogus 1
	  server s1 127.0.0.1:1
	frontend f
	  bind 127.0.0.1:18080
	  default-server inter 1s
	EOF
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: 'inter' has to be > 0."* ]]
	[[ "$output" == *"t.cfg:3: 'default-server' : 'maxqueue' is not implemented by wsproxy"* ]]
	[[ "$output" == *"t.cfg:5: 'default-server' : 'id' is specific to each server."* ]]
	[[ "$output" == *"t.cfg:6: 'default-server' : unknown keyword 'bogus'."* ]]
	[[ "$output" == *"t.cfg:10: warning: 'default-server' ignored because frontend 'f' has no backend capability."* ]]
}

@test "default-server disabled (from defaults) keeps servers out until a server line says enabled" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	    default-server disabled
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend on if { path_beg /on }
	    default_backend off
	backend off
	    server w1 127.0.0.1:$BPORT_www
	backend on
	    server w1 127.0.0.1:$BPORT_www enabled
	EOF
	run http_get /off
	[[ "$output" == "HTTP/1.1 503"* ]]
	run http_get /on
	[[ "$output" == "HTTP/1.1 200"* ]]
	[[ "$output" == *"backend=www"* ]]
}

@test "default-server send-proxy reaches the server lines after it, not those before" {
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend after if { path_beg /after }
	    default_backend before
	backend before
	    server w1 127.0.0.1:$BPORT_www
	backend after
	    default-server send-proxy
	    server w1 127.0.0.1:$BPORT_www
	EOF
	run http_get /before
	[[ "$output" == "HTTP/1.1 200"* ]]
	! grep -q '^PROXY ' "$W/www.log"
	http_get /after > /dev/null || true
	wait_for_line "$W/www.log" '^PROXY TCP4 '
}
