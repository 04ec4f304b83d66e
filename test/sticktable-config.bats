#!/usr/bin/env bats
# Stick tables as the configuration reads them (config-reference.md 13):
# the stick-table line, the track-sc0..2, sc-inc-gpc0/1 and sc-set-gpt0
# actions, the sc*/src_*/table_* fetches, and every error and warning
# with its FILE:LINE. Also wsproxy's own rule, stricter than 2.6: a fetch
# that could never have a value (no track-scN rule, or no table it reads
# stores what it reads) is an error, not a limit that silently never
# applies. Everything here is "wsproxy -c": nothing is run.

load helpers

# check_cfg: the frontend lines on stdin, from line 8 of a minimal file
# (OTHER_LINES after it: more sections); -c's output and status.
check_cfg() {
	{ echo "defaults"
	  echo "    mode ${MODE:-http}"
	  echo "    timeout client 1s"
	  echo "    timeout connect 1s"
	  echo "    timeout server 1s"
	  echo "frontend fe"
	  echo "    bind 127.0.0.1:8080"
	  cat
	  echo "    default_backend be"
	  echo "backend be"
	  echo "    server s 127.0.0.1:1"
	  echo "${OTHER_LINES:-}"
	} > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
}

# error LINE MESSAGE: -c exited 1 with exactly "FILE:LINE: MESSAGE".
error() {
	[ "$status" -eq 1 ] || { echo "status $status: $output"; return 1; }
	grep -qxF "$W/t.cfg:$1: $2" <<< "$output" || {
		echo "want: $W/t.cfg:$1: $2"; echo "got: $output"; return 1; }
}

# warning LINE MESSAGE: that warning is in the output.
warning() {
	grep -qxF "$W/t.cfg:$1: warning: $2" <<< "$output" || {
		echo "want: $W/t.cfg:$1: warning: $2"; echo "got: $output"
		return 1; }
}

# valid: -c accepted the file and said nothing about any line.
valid() {
	[ "$status" -eq 0 ] || { echo "status $status: $output"; return 1; }
	! grep -q 't.cfg:[0-9]*: ' <<< "$output" || {
		echo "diagnostics: $output"; return 1; }
}

INERT="it would never have a value, and a limit on it would never apply (HAProxy 2.6 accepts this silently; wsproxy refuses it)."

STORE_ALL="conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),http_fail_cnt,http_fail_rate(10s),bytes_in_cnt,bytes_in_rate(1m),bytes_out_cnt,bytes_out_rate(1m),gpc0,gpc0_rate(1s),gpc1,gpc1_rate(1s),gpt0,server_id"

# ---- the recipes of reference 13.6 ----

@test "recipe: request rate per source is valid" {
	check_cfg <<-'EOF'
	    stick-table type ip size 100k expire 30s store http_req_rate(10s)
	    http-request track-sc0 src
	    http-request deny deny_status 429 if { sc0_http_req_rate gt 3 }
	EOF
	valid
}

@test "recipe: concurrent WebSockets per source is valid, with 2.6's advice for a content rule" {
	check_cfg <<-'EOF'
	    stick-table type ip size 100k expire 30s store conn_cur
	    tcp-request content track-sc1 src
	    http-request deny deny_status 429 if { path_beg /ws } { sc1_conn_cur gt 2 }
	EOF
	[ "$status" -eq 0 ]
	warning 9 "frontend 'fe' : a 'tcp-request content track-sc*' rule not depending on request contents for an HTTP frontend should be executed at the session level, using a 'tcp-request session' rule (mandatory to track invalid HTTP requests)."
	check_cfg <<-'EOF'
	    stick-table type ip size 100k expire 30s store conn_cur
	    http-request track-sc1 src
	    http-request deny deny_status 429 if { path_beg /ws } { sc1_conn_cur gt 2 }
	EOF
	valid
}

@test "recipe: connection rate, dropped at accept, is valid" {
	check_cfg <<-'EOF'
	    stick-table type ip size 100k expire 30s store conn_rate(10s)
	    tcp-request connection track-sc0 src
	    tcp-request connection reject if { sc0_conn_rate gt 3 }
	EOF
	valid
}

# ---- stick-table ----

@test "stick-table: every type, len, size unit, expire, nopurge and store option is valid" {
	for decl in 'type ip size 1' 'type ipv6 size 10k' 'type integer size 1m' \
	    'type string size 16m' 'type string len 64 size 1k' \
	    'type string len 256 size 1k nopurge' 'size 1k type ip expire 1h' \
	    "type ip size 1k store $STORE_ALL" \
	    'type ip size 1k store conn_cur store gpc0 store http_req_rate(2000)'; do
		check_cfg <<< "    stick-table $decl"
		valid
	done
}

@test "stick-table errors: 2.6's messages" {
	check_cfg <<< '    stick-table type ipv4 size 1k'
	error 8 "stick-table: unknown type 'ipv4'."
	check_cfg <<< '    stick-table type ip'
	error 8 "stick-table: missing size."
	check_cfg <<< '    stick-table type ip size 0'
	error 8 "stick-table: missing size."
	check_cfg <<< '    stick-table size 1k'
	error 8 "stick-table: missing type."
	check_cfg <<< '    stick-table type ip size 1k store foo'
	error 8 "stick-table: unknown store option 'foo'."
	check_cfg <<< '    stick-table type ip size 1k store conn_cur,http_req_rate'
	error 8 "stick-table: missing argument to store option 'http_req_rate'."
	check_cfg <<< '    stick-table type ip size 1k foo'
	error 8 "stick-table: unknown argument 'foo'."
}

@test "stick-table: a data type stored twice warns and is valid" {
	check_cfg <<< '    stick-table type ip size 1k store conn_cur,conn_cur'
	[ "$status" -eq 0 ]
	warning 8 "stick-table: store option 'conn_cur' already enabled, ignored."
	check_cfg <<< '    stick-table type ip size 1k store conn_cur store conn_cur'
	[ "$status" -eq 0 ]
	warning 8 "stick-table: store option 'conn_cur' already enabled, ignored."
}

@test "stick-table: one per proxy, none in defaults" {
	check_cfg <<-'EOF'
	    stick-table type ip size 1k
	    stick-table type ip size 2k
	EOF
	error 9 "stick-table name 'fe' conflicts with table declared in frontend 'fe' at $W/t.cfg:8."
	{ echo "defaults"
	  echo "    stick-table type ip size 1k"
	} > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	error 2 "'stick-table' not allowed in 'defaults' section."
}

@test "stick-table: peers, binary, srvkey, write-to, recv-only and gpc(N)/gpt(N) are refused, not ignored" {
	check_cfg <<< '    stick-table type ip size 1k peers mypeers'
	error 8 "stick-table: 'peers' is not implemented by wsproxy (wsproxy has no peers: a table shared across machines would only count on this one): remove it, or use HAProxy."
	check_cfg <<< '    stick-table type binary len 16 size 1k'
	error 8 "stick-table: type 'binary' is not implemented by wsproxy (use type string): remove it, or use HAProxy."
	for kw in 'srvkey addr' 'write-to other' 'recv-only'; do
		check_cfg <<< "    stick-table type ip size 1k $kw"
		error 8 "stick-table: '${kw%% *}' is not implemented by wsproxy (wsproxy has no stick rules nor peers): remove it, or use HAProxy."
	done
	for opt in 'gpc(2)' 'gpt(2)' 'gpc_rate(2,1s)'; do
		check_cfg <<< "    stick-table type ip size 1k store $opt"
		error 8 "stick-table: store option '${opt%%(*}' is not implemented by wsproxy (arrays: use gpc0, gpc1, gpc0_rate, gpc1_rate and gpt0): remove it, or use HAProxy."
	done
}

@test "stick-table: sizes and lengths past wsproxy's limits are errors" {
	check_cfg <<< '    stick-table type ip size 17m'
	error 8 "stick-table: size '17m' is more than wsproxy's maximum of 16777216 entries."
	check_cfg <<< '    stick-table type string len 257 size 1k'
	error 8 "'stick-table len' value 257 is out of range (1..256)."
	check_cfg <<< '    stick-table type ip size 1x'
	error 8 "stick-table: invalid size '1x'."
	check_cfg <<< '    stick-table type ip size 1k store conn_rate(0)'
	error 8 "stick-table: the period of store option 'conn_rate' must not be 0."
	check_cfg <<< '    stick-table type ip size 1k store conn_cur(1s)'
	error 8 "stick-table: store option 'conn_cur' takes no argument."
}

# ---- track-sc ----

@test "track-sc: every rule kind, key and table form is valid" {
	OTHER_LINES=$'backend limits\n    stick-table type string len 40 size 1k store http_req_rate(1s),conn_cur' \
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store conn_cur,gpc0,gpc1,gpt0
	    tcp-request connection track-sc0 src
	    tcp-request connection sc-inc-gpc0(0)
	    tcp-request session track-sc1 src table fe if { src 10.0.0.0/8 }
	    tcp-request session sc-inc-gpc1(1) if { src 10.0.0.1 }
	    tcp-request content track-sc2 req.hdr(x-api-key) table limits
	    tcp-request content sc-set-gpt0(0) 42
	    http-request track-sc0 hdr(x-api-key),lower table limits
	    http-request track-sc1 src_port
	    http-request track-sc2 dst unless { path_beg /health }
	    http-request sc-inc-gpc0
	    http-request sc-set-gpt0(1) -3 if { path_beg /x }
	    http-request deny if { sc2_http_req_rate gt 5 } || { sc0_conn_cur gt 5 }
	EOF
	valid
}

@test "track-sc: a source key into a string or integer table, and a header key into an ip table, are valid" {
	for type in string integer; do
		check_cfg <<-EOF
		    stick-table type $type size 1k store conn_cur
		    http-request track-sc0 src
		    http-request deny if { sc0_conn_cur gt 5 }
		EOF
		valid
	done
	for type in ip ipv6; do
		check_cfg <<-EOF
		    stick-table type $type size 1k store conn_cur
		    http-request track-sc0 req.hdr(x-forwarded-for,-1)
		    http-request deny if { sc0_conn_cur gt 5 }
		EOF
		valid
	done
}

@test "track-sc errors: the counter number, the key, the table" {
	check_cfg <<< '    tcp-request content track-sc3 src'
	error 8 "'tcp-request content track-sc3' : 3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value."
	check_cfg <<< '    http-request track-sc3 src'
	error 8 "error detected in frontend 'fe' while parsing 'http-request track-sc3' rule : 3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value."
	check_cfg <<< '    tcp-request connection track-sc0 req.hdr(x-foo)'
	error 8 "'tcp-request connection track-sc0' : fetch method 'req.hdr(x-foo)' extracts information from 'HTTP request headers', none of which is available here"
	check_cfg <<< '    tcp-request session track-sc1 path'
	error 8 "'tcp-request session track-sc1' : fetch method 'path' extracts information from 'HTTP request headers', none of which is available here"
	check_cfg <<< '    http-request track-sc0'
	error 8 "error detected in frontend 'fe' while parsing 'http-request track-sc0' rule : missing fetch method."
	check_cfg <<< '    http-request track-sc0 nosuch'
	error 8 "error detected in frontend 'fe' while parsing 'http-request track-sc0' rule : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."
	check_cfg <<< '    http-request track-sc0 src table'
	error 8 "error detected in frontend 'fe' while parsing 'http-request track-sc0' rule : missing table name after 'table'."
}

@test "track-sc errors: a table that does not exist, named or the proxy's own" {
	check_cfg <<< '    http-request track-sc0 src'
	error 8 "Proxy 'fe': unable to find table 'fe' referenced by track-sc0."
	check_cfg <<-'EOF'
	    stick-table type ip size 1k
	    tcp-request content track-sc1 src table nosuch
	EOF
	error 9 "Proxy 'fe': unable to find table 'nosuch' referenced by track-sc1."
	# a backend without a stick-table is no table
	check_cfg <<< '    tcp-request connection track-sc2 src table be'
	error 8 "Proxy 'fe': unable to find table 'be' referenced by track-sc2."
}

@test "track-sc: a key read from the request in tcp mode is refused" {
	MODE=tcp check_cfg <<-'EOF'
	    stick-table type string size 1k
	    tcp-request content track-sc0 req.hdr(host)
	    tcp-request content track-sc1 src
	EOF
	error 9 "tcp frontend 'fe': 'tcp-request content track-sc0' with a key read from the request is not implemented by wsproxy in tcp mode (only src, dst and their ports): remove the rule, or use HAProxy."
	! grep -q 't.cfg:10: ' <<< "$output"
}

@test "sc-inc-gpc0/1 and sc-set-gpt0 errors" {
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store gpc0
	    http-request track-sc0 src
	    http-request sc-inc-gpc1(0)
	    http-request sc-set-gpt0(0) 1
	    tcp-request content sc-inc-gpc0(1)
	EOF
	error 10 "sc-inc-gpc1(0): no table that a 'track-sc0' rule tracks into stores 'gpc1': the action would never apply."
	error 11 "sc-set-gpt0(0): no table that a 'track-sc0' rule tracks into stores 'gpt0': the action would never apply."
	error 12 "sc-inc-gpc0(1): no 'track-sc1' rule in the configuration: the action would never apply."
	check_cfg <<< '    http-request sc-set-gpt0(0) abc'
	error 8 "error detected in frontend 'fe' while parsing 'http-request sc-set-gpt0(0)' rule : only an integer value is supported by wsproxy (got 'abc')."
	check_cfg <<< '    http-request sc-set-gpt0(0)'
	error 8 "error detected in frontend 'fe' while parsing 'http-request sc-set-gpt0(0)' rule : expects an integer value."
	check_cfg <<< '    tcp-request connection sc-inc-gpc0(3)'
	error 8 "'tcp-request connection sc-inc-gpc0(3)' : invalid stick table track ID 'sc-inc-gpc0(3)'. The max allowed ID is 2"
	check_cfg <<< '    tcp-request connection sc-inc-gpc0x'
	error 8 "'tcp-request connection sc-inc-gpc0x' : invalid stick table track ID. Expects sc-inc-gpc0(<Track ID>)"
}

# ---- fetches ----

@test "fetches: every sc0_/sc_(N)/src_/table_ form is valid in ACLs and log-format values" {
	local lines=() x
	for x in conn_cur conn_cnt conn_rate sess_cnt sess_rate http_req_cnt \
	    http_req_rate http_err_cnt http_err_rate http_fail_cnt \
	    http_fail_rate bytes_in_rate bytes_out_rate kbytes_in kbytes_out \
	    get_gpc0 get_gpc1 inc_gpc0 inc_gpc1 clr_gpc0 clr_gpc1 get_gpt0 \
	    gpc0_rate gpc1_rate; do
		lines+=("    acl a_$x sc0_$x gt 1"
		    "    acl a_$x sc1_$x ge 2"
		    "    acl a_$x sc2_$x 1:5"
		    "    acl a_$x sc_$x(1) lt 3"
		    "    acl a_$x src_$x eq 0"
		    "    acl a_$x src_$x(fe) le 0"
		    "    http-request set-header x-$x %[sc0_$x]%[sc_$x(2)]%[src_$x]%[src_$x(fe)]")
	done
	{ echo "    stick-table type ip size 1k store $STORE_ALL"
	  echo "    tcp-request connection track-sc0 src"
	  echo "    tcp-request connection reject if { sc0_conn_rate gt 10 } || { src_conn_cur gt 3 }"
	  echo "    tcp-request session track-sc1 src"
	  echo "    http-request track-sc2 src"
	  printf '%s\n' "${lines[@]}"
	  echo "    acl t sc0_tracked"
	  echo "    acl t sc_tracked(1)"
	  echo "    acl t sc2_trackers gt 1"
	  echo "    acl t table_cnt gt 1"
	  echo "    acl t table_avl(fe) lt 10"
	  echo '    http-request set-header x-t %[sc1_tracked]%[sc_trackers(0)]%[table_cnt(fe)]%[table_avl],%[sc0_conn_cur,upper]'
	  echo "    use_backend %[src_conn_cnt] if { sc0_tracked }"
	} > "$W/lines"
	check_cfg < "$W/lines"
	valid
}

@test "fetches: sc0_gpc0 is an unknown fetch, as in 2.6" {
	check_cfg <<< '    acl a sc0_gpc0 gt 1'
	error 8 "error detected while parsing ACL 'a' : unknown fetch method 'sc0_gpc0' in ACL expression 'sc0_gpc0'."
	check_cfg <<< '    http-request set-header x %[sc0_gpc0]'
	error 8 "error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <sc0_gpc0]> : unknown fetch method 'sc0_gpc0'."
	check_cfg <<< '    acl a sc3_conn_cur gt 1'
	error 8 "error detected while parsing ACL 'a' : unknown fetch method 'sc3_conn_cur' in ACL expression 'sc3_conn_cur'."
	check_cfg <<< '    acl a src_tracked'
	error 8 "error detected while parsing ACL 'a' : unknown fetch method 'src_tracked' in ACL expression 'src_tracked'."
}

@test "fetches: argument errors" {
	check_cfg <<< '    acl a sc_conn_cur(3) gt 1'
	error 8 "error detected while parsing ACL 'a' : ACL keyword 'sc_conn_cur' : invalid stick counter '3' (0, 1 or 2 expected)."
	check_cfg <<< '    acl a sc_conn_cur gt 1'
	error 8 "error detected while parsing ACL 'a' : ACL keyword 'sc_conn_cur' : missing arguments (got 0/1), type 'integer' expected."
	check_cfg <<< '    acl a sc0_conn_cur(fe) gt 1'
	error 8 "error detected while parsing ACL 'a' : ACL keyword 'sc0_conn_cur' : a table argument is not supported by wsproxy."
	check_cfg <<< '    acl a src_conn_cur(fe,x) gt 1'
	error 8 "error detected while parsing ACL 'a' : ACL keyword 'src_conn_cur' : end of arguments expected at position 2, but got 'x'."
	check_cfg <<< '    http-request set-header x %[sc_conn_cur(7)]'
	error 8 "error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <sc_conn_cur(7)]> : fetch method 'sc_conn_cur' : invalid stick counter '7' (0, 1 or 2 expected)."
}

@test "fetches: src_ and table_ name a table that exists, else an error at their line" {
	check_cfg <<< '    acl a src_conn_cur gt 1'
	error 8 "unable to find table 'fe' referenced in arg 1 of ACL keyword 'src_conn_cur' in proxy 'fe'."
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store conn_cur
	    http-request set-header x %[table_cnt(nosuch)]
	EOF
	error 9 "unable to find table 'nosuch' referenced in arg 1 of sample fetch keyword 'table_cnt' in proxy 'fe'."
	# a table further down the file is found
	OTHER_LINES=$'backend t2\n    stick-table type ip size 1k store conn_cur' \
	check_cfg <<< '    acl a src_conn_cur(t2) gt 1'
	valid
}

@test "fail closed: a fetch of a data type its table does not store is an error" {
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store conn_cur
	    http-request track-sc0 src
	    http-request deny if { sc0_http_req_rate gt 3 }
	    http-request deny if { src_conn_rate gt 3 }
	    http-request set-header x %[sc0_kbytes_in]
	    http-request deny if { sc0_get_gpc0 gt 0 }
	    http-request deny if { sc_inc_gpc1(0) gt 0 }
	    http-request deny if { src_get_gpt0 gt 0 }
	EOF
	error 10 "sc0_http_req_rate: no table that a 'track-sc0' rule tracks into stores 'http_req_rate': $INERT"
	error 11 "src_conn_rate: table 'fe' does not store 'conn_rate': $INERT"
	error 12 "sc0_kbytes_in: no table that a 'track-sc0' rule tracks into stores 'bytes_in_cnt': $INERT"
	error 13 "sc0_get_gpc0: no table that a 'track-sc0' rule tracks into stores 'gpc0': $INERT"
	error 14 "sc_inc_gpc1(0): no table that a 'track-sc0' rule tracks into stores 'gpc1': $INERT"
	error 15 "src_get_gpt0: table 'fe' does not store 'gpt0': $INERT"
}

@test "fail closed: an sc fetch without any track-sc rule for its counter is an error" {
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store http_req_rate(10s),conn_cur
	    http-request track-sc0 src
	    http-request deny if { sc1_http_req_rate gt 3 }
	    http-request set-header x %[sc_conn_cur(2)]
	    acl t sc2_tracked
	EOF
	error 10 "sc1_http_req_rate: no 'track-sc1' rule in the configuration: $INERT"
	error 11 "sc_conn_cur(2): no 'track-sc2' rule in the configuration: $INERT"
	error 12 "sc2_tracked: no 'track-sc2' rule in the configuration: $INERT"
}

@test "fail closed: one table tracked as scN that stores the data type is enough" {
	OTHER_LINES=$'backend rates\n    stick-table type ip size 1k store http_req_rate(10s)' \
	check_cfg <<-'EOF'
	    stick-table type ip size 1k store conn_cur
	    tcp-request connection track-sc0 src
	    http-request track-sc0 src table rates
	    http-request deny if { sc0_http_req_rate gt 3 } || { sc0_conn_cur gt 3 }
	    http-request deny if { sc0_tracked } { sc0_trackers gt 100 }
	EOF
	valid
}
