#!/usr/bin/env bats
# The runtime socket ("stats socket" in global): its file, levels and
# timeout, HAProxy 2.6's commands and replies (reference §14.5), the
# ';'-separated lines and the prompt mode, and the CSV of "show stat"
# (§14.3) checked column by column. Drain, maintenance, weights and
# shutdown sessions on live traffic are in drain.bats.

load helpers

# the runtime socket is spoken to with socat
TEST_NEEDS=socat

# cli SOCKET LINE: one command line, the whole answer on stdout.
cli() {
	printf '%s\n' "$2" | socat -t 5 stdio "UNIX-CONNECT:$1"
}

# cli_proxy [extra global lines]: backend "be" with a and b (started),
# admin, operator and user sockets in $W, stats timeout 2s; the global
# section's extra lines on stdin. Process messages on $W/proxy.err.
cli_proxy() {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	start_backend b
	free_ports 1; PPORT=${PORTS[0]}
	{ echo "global"
	  echo "    stats socket $W/admin.sock mode 600 level admin"
	  echo "    stats socket $W/oper.sock"
	  echo "    stats socket $W/user.sock level user"
	  echo "    stats timeout 2s"
	  cat
	  defaults_section
	  cat <<-EOF
	frontend fe
	    bind 127.0.0.1:$PPORT
	    default_backend be
	backend be
	    server a 127.0.0.1:$BPORT_a
	    server b 127.0.0.1:$BPORT_b weight 4
	EOF
	} > "$W/cli.cfg"
	start_proxy < "$W/cli.cfg"
}

# ---- configuration ----

# bad_config "global lines" MESSAGE: wsproxy -c refuses it with
# "FILE:LINE: MESSAGE" (line 2: the first line after "global").
bad_config() {
	printf 'global\n%s\nfrontend fe\n    bind 127.0.0.1:1\n' "$1" > "$W/bad.cfg"
	run "$WSPROXY" -c -f "$W/bad.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$W/bad.cfg:2: "*"$2"* ]] || { echo "$output"; return 1; }
}

@test "stats socket and stats timeout: 2.6's parse errors, FILE:LINE" {
	bad_config "stats socket" \
		"'stats socket' in global section expects an address or a path to a UNIX socket"
	bad_config "stats bogus" \
		"'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got 'bogus')"
	bad_config "stats socket $W/s level root" \
		"'level' only supports 'user', 'operator', and 'admin'"
	bad_config "stats socket $W/s frob 1" "unknown keyword 'frob'"
	bad_config "stats socket $W/s user nosuchuser" "unknown user name 'nosuchuser'"
	bad_config "stats socket $W/s mode 999" "not a valid octal mode"
	bad_config "stats socket ipv4@127.0.0.1:9999" "only a UNIX socket path is supported"
	bad_config "stats timeout 0" "'stats timeout' expects a positive value"
	bad_config "stats timeout 10x" "stats timeout"
	printf 'global\n    stats socket %s level admin\n    stats timeout 30s\nfrontend fe\n    bind 127.0.0.1:1\n' \
		"$W/ok.sock" > "$W/ok.cfg"
	run "$WSPROXY" -c -f "$W/ok.cfg"
	[ "$status" -eq 0 ]
	# -c creates nothing
	[ ! -e "$W/ok.sock" ]
}

@test "inetd mode refuses a stats socket" {
	printf 'global\n    stats socket %s\nfrontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    server s 127.0.0.1:1\n' \
		"$W/i.sock" > "$W/i.cfg"
	run "$WSPROXY" -i -F fe -f "$W/i.cfg" < /dev/null
	[ "$status" -ne 0 ]
	[ ! -e "$W/i.sock" ]
}

# ---- the file ----

@test "the socket is made with the mode and owner asked, and removed on exit" {
	cli_proxy <<-EOF
	    stats socket $W/nobody.sock mode 640 user nobody group nogroup level user
	EOF
	[ -S "$W/admin.sock" ]
	[ "$(stat -c %a "$W/admin.sock")" = 600 ]
	[ "$(stat -c '%a %U %G' "$W/nobody.sock")" = "640 nobody nogroup" ]
	# no temporary name is left behind
	[ -z "$(ls "$W" | grep '\.tmp$')" ]
	stop_proxy
	[ ! -e "$W/admin.sock" ]
	[ ! -e "$W/nobody.sock" ]
	[ ! -e "$W/user.sock" ]
}

@test "SIGINT removes the sockets too; a stale file is replaced at start" {
	daemon_only "signals"
	: > "$W/admin.sock"     # a file left by a dead process
	cli_proxy < /dev/null
	[ -S "$W/admin.sock" ]
	kill -INT "$PROXY_PID"
	wait "$PROXY_PID" || true
	[ ! -e "$W/admin.sock" ]
}

@test "a reload keeps a socket, creates a new one and removes a vanished one" {
	cli_proxy < /dev/null
	ino=$(stat -c %i "$W/admin.sock")
	sed -i "s#stats socket $W/user.sock level user#stats socket $W/new.sock level user#" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reloaded"
	[ "$(stat -c %i "$W/admin.sock")" = "$ino" ]
	[ -S "$W/new.sock" ]
	[ ! -e "$W/user.sock" ]
	run cli "$W/new.sock" "get weight be/b"
	[ "$output" = "4 (initial 4)" ]
	run cli "$W/admin.sock" "get weight be/b"
	[ "$output" = "4 (initial 4)" ]
}

@test "a reload whose new socket cannot be made keeps the running configuration" {
	cli_proxy < /dev/null
	sed -i "s#stats socket $W/user.sock level user#stats socket $W/nodir/x.sock level user#" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" "reload: still running the previous configuration"
	grep -q "stats socket $W/nodir/x.sock (line 4): bind" "$W/proxy.err"
	# every socket as before
	run cli "$W/user.sock" "get weight be/a"
	[ "$output" = "1 (initial 1)" ]
	run cli "$W/admin.sock" "get weight be/a"
	[ "$output" = "1 (initial 1)" ]
	run who
	[ -n "$output" ]
}

# ---- the protocol ----

@test "every answer ends with an empty line; a silent success is just one" {
	cli_proxy < /dev/null
	cli "$W/admin.sock" "set server be/a state ready" > "$W/out"
	[ "$(od -An -c "$W/out" | tr -d ' ')" = '\n' ]
	cli "$W/admin.sock" "get weight be/b" > "$W/out"
	[ "$(cat "$W/out")" = "4 (initial 4)" ]
	[ "$(tail -c 2 "$W/out" | od -An -c | tr -d ' ')" = '\n\n' ]
}

@test "several commands on one line with ';', each answer after the other" {
	cli_proxy < /dev/null
	run cli "$W/admin.sock" "get weight be/a; get weight be/b;get weight be/x"
	[ "${lines[0]}" = "1 (initial 1)" ]
	[ "${lines[1]}" = "4 (initial 4)" ]
	[ "${lines[2]}" = "No such server." ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "prompt mode: '> ' after each line, the connection stays until quit" {
	cli_proxy < /dev/null
	{ echo prompt; sleep 0.3; echo "get weight be/a"; sleep 0.3
	  echo "bogus"; sleep 0.3; echo "get weight be/b"; sleep 0.3
	  echo quit; sleep 1; echo "get weight be/a"; } |
		socat -t 5 stdio "UNIX-CONNECT:$W/admin.sock" > "$W/out" || true
	printf '\n> 1 (initial 1)\n\n> Unknown command' > "$W/want"
	cmp -n "$(stat -c %s "$W/want")" "$W/want" "$W/out"
	grep -q '^> 4 (initial 4)$' "$W/out"
	# after quit nothing more was answered
	[ "$(grep -c 'initial 1' "$W/out")" -eq 1 ]
}

@test "without prompt the connection closes after the first line" {
	cli_proxy < /dev/null
	run bash -c "printf 'get weight be/a\nget weight be/b\n' |
		socat -t 5 stdio UNIX-CONNECT:$W/admin.sock"
	[ "$output" = "1 (initial 1)" ]
}

@test "a silent client is dropped after stats timeout; others are served meanwhile" {
	cli_proxy < /dev/null
	start=$(date +%s%N)
	# -u: only reads, and ends at the socket's EOF
	socat -u "UNIX-CONNECT:$W/admin.sock" STDOUT &
	silent=$!
	STARTED_PIDS+=("$silent")
	# the accept loop is not held: the socket and the proxy answer
	run cli "$W/user.sock" "get weight be/a"
	[ "$output" = "1 (initial 1)" ]
	run who
	[ -n "$output" ]
	wait "$silent" || true
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "elapsed $elapsed ms"
	[ "$elapsed" -ge 1800 ] && [ "$elapsed" -lt 6000 ]
}

@test "an unknown command lists the likely ones; the prompt goes on" {
	cli_proxy < /dev/null
	run cli "$W/user.sock" "show bogus"
	[ "${lines[0]}" = "Unknown command, but maybe one of the following ones is a better match:" ]
	[[ "$output" == *"show info "* ]]
	[[ "$output" == *"show stat "* ]]
	[[ "$output" != *"get weight"* ]]
	run cli "$W/user.sock" "frobnicate"
	[ "${lines[0]}" = "Unknown command, but maybe one of the following ones is a better match:" ]
	[[ "$output" == *"help [<command>]"* ]]
}

@test "help lists the commands of the socket's level only" {
	cli_proxy < /dev/null
	run cli "$W/user.sock" help
	[ "${lines[0]}" = "The following commands are valid at this level:" ]
	[[ "$output" == *"show info"* ]]
	[[ "$output" != *"set server"* ]]
	[[ "$output" != *"clear table"* ]]
	run cli "$W/oper.sock" help
	[[ "$output" == *"clear table"* ]]
	[[ "$output" != *"set server"* ]]
	run cli "$W/admin.sock" help
	[[ "$output" == *"set server <bk>/<srv>"* ]]
	[[ "$output" == *"shutdown sessions server"* ]]
	[[ "$output" == *"disable health"* ]]
}

@test "levels: user < operator < admin, Permission denied above it" {
	cli_proxy < /dev/null
	for sock in user oper; do
		for cmd in "disable server be/a" "enable server be/a" \
		    "set server be/a state drain" "set server be/a weight 2" \
		    "set weight be/a 2" "disable health be/a" \
		    "enable health be/a" "shutdown sessions server be/a"; do
			run cli "$W/$sock.sock" "$cmd"
			[ "$output" = "Permission denied" ] || { echo "$sock: $cmd: $output"; return 1; }
		done
	done
	run cli "$W/user.sock" "clear table fe"
	[ "$output" = "Permission denied" ]
	run cli "$W/oper.sock" "clear table nosuch"
	[ "$output" = "No such table" ]
	# reading is for everyone
	for sock in user oper admin; do
		run cli "$W/$sock.sock" "get weight be/a"
		[ "$output" = "1 (initial 1)" ]
	done
	# nothing changed
	run cli "$W/admin.sock" "show servers state be"
	[[ "${lines[2]}" == "2 be 1 a 127.0.0.1 2 0 1 1 "* ]]
}

# ---- commands ----

@test "show info" {
	cli_proxy < /dev/null
	who > /dev/null
	run cli "$W/user.sock" "show info"
	[ "${lines[0]}" = "Name: wsproxy" ]
	[[ "${lines[1]}" == "Version: "* ]]
	[[ "$output" == *$'\nPid: '"$PROXY_PID"$'\n'* ]]
	[[ "$output" == *$'\nUptime: 0d 0h00m'* ]]
	[[ "$output" =~ $'\n'Uptime_sec:\ [0-9]+$'\n' ]]
	[[ "$output" == *$'\nMaxconn: 2000\n'* ]]
	[[ "$output" == *$'\nCurrConns: 0\n'* ]]
	[[ "$output" == *$'\nListeners: 1\n'* ]]
	[[ "$output" =~ $'\n'node:\ [^$'\n']+$'\n' ]]
}

@test "show servers state: the line of each server, admin state as a bit mask" {
	cli_proxy < /dev/null
	run cli "$W/user.sock" "show servers state"
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port" ]
	[[ "${lines[2]}" =~ ^2\ be\ 1\ a\ 127\.0\.0\.1\ 2\ 0\ 1\ 1\ [0-9]+\ 0\ 0\ 2\ 0\ 0\ 0\ 0\ -\ $BPORT_a\ -\ 0\ 0\ -\ -\ 0$ ]]
	[[ "${lines[3]}" =~ ^2\ be\ 2\ b\ 127\.0\.0\.1\ 2\ 0\ 4\ 4\  ]]
	cli "$W/admin.sock" "disable server be/a"
	run cli "$W/user.sock" "show servers state be"
	[[ "${lines[2]}" =~ ^2\ be\ 1\ a\ 127\.0\.0\.1\ 0\ 1\ 1\ 1\  ]]
	cli "$W/admin.sock" "set server be/b state drain"
	run cli "$W/user.sock" "show servers state be"
	[[ "${lines[3]}" =~ ^2\ be\ 2\ b\ 127\.0\.0\.1\ 2\ 8\ 4\ 4\  ]]
	cli "$W/admin.sock" "enable server be/a"
	run cli "$W/user.sock" "show servers state be"
	[[ "${lines[2]}" =~ ^2\ be\ 1\ a\ 127\.0\.0\.1\ 2\ 0\  ]]
	run cli "$W/user.sock" "show servers state nosuch"
	[ "$output" = "Can't find backend." ]
}

@test "server commands: errors as 2.6 words them" {
	cli_proxy < /dev/null
	run cli "$W/admin.sock" "disable server be"
	[ "$output" = "Require 'backend/server'." ]
	run cli "$W/admin.sock" "set server nosuch/a state drain"
	[ "$output" = "No such backend." ]
	run cli "$W/admin.sock" "set server fe/a state drain"
	[ "$output" = "No such backend." ]
	run cli "$W/admin.sock" "enable health be/zz"
	[ "$output" = "No such server." ]
	run cli "$W/admin.sock" "set server be/a state sleepy"
	[ "$output" = "'set server <srv> state' expects 'ready', 'drain' and 'maint'." ]
	run cli "$W/admin.sock" "set server be/a weight 300"
	[ "$output" = "Absolute weight can only be between 0 and 256 inclusive." ]
	run cli "$W/admin.sock" "set server be/a weight -1"
	[ "$output" = "Absolute weight can only be between 0 and 256 inclusive." ]
	run cli "$W/admin.sock" "set server be/a weight"
	[ "$output" = "Require <weight> or <weight%>." ]
	run cli "$W/admin.sock" "set server be/a addr 127.0.0.2"
	[[ "$output" == "'set server <srv>' only supports"* ]]
	run cli "$W/admin.sock" "get weight be"
	[ "$output" = "Require 'backend/server'." ]
	run cli "$W/user.sock" "show stat typed"
	[[ "$output" == *"not supported"* ]]
}

@test "weights: set server weight N and N%, set weight, get weight" {
	cli_proxy < /dev/null
	run cli "$W/admin.sock" "set server be/b weight 10"
	[ "$output" = "" ]
	run cli "$W/user.sock" "get weight be/b"
	[ "$output" = "10 (initial 4)" ]
	cli "$W/admin.sock" "set server be/b weight 50%"
	run cli "$W/user.sock" "get weight be/b"
	[ "$output" = "2 (initial 4)" ]
	cli "$W/admin.sock" "set weight be/a 7"
	run cli "$W/user.sock" "get weight be/a"
	[ "$output" = "7 (initial 1)" ]
	run cli "$W/user.sock" "show servers state be"
	[[ "${lines[2]}" =~ ^2\ be\ 1\ a\ 127\.0\.0\.1\ 2\ 0\ 7\ 1\  ]]
}

@test "a static algorithm only takes 0% and 100%, as in 2.6" {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	global
	    stats socket $W/admin.sock level admin
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    default_backend be
	backend be
	    balance static-rr
	    server a 127.0.0.1:$BPORT_a weight 3
	EOF
	run cli "$W/admin.sock" "set server be/a weight 5"
	[ "$output" = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'." ]
	run cli "$W/admin.sock" "set server be/a weight 0%"
	[ "$output" = "" ]
	run cli "$W/admin.sock" "get weight be/a"
	[ "$output" = "0 (initial 3)" ]
	run cli "$W/admin.sock" "set server be/a weight 100%"
	[ "$output" = "" ]
	run cli "$W/admin.sock" "get weight be/a"
	[ "$output" = "3 (initial 3)" ]
}

@test "state changes are logged in 2.6's words" {
	cli_proxy < /dev/null
	cli "$W/admin.sock" "set server be/a state drain"
	wait_for_line "$W/proxy.err" "Server be/a enters drain state\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\."
	cli "$W/admin.sock" "set server be/a state ready"
	wait_for_line "$W/proxy.err" "Server be/a is UP \(leaving forced drain\)\."
	cli "$W/admin.sock" "set server be/b state maint"
	wait_for_line "$W/proxy.err" "Server be/b is going DOWN for maintenance\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\."
	cli "$W/admin.sock" "set server be/a state maint"
	wait_for_line "$W/proxy.err" "Server be/a is going DOWN for maintenance\. 0 active and 0 backup servers left\."
	wait_for_line "$W/proxy.err" "backend be has no server available!"
	cli "$W/admin.sock" "set server be/b state ready"
	wait_for_line "$W/proxy.err" "Server be/b is UP/READY \(leaving forced maintenance\)\."
	# the same command twice says it once
	cli "$W/admin.sock" "set server be/b state ready"
	sleep 0.2
	[ "$(grep -c 'be/b is UP/READY' "$W/proxy.err")" -eq 1 ]
}

@test "a backup server's messages say so" {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	start_backend k
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	global
	    stats socket $W/admin.sock level admin
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    default_backend be
	backend be
	    server a 127.0.0.1:$BPORT_a
	    server k 127.0.0.1:$BPORT_k backup
	EOF
	cli "$W/admin.sock" "disable server be/a"
	wait_for_line "$W/proxy.err" "Server be/a is going DOWN for maintenance\. 0 active and 1 backup servers left\. Running on backup\."
	cli "$W/admin.sock" "set server be/k state drain"
	wait_for_line "$W/proxy.err" "Backup Server be/k enters drain state\."
}

# ---- show stat: the CSV ----

CSV_HEADER='# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,'

# csv_field LINE NAME: the value of column NAME in the CSV line LINE.
csv_field() {
	awk -F, -v line="$1" -v name="$2" 'BEGIN {
		n = split(substr(ENVIRON["CSV_HEADER"], 3), h, ",")
		split(line, v, ",")
		for (i = 1; i <= n; i++) if (h[i] == name) { print v[i]; exit }
		exit 1 }'
}
export CSV_HEADER

@test "show stat: 2.6's header, rows in order, 128 fields each ending with a comma" {
	cli_proxy < /dev/null
	run cli "$W/user.sock" "show stat"
	[ "${lines[0]}" = "$CSV_HEADER" ]
	[[ "${lines[1]}" == "fe,FRONTEND,"* ]]
	[[ "${lines[2]}" == "be,a,"* ]]
	[[ "${lines[3]}" == "be,b,"* ]]
	[[ "${lines[4]}" == "be,BACKEND,"* ]]
	[ "${#lines[@]}" -eq 5 ]
	for i in 0 1 2 3 4; do
		[ "$(awk -F, '{ print NF }' <<< "${lines[$i]}")" -eq 129 ]
		[[ "${lines[$i]}" == *, ]]
	done
	# the columns after "-" are empty
	[[ "${lines[2]}" == *",,,,,,,,,,,,,,,,,,,,,,,,," ]]
}

@test "show stat: a server row checked column by column" {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	free_ports 2; PPORT=${PORTS[0]}; DEAD=${PORTS[1]}
	start_proxy <<-EOF
	global
	    stats socket $W/admin.sock level admin
	$(defaults_section)
	listen web
	    bind 127.0.0.1:$PPORT
	    balance leastconn
	    server a 127.0.0.1:$BPORT_a check inter 100 rise 2 fall 3 maxconn 7
	    server d 127.0.0.1:$DEAD check inter 100 rise 2 fall 3 backup
	    server n 127.0.0.1:$DEAD weight 3 disabled
	EOF
	wait_for_line "$W/proxy.err" "Server web/d is DOWN"
	for i in 1 2 3; do who > /dev/null; done
	run cli "$W/admin.sock" "show stat"
	[[ "${lines[1]}" == "web,FRONTEND,"* ]]
	[[ "${lines[5]}" == "web,BACKEND,"* ]]
	a=${lines[2]} d=${lines[3]} n=${lines[4]}
	declare -A want=(
		[pxname]=web [svname]=a [qcur]=0 [qmax]=0 [scur]=0 [slim]=7
		[dreq]= [ereq]= [econ]=0 [eresp]=0 [wretr]=0
		[wredis]=0 [status]=UP [weight]=1 [act]=1 [bck]=0 [chkfail]=0
		[chkdown]=0 [downtime]=0 [qlimit]= [pid]=1 [iid]=1 [sid]=1
		[throttle]= [tracked]= [type]=2 [rate_lim]=
		[check_status]=L4OK [check_code]= [hrsp_5xx]=0
		[check_desc]="Layer4 check passed"
		[check_rise]=2 [check_fall]=3 [check_health]=4
		[addr]="127.0.0.1:$BPORT_a" [mode]=http [algo]= [uweight]=1
		[agent_status]= [cookie]= [comp_in]=
	)
	for col in "${!want[@]}"; do
		got=$(csv_field "$a" "$col")
		[ "$got" = "${want[$col]}" ] || { echo "a.$col: '$got' != '${want[$col]}'"; return 1; }
	done
	# the counters: the three requests, each on its own server connection
	for col in stot lbtot hrsp_2xx; do
		[ "$(csv_field "$a" "$col")" = 3 ] || { echo "a.$col"; return 1; }
	done
	[ "$(csv_field "$a" hrsp_4xx)" = 0 ]
	[ "$(csv_field "$a" smax)" -ge 1 ]
	[ "$(csv_field "$a" bin)" -gt 0 ]
	[ "$(csv_field "$a" bout)" -gt "$(csv_field "$a" bin)" ]
	for col in rate rate_max; do
		[[ "$(csv_field "$a" "$col")" =~ ^[0-9]+$ ]] || { echo "a.$col"; return 1; }
	done
	[ "$(csv_field "${lines[1]}" req_tot)" = 3 ]
	[ "$(csv_field "${lines[1]}" stot)" = 3 ]
	[ "$(csv_field "$d" stot)" = 0 ]
	[[ "$(csv_field "$a" check_duration)" =~ ^[0-9]+$ ]]
	[[ "$(csv_field "$a" lastchg)" =~ ^[0-9]+$ ]]
	[[ "$(csv_field "$a" lastsess)" =~ ^-?[0-9]+$ ]]
	# the dead backup: DOWN, L4CON, counted
	[ "$(csv_field "$d" status)" = DOWN ]
	[ "$(csv_field "$d" check_status)" = L4CON ]
	[ "$(csv_field "$d" check_desc)" = "Layer4 connection problem" ]
	[ "$(csv_field "$d" bck)" = 1 ]
	[ "$(csv_field "$d" act)" = 0 ]
	[ "$(csv_field "$d" chkdown)" = 1 ]
	[ "$(csv_field "$d" chkfail)" -ge 1 ]
	[ "$(csv_field "$d" lastsess)" = -1 ]
	[ "$(csv_field "$d" check_health)" = 0 ]
	# "disabled" without check: MAINT, no check columns
	[ "$(csv_field "$n" status)" = MAINT ]
	[ "$(csv_field "$n" weight)" = 3 ]
	[ "$(csv_field "$n" check_status)" = "" ]
	[ "$(csv_field "$n" chkfail)" = "" ]
	# the backend: the usable servers
	b=${lines[5]}
	[ "$(csv_field "$b" status)" = UP ]
	[ "$(csv_field "$b" act)" = 1 ]
	[ "$(csv_field "$b" bck)" = 0 ]
	[ "$(csv_field "$b" weight)" = 1 ]
	[ "$(csv_field "$b" algo)" = leastconn ]
	[ "$(csv_field "$b" type)" = 1 ]
	[ "$(csv_field "$b" sid)" = 0 ]
	f=${lines[1]}
	[ "$(csv_field "$f" status)" = OPEN ]
	[ "$(csv_field "$f" type)" = 0 ]
	[ "$(csv_field "$f" slim)" = 2000 ]
	[ "$(csv_field "$f" check_status)" = "" ]
}

@test "show stat status: DRAIN, MAINT, no check, UP n/fall" {
	daemon_only "the runtime socket needs the daemon"
	start_backend a
	start_backend b
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	global
	    stats socket $W/admin.sock level admin
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    default_backend be
	backend be
	    server a 127.0.0.1:$BPORT_a check inter 700 rise 1 fall 3
	    server b 127.0.0.1:$BPORT_b
	EOF
	status() {
		cli "$W/admin.sock" "show stat" | awk -F, -v s="$1" '$2 == s { print $18 }'
	}
	is_status() {
		[ "$(status "$1")" = "$2" ]
	}
	wait_for 30 is_status a UP
	[ "$(status b)" = "no check" ]
	cli "$W/admin.sock" "set server be/b state drain"
	[ "$(status b)" = DRAIN ]
	cli "$W/admin.sock" "set server be/b state maint"
	[ "$(status b)" = MAINT ]
	cli "$W/admin.sock" "disable health be/a"
	[ "$(status a)" = "no check" ]
	cli "$W/admin.sock" "enable health be/a"
	kill -TERM "$(cat "$W/a.pid")"
	wait_for 30 is_status a "UP 2/3"
	wait_for 30 is_status a "UP 1/3"
	wait_for 30 is_status a DOWN
}

@test "show stat IID TYPEMASK SID filters rows" {
	cli_proxy < /dev/null
	run cli "$W/user.sock" "show stat -1 4 -1"
	[ "${lines[0]}" = "$CSV_HEADER" ]
	[[ "${lines[1]}" == "be,a,"* ]]
	[[ "${lines[2]}" == "be,b,"* ]]
	[ "${#lines[@]}" -eq 3 ]
	run cli "$W/user.sock" "show stat 2 4 2"
	[[ "${lines[1]}" == "be,b,"* ]]
	[ "${#lines[@]}" -eq 2 ]
	run cli "$W/user.sock" "show stat 1 1 -1"
	[[ "${lines[1]}" == "fe,FRONTEND,"* ]]
	[ "${#lines[@]}" -eq 2 ]
	run cli "$W/user.sock" "show stat -1 2 -1"
	[[ "${lines[1]}" == "be,BACKEND,"* ]]
	[ "${#lines[@]}" -eq 2 ]
}

# ---- stick tables ----

@test "show table and clear table" {
	daemon_only "stick tables need the daemon"
	start_backend a
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	global
	    stats socket $W/admin.sock level admin
	    stats socket $W/user.sock level user
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    stick-table type ip size 100 expire 30s store http_req_rate(10s),conn_cur
	    http-request track-sc0 src
	    default_backend be
	backend be
	    server a 127.0.0.1:$BPORT_a
	EOF
	for i in 1 2 3; do who > /dev/null; done
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:1" ]
	run cli "$W/user.sock" "show table fe"
	[ "${lines[0]}" = "# table: fe, type: ip, size:100, used:1" ]
	[[ "${lines[1]}" =~ ^0x[0-9a-f]+:\ key=127\.0\.0\.1\ use=0\ exp=[0-9]+\ conn_cur=0\ http_req_rate\(10000\)=3$ ]]
	[ "${#lines[@]}" -eq 2 ]
	cli "$W/user.sock" "show table fe" > "$W/out"
	[ "$(tail -c 2 "$W/out" | od -An -c | tr -d ' ')" = '\n\n' ]
	run cli "$W/user.sock" "show table fe data.http_req_rate gt 2"
	[ "${#lines[@]}" -eq 2 ]
	run cli "$W/user.sock" "show table fe data.http_req_rate gt 3"
	[ "${#lines[@]}" -eq 1 ]
	run cli "$W/user.sock" "show table fe key 127.0.0.9"
	[ "${#lines[@]}" -eq 1 ]
	run cli "$W/user.sock" "show table fe key 127.0.0.1"
	[ "${#lines[@]}" -eq 2 ]
	run cli "$W/user.sock" "show table fe data.gpc0 gt 1"
	[ "$output" = "Data type not stored in this table" ]
	run cli "$W/user.sock" "show table fe data.bogus gt 1"
	[ "$output" = "Unknown data type" ]
	run cli "$W/user.sock" "show table fe data.conn_cur zz 1"
	[[ "$output" == "Require and operator among"* ]]
	run cli "$W/user.sock" "show table nosuch"
	[ "$output" = "No such table" ]
	run cli "$W/admin.sock" "clear table fe key 127.0.0.9"
	[ "$output" = "" ]
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:1" ]
	run cli "$W/admin.sock" "clear table fe key 127.0.0.1"
	[ "$output" = "" ]
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:0" ]
	who > /dev/null
	run cli "$W/admin.sock" "clear table fe"
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:0" ]
	run cli "$W/admin.sock" "clear table nosuch"
	[ "$output" = "No such table" ]
	# with a data filter, as 2.6: only the entries that pass go
	for i in 1 2 3; do who > /dev/null; done
	run cli "$W/admin.sock" "clear table fe data.http_req_rate gt 3"
	[ "$output" = "" ]
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:1" ]
	run cli "$W/admin.sock" "clear table fe data.http_req_rate ge 3 key 127.0.0.9"
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:1" ]
	run cli "$W/admin.sock" "clear table fe data.http_req_rate ge 3"
	[ "$output" = "" ]
	run cli "$W/user.sock" "show table"
	[ "$output" = "# table: fe, type: ip, size:100, used:0" ]
	run cli "$W/admin.sock" "clear table fe data.bogus gt 1"
	[ "$output" = "Unknown data type" ]
	run cli "$W/admin.sock" "clear table fe data.gpc0 gt 1"
	[ "$output" = "Data type not stored in this table" ]
	run cli "$W/admin.sock" "clear table fe data.conn_cur zz 1"
	[[ "$output" == "Require and operator among"* ]]
	run cli "$W/admin.sock" "clear table fe bogus"
	[[ "$output" == "Optional argument only supports"* ]]
}
