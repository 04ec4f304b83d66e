#!/usr/bin/env bats
# Userlists and the http_auth(L) / http_auth_group(L) ACLs (HAProxy 2.6's
# configuration manual 3.4, config-reference.md 10.3): Basic credentials
# checked against clear and crypt(3) passwords (SHA-512, SHA-256,
# yescrypt, made on the fly by test/cryptpw), groups from both sides,
# names resolved at the end of the file, what is never authenticated,
# and the configuration errors with FILE:LINE.

load helpers

# hashes PASSWORD: H6, H5 and HY, its SHA-512, SHA-256 and yescrypt
# hashes (yescrypt skips the tests that need it where libcrypt lacks it).
hashes() {
	H6=$("$T/cryptpw" "$1" '$6$')
	H5=$("$T/cryptpw" "$1" '$5$')
	HY=$("$T/cryptpw" "$1" '$y$' 2>/dev/null) || HY=""
	[[ "$H6" == '$6$'* && "$H5" == '$5$'* ]]
}

# start_auth: backends www, secret and admin; requests with credentials
# of userlist L go to secret, those of its group admins to admin, the
# rest to www. L follows the frontend, its group admins names alice
# before her user line: both resolved once the file is read.
start_auth() {
	hashes 'open sesame'
	start_backend www
	start_backend secret
	start_backend admin
	free_ports 1; PPORT=${PORTS[0]}
	{ defaults_section
	  cat <<-EOF
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend admin if { http_auth_group(L) admins }
	    use_backend secret if { http_auth(L) }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	backend secret
	    server s1 127.0.0.1:$BPORT_secret
	backend admin
	    server a1 127.0.0.1:$BPORT_admin
	userlist L
	    group admins users alice
	    group ops
	    user alice password $H6
	    user bob password $H5 groups ops
	    user ian insecure-password "in secure"
	    user olga insecure-password pw groups ops,admins
	EOF
	  [ -z "$HY" ] || echo "    user yves password $HY"
	} > "$W/auth.cfg"
	start_proxy < "$W/auth.cfg"
}

# as USER:PASSWORD: which backend GET / went to with these credentials.
as() {
	backend_of / -u "$1"
}

# with_header VALUE: which backend GET / went to with this Authorization.
with_header() {
	backend_of / -H "Authorization: $1"
}

b64() {
	printf '%s' "$1" | base64 -w0
}

@test "the right password of a SHA-512 or SHA-256 hash, or of an insecure-password, authenticates" {
	start_auth
	[ "$(as 'bob:open sesame')" = secret ]
	[ "$(as 'ian:in secure')" = secret ]
	[ "$(as 'alice:open sesame')" = admin ]
	[ "$(backend_of /)" = www ]
	grep -q 'GET / ' "$W/secret.log"
}

@test "a yescrypt hash authenticates with its password, not with another" {
	start_auth
	[ -n "$HY" ] || skip "this libcrypt has no yescrypt"
	[ "$(as 'yves:open sesame')" = secret ]
	[ "$(as 'yves:open sesamE')" = www ]
}

@test "a wrong password is not authenticated, whatever the password's form" {
	start_auth
	[ "$(as 'bob:open sesame')" = secret ]
	[ "$(as 'bob:open sesam')" = www ]
	[ "$(as 'bob:open sesame ')" = www ]
	[ "$(as 'alice:')" = www ]
	[ "$(as 'ian:in securE')" = www ]
	[ "$(as 'ian:in secur')" = www ]
	[ "$(as 'ian:in secure!')" = www ]
	# a hash is not a password
	[ "$(as "bob:$H5")" = www ]
	[ ! -s "$W/admin.log" ]
}

@test "an unknown user, or a user name differing in case, is not authenticated" {
	start_auth
	[ "$(as 'ian:in secure')" = secret ]
	[ "$(as 'mallory:in secure')" = www ]
	[ "$(as 'Ian:in secure')" = www ]
	[ "$(as ':in secure')" = www ]
}

@test "no Authorization header, or another scheme than Basic, is not authenticated" {
	start_auth
	local cred
	cred=$(b64 'ian:in secure')
	[ "$(with_header "Basic $cred")" = secret ]
	# the scheme is case-insensitive, spaces after it are skipped
	[ "$(with_header "bAsIc    $cred")" = secret ]
	[ "$(backend_of /)" = www ]
	[ "$(with_header "Bearer $cred")" = www ]
	[ "$(with_header "Digest $cred")" = www ]
	[ "$(with_header "Basi $cred")" = www ]
	[ "$(with_header "Basic")" = www ]
	[ "$(with_header "$cred")" = www ]
}

@test "malformed base64 is not authenticated: padding, alphabet, stray bits, no colon, NUL" {
	start_auth
	local good
	good=$(b64 'olga:pw')                 # b2xnYTpwdw==
	[ "$good" = b2xnYTpwdw== ]
	[ "$(with_header "Basic $good")" = admin ]
	[ "$(with_header "Basic b2xnYTpwdw")" = www ]       # padding missing
	[ "$(with_header "Basic b2xnYTpwdw=")" = www ]      # half padding
	[ "$(with_header "Basic b2xnYTpwdx==")" = www ]     # stray bits
	[ "$(with_header "Basic b2xn=YTpwdw==")" = www ]    # '=' inside
	[ "$(with_header "Basic b2xnYTpwdw==x")" = www ]    # after the end
	[ "$(with_header "Basic b2xnYT*wdw==")" = www ]     # not base64
	[ "$(with_header "Basic b2xnYTpwdw==, b2xnYTpwdw==")" = www ]
	[ "$(with_header "Basic $(b64 'olgapw')")" = www ]  # no colon
	# a NUL after the password: 2.6 would cut there, we refuse
	[ "$(with_header "Basic $(printf 'olga:pw\0x' | base64 -w0)")" = www ]
	[ ! -s "$W/secret.log" ]
}

@test "only the first Authorization header counts" {
	start_auth
	local good bad
	good=$(b64 'ian:in secure')
	bad=$(b64 'ian:wrong')
	[ "$(backend_of / -H "Authorization: Basic $bad" -H "Authorization: Basic $good")" = www ]
	[ "$(backend_of / -H "Authorization: Basic $good" -H "Authorization: Basic $bad")" = secret ]
}

@test "groups come from 'group NAME users ...' and from 'groups' on user lines" {
	start_auth
	# alice: "group admins users alice"; olga: "groups ops,admins"
	[ "$(as 'alice:open sesame')" = admin ]
	[ "$(as 'olga:pw')" = admin ]
	# bob is in ops only, ian in none: authenticated, not admins
	[ "$(as 'bob:open sesame')" = secret ]
	[ "$(as 'ian:in secure')" = secret ]
	# the group needs the password too
	[ "$(as 'olga:px')" = www ]
}

@test "http_auth -m found holds only for a user with its password" {
	start_backend www
	start_backend secret
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend secret if { http_auth(L) -m found }
	    default_backend www
	backend www
	    server w 127.0.0.1:$BPORT_www
	backend secret
	    server s 127.0.0.1:$BPORT_secret
	userlist L
	    user u insecure-password p
	EOF
	[ "$(as 'u:p')" = secret ]
	[ "$(as 'u:q')" = www ]
	[ "$(backend_of /)" = www ]
}

@test "http_auth_group lists several groups; -m str matches the user name instead" {
	hashes x
	start_backend www
	start_backend ops
	start_backend named
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    acl staff http_auth_group(U) nosuch ops
	    use_backend ops if staff
	    use_backend named if { http_auth_group(U) -m str carl }
	    default_backend www
	backend www
	    server w 127.0.0.1:$BPORT_www
	backend ops
	    server o 127.0.0.1:$BPORT_ops
	backend named
	    server n 127.0.0.1:$BPORT_named
	userlist U
	    group nosuch
	    group ops users dan
	    user carl insecure-password c
	    user dan insecure-password d
	EOF
	[ "$(as 'dan:d')" = ops ]
	[ "$(as 'carl:c')" = named ]
	[ "$(as 'carl:x')" = www ]
	[ "$(backend_of /)" = www ]
}

@test "a negated http_auth ACL (as in 'http-request auth unless') holds without credentials or with a wrong password" {
	start_backend www
	start_backend secret
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    acl authed http_auth(L)
	    use_backend www if !authed
	    default_backend secret
	backend www
	    server w 127.0.0.1:$BPORT_www
	backend secret
	    server s 127.0.0.1:$BPORT_secret
	userlist L
	    user u insecure-password p
	EOF
	[ "$(backend_of /)" = www ]
	[ "$(as 'u:q')" = www ]
	[ "$(as 'u:p')" = secret ]
}

# check_cfg: "wsproxy -c" on the file on stdin, kept as $W/t.cfg.
check_cfg() {
	cat > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
}

@test "a userlist that does not exist is an error naming the ACL's line" {
	check_cfg <<-'EOF'
	defaults
	    mode http
	frontend fe
	    bind 127.0.0.1:9
	    acl a http_auth(nope)
	    use_backend be if { http_auth_group(L) g } || { http_auth(missing) }
	backend be
	userlist L
	    group g
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:5: unable to find userlist 'nope' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'."* ]]
	[[ "$output" == *"t.cfg:6: unable to find userlist 'missing' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'."* ]]
	[[ "$output" != *"t.cfg:6: unable to find userlist 'L'"* ]]
	[[ "$output" != *"Configuration file is valid"* ]]
}

@test "http_auth needs exactly one argument; http_auth_group needs groups of its userlist" {
	check_cfg <<-'EOF'
	defaults
	    mode http
	frontend fe
	    bind 127.0.0.1:9
	    acl a http_auth
	    acl b http_auth(L,x)
	    acl c http_auth()
	    acl d http_auth_group(L) admins nosuch
	    acl e http_auth_group(L)
	    default_backend be
	backend be
	userlist L
	    group admins
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:5: error detected while parsing ACL 'a' : ACL keyword 'http_auth' : missing arguments (got 0/1), type 'user list' expected."* ]]
	[[ "$output" == *"t.cfg:6: error detected while parsing ACL 'b' : ACL keyword 'http_auth' : end of arguments expected at position 2, but got 'x'."* ]]
	[[ "$output" == *"t.cfg:7: missing userlist name in arg 1 of ACL keyword 'http_auth' in proxy 'fe'."* ]]
	[[ "$output" == *"t.cfg:8: proxy fe: acl d http_auth_group(): invalid group 'nosuch'."* ]]
	[[ "$output" != *"invalid group 'admins'"* ]]
	[[ "$output" == *"t.cfg:9: proxy fe: acl e http_auth_group(): no groups specified."* ]]
}

@test "userlist, user and group lines: missing names and values, unknown options and keywords" {
	check_cfg <<-'EOF'
	userlist
	userlist a*b
	userlist L extra
	userlist M
	    user
	    user carol
	    user dave insecure-password
	    user eve insecure-password x groups
	    user fred insecure-password x bogus 1
	    user gina insecure-password x insecure-password y
	    group
	    group g1 members x
	    group g2 users
	    frob x
	    user h:i insecure-password x
	    group g*
	    user ann@example.com insecure-password x
	    user j insecure-password x password $6$x$y
	    user k insecure-password x groups a groups b
	    group g3 users a users b
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:1: 'userlist' expects <name> as arguments."* ]]
	[[ "$output" == *"t.cfg:2: character '*' is not permitted in 'userlist' name 'a*b'."* ]]
	[[ "$output" == *"t.cfg:3: 'userlist' cannot handle unexpected argument 'extra'."* ]]
	[[ "$output" == *"t.cfg:5: 'user' expects <name> as arguments."* ]]
	[[ "$output" == *"t.cfg:6: user 'carol' has no password"* ]]
	[[ "$output" == *"t.cfg:7: 'user' : 'insecure-password' expects a value."* ]]
	[[ "$output" == *"t.cfg:8: 'user' : 'groups' expects a value."* ]]
	[[ "$output" == *"t.cfg:9: 'user' only supports 'password', 'insecure-password' and 'groups' options."* ]]
	[[ "$output" == *"t.cfg:10: 'user' : 'insecure-password' given twice (one password for each user: 'password' or 'insecure-password')."* ]]
	[[ "$output" == *"t.cfg:18: 'user' : 'password' given twice (one password"* ]]
	[[ "$output" == *"t.cfg:19: 'user' : 'groups' given twice."* ]]
	[[ "$output" == *"t.cfg:20: 'group' : 'users' given twice."* ]]
	[[ "$output" == *"t.cfg:11: 'group' expects <name> as arguments."* ]]
	[[ "$output" == *"t.cfg:12: 'group' only supports 'users' option."* ]]
	[[ "$output" == *"t.cfg:13: 'group' : 'users' expects a value."* ]]
	[[ "$output" == *"t.cfg:14: unknown keyword 'frob' in 'users' section"* ]]
	[[ "$output" == *"t.cfg:15: warning: user 'h:i' can never authenticate"* ]]
	[[ "$output" == *"t.cfg:16: character '*' is not permitted in 'group' name 'g*'."* ]]
	# user names are not restricted, as in 2.6
	[[ "$output" != *"t.cfg:17:"* ]]
}

@test "a duplicated userlist, user or group is an error (2.6 ignores the line with a warning)" {
	check_cfg <<-'EOF'
	userlist L
	    user u insecure-password a
	    user u insecure-password b
	    group g
	    group g users u
	userlist L
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:3: duplicated user 'u' in userlist 'L' (first declared at "*"t.cfg:2)."* ]]
	[[ "$output" == *"t.cfg:5: duplicated group 'g' in userlist 'L' (first declared at "*"t.cfg:4)."* ]]
	[[ "$output" == *"t.cfg:6: duplicated userlist 'L' (first declared at "*"t.cfg:1)."* ]]
}

@test "groups and users named across lines must exist by the end of the file" {
	check_cfg <<-'EOF'
	userlist L
	    group g users u,nobody,,v
	    user u insecure-password a groups g,nogroup
	    user v insecure-password a groups h
	    group h
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: userlist 'L': no such user 'nobody' specified in group 'g'"* ]]
	[[ "$output" == *"t.cfg:3: userlist 'L': no such group 'nogroup' specified in user 'u'"* ]]
	[[ "$output" != *"'v'"* ]]
	[[ "$output" != *"group 'h'"* ]]
	# the same names, all declared: valid
	sed -i -e 's/,nobody//; s/,nogroup//' "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 0 ]
}

@test "a hash this crypt(3) cannot verify is refused at load, never left to fail every request" {
	hashes x
	check_cfg <<-EOF
	userlist L
	    user a password $H6
	    user b password \$6\$salt\$truncated
	    user c password nothash
	    user d password *
	    user e password !$H6
	    user f password \$9\$unknown\$method
	    user g password ""
	EOF
	[ "$status" -eq 1 ]
	[[ "$output" != *"user 'a'"* ]]
	for u in b c d e f; do
		[[ "$output" == *"the encrypted password used for user '$u' is not supported by crypt(3)."* ]]
	done
	[ "$(grep -c 'not supported by crypt(3)' <<< "$output")" -eq 5 ]
	[[ "$output" == *"t.cfg:8: 'user' : 'password' expects a value."* ]]
}

@test "the userlist section loads valid with every hash type and forward references" {
	hashes x
	check_cfg <<-EOF
	defaults
	    mode http
	    timeout client 1s
	    timeout connect 1s
	    timeout server 1s
	frontend fe
	    bind 127.0.0.1:9
	    use_backend be if { http_auth_group(Later) g2 }
	    default_backend be
	backend be
	    server s 127.0.0.1:9
	userlist Later
	    group g1 users a,b
	    group g2
	    user a password $H6 groups g2
	    user b password $H5
	    user c insecure-password x groups g1,g2
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"Configuration file is valid"* ]]
	[[ "$output" != *"t.cfg:"* ]]
}

@test "on one keep-alive connection, each request's credentials are checked anew" {
	start_auth
	local url="http://127.0.0.1:$PPORT/" out
	out=$(curl -s -m 5 -i -u 'ian:in secure' -w 'connects=%{num_connects}\n' "$url" \
		--next -s -m 5 -i -u 'ian:wrong' -w 'connects=%{num_connects}\n' "$url" \
		--next -s -m 5 -i -u 'bob:open sesame' -w 'connects=%{num_connects}\n' "$url" \
		--next -s -m 5 -i -w 'connects=%{num_connects}\n' "$url" \
		--next -s -m 5 -i -u 'ian:in secure' -w 'connects=%{num_connects}\n' "$url" |
		tr -d '\r')
	[ "$(sed -n 's/^X-Backend: //p' <<< "$out" | tr '\n' ' ')" = "secret www secret www secret " ]
	# one connection for the five
	[ "$(grep -c '^connects=0$' <<< "$out")" -eq 4 ]
}

@test "an unknown user name costs a hash like a known one: timing does not tell which names exist" {
	local slow t_unknown t_wrong
	# about 0.3 s per hash here; without the dummy hash an unknown
	# name is answered in a few milliseconds
	slow=$("$T/cryptpw" right '$6$' 1000000)
	start_backend www
	start_backend secret
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend public
	    bind 127.0.0.1:$PPORT
	    use_backend secret if { http_auth(L) }
	    default_backend www
	backend www
	    server w 127.0.0.1:$BPORT_www
	backend secret
	    server s 127.0.0.1:$BPORT_secret
	userlist L
	    user known password $slow
	EOF
	t_wrong=$(curl -s -m 10 -o /dev/null -w '%{time_total}' -u known:wrong "http://127.0.0.1:$PPORT/")
	t_unknown=$(curl -s -m 10 -o /dev/null -w '%{time_total}' -u nobody:wrong "http://127.0.0.1:$PPORT/")
	echo "known, wrong password: $t_wrong s; unknown: $t_unknown s"
	awk -v w="$t_wrong" -v u="$t_unknown" 'BEGIN { exit !(w >= 0.08 && u >= 0.08) }'
	[ "$(as 'known:right')" = secret ]
}

@test "valgrind: userlists loaded, refused and checked leave no error and no leak" {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	not_sanitized "valgrind cannot run it"
	local vg=(valgrind -q --leak-check=full
		--errors-for-leak-kinds=definite,indirect --error-exitcode=9)
	run "${vg[@]}" "$WSPROXY" -c -f "$T/fuzz/corpus/config/userlist.cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	run "${vg[@]}" "$WSPROXY" -c -f "$T/fuzz/corpus/config/userlist-errors.cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *"=="* ]]
	# the children that check credentials run under it too
	PROXY_LAUNCHER=(valgrind -q)
	start_auth
	[ "$(as 'bob:open sesame')" = secret ]
	[ "$(as 'olga:pw')" = admin ]
	[ "$(as 'nobody:pw')" = www ]
	[ "$(with_header 'Basic b2xnYTpwdw')" = www ]
	stop_proxy
	cat "$W/proxy.err"
	! grep -q '==[0-9]*==' "$W/proxy.err"
}
