#!/usr/bin/env bats
# Regular-expression ACLs (-m reg, path_reg, url_reg, hdr_reg) on the C
# library's POSIX regcomp(): HAProxy's semantics, the PCRE escapes that
# translate exactly, and the PCRE-only syntax refused at load.

load helpers

VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--error-exitcode=9)

# backend_of PATH [curl args]: which backend answered, or the status.
backend_of() {
	local path="$1"; shift
	local out b
	out=$(curl -s -m 5 -D - -o /dev/null "http://127.0.0.1:$PPORT$path" "$@")
	b=$(grep -i '^x-backend:' <<< "$out" | tr -d '\r' | awk '{print $2}')
	if [ -n "$b" ]; then echo "$b"; else head -1 <<< "$out" | awk '{print $2}'; fi
}

# start_rules: the frontend's rules on stdin, then default_backend www.
start_rules() {
	start_classic < <(cat; echo "    default_backend www")
}

# check_acl LINE: "wsproxy -c" on a file whose line 9 is LINE.
check_acl() {
	{ defaults_section
	  echo "frontend public"
	  printf '%s\n' "$1"
	  echo "    bind 127.0.0.1:9"
	  echo "    default_backend www"
	  echo "backend www"
	  echo "    server www1 127.0.0.1:9"
	} > "$W/check.cfg"
	run "$WSPROXY" -c -f "$W/check.cfg"
}

@test "path_reg: an unanchored search over the path, without the query" {
	start_rules <<-'EOF'
	    use_backend ws if { path_reg ^/g$ } || { path_reg api }
	EOF
	[ "$(backend_of /g)" = ws ]
	[ "$(backend_of '/g?x=1')" = ws ]
	[ "$(backend_of /g/x)" = www ]
	[ "$(backend_of /v1/api/x)" = ws ]
	[ "$(backend_of '/v1?api')" = www ]
}

@test "url_reg: the whole request target, query included" {
	start_rules <<-'EOF'
	    use_backend ws if { url_reg \?q=[0-9]+$ }
	EOF
	[ "$(backend_of '/f?q=1')" = ws ]
	[ "$(backend_of '/f?q=x')" = www ]
	[ "$(backend_of /f/q=1)" = www ]
}

@test "hdr_reg: each comma-separated element of each occurrence" {
	start_rules <<-'EOF'
	    acl eb hdr_reg(x-e) ^b$
	    use_backend ws if eb
	EOF
	[ "$(backend_of / -H 'X-E: a, b')" = ws ]
	[ "$(backend_of / -H 'X-E: a' -H 'x-e: b')" = ws ]
	[ "$(backend_of / -H 'X-E: ab, ba')" = www ]
	[ "$(backend_of / -H 'X-Other: b')" = www ]
	[ "$(backend_of /)" = www ]
}

@test "-m reg on path, url, hdr and req.hdr matches and does not match" {
	start_rules <<-'EOF'
	    use_backend ws if { path -m reg ^/p[0-9]$ }
	    use_backend ws if { url -m reg =yes }
	    use_backend ws if { hdr(x-a) -m reg ^v[0-9]$ }
	    use_backend ws if { req.hdr(x-b) -m reg ^w+$ }
	EOF
	[ "$(backend_of /p1)" = ws ]
	[ "$(backend_of /p10)" = www ]
	[ "$(backend_of '/x?a=yes')" = ws ]
	[ "$(backend_of '/x?a=no')" = www ]
	[ "$(backend_of / -H 'X-A: x, v2')" = ws ]
	[ "$(backend_of / -H 'X-A: v22')" = www ]
	[ "$(backend_of / -H 'X-B: www')" = ws ]
	[ "$(backend_of / -H 'X-B: wxw')" = www ]
}

@test "-i compiles the patterns after it case-insensitively, and only those" {
	printf '^/F$\n' > "$W/before.pats"
	start_rules <<-EOF
	    use_backend ws if { path -m reg -i ^/D[a-z]+\$ }
	    use_backend ws if { path_reg -f $W/before.pats -i ^/G\$ }
	    use_backend ws if { hdr_reg(x-c) ^abc\$ }
	EOF
	[ "$(backend_of /dABC)" = ws ]
	[ "$(backend_of /d12)" = www ]
	[ "$(backend_of /g)" = ws ]
	[ "$(backend_of /F)" = ws ]
	[ "$(backend_of /f)" = www ]
	[ "$(backend_of / -H 'X-C: abc')" = ws ]
	[ "$(backend_of / -H 'X-C: ABC')" = www ]
}

@test "\\d, \\D, \\w, \\s and \\xHH mean what they mean to HAProxy's PCRE, in brackets too" {
	start_rules <<-'EOF'
	    use_backend ws if { path_reg ^/api/\d+$ }
	    use_backend ws if { path_reg '^/n/\D$' }
	    use_backend ws if { path_reg '^/w/[\w.-]+$' }
	    use_backend ws if { hdr_reg(x-s) '^a\sb$' }
	    use_backend ws if { path_reg '^/x/\x41[\x30-\x32]$' }
	    use_backend ws if { path_reg '^/b/[\d\]]+$' }
	EOF
	[ "$(backend_of /api/123)" = ws ]
	[ "$(backend_of /api/d)" = www ]
	[ "$(backend_of /api/)" = www ]
	[ "$(backend_of /n/x)" = ws ]
	[ "$(backend_of /n/7)" = www ]
	[ "$(backend_of /w/a_b.c-d)" = ws ]
	[ "$(backend_of '/w/a%20b')" = www ]
	[ "$(backend_of / -H 'X-S: a	b')" = ws ]
	[ "$(backend_of / -H 'X-S: asb')" = www ]
	[ "$(backend_of /x/A1)" = ws ]
	[ "$(backend_of /x/A3)" = www ]
	[ "$(backend_of '/b/1]2' -g)" = ws ]
	[ "$(backend_of '/b/1x2')" = www ]
	[ "$(backend_of '/b/d')" = www ]
}

# Rows "flags~pattern~subject~what HAProxy 2.6 (PCRE2) answers", after
# config-reference §11.3 and the PCRE2 syntax; each through its own rule.
PCRE_ROWS=(
	'~^/api/\d+$~/api/123~1'
	'~^/api/\d+$~/api/d~0'
	'~^[\d]+$~123~1'
	'~^[\d]+$~d~0'
	'~^\D$~x~1'
	'~^\D$~5~0'
	'~^\x41$~A~1'
	'~^\w+$~a_1~1'
	'~^\w+$~a-1~0'
	'~a\sb~a b~1'
	'~\bfoo\b~a foo~1'
	'~\bfoo\b~afoo~0'
	'~^[[:digit:]]+$~42~1'
	'~^a\.b$~a.b~1'
	'~^a\.b$~axb~0'
	'~^\/x$~/x~1'
	'~^(a|)$~a~1'
	'~^\<x\>$~<x>~1'
	'~^\<x\>$~x~0'
	'~^[\]\-]+$~]-~1'
	'~^[\]\-]+$~\~0'
	'~^[^\d]$~x~1'
	'~^[^\d]$~5~0'
	'~^[\x41-\x43]+$~ABC~1'
	'~^[\x41-\x43]+$~ABD~0'
	'~^a{2}$~aa~1'
	'~^a{2}$~aaa~0'
	'-i~^[a-c]+$~ABC~1'
	'~^[a-c]+$~ABC~0'
	'~\Aab\z~ab~1'
	'~[[:alpha:]][\w.-]*@~a.b-c@x~1'
)

@test "a table of PCRE patterns answers as HAProxy 2.6 answers" {
	local i row flags pat subj want got bad=0
	for i in "${!PCRE_ROWS[@]}"; do
		IFS='~' read -r flags pat subj want <<< "${PCRE_ROWS[$i]}"
		echo "    use_backend ws if { hdr(x-t) $i } { hdr_reg(x-s) $flags '$pat' }"
	done > "$W/rules"
	start_rules < "$W/rules"
	for i in "${!PCRE_ROWS[@]}"; do
		IFS='~' read -r flags pat subj want <<< "${PCRE_ROWS[$i]}"
		got=$(backend_of / -H "X-T: $i" -H "X-S: $subj")
		[ "$got" = ws ] && got=1 || got=0
		if [ "$got" != "$want" ]; then
			echo "row $i: $flags '$pat' on '$subj': $got, HAProxy: $want"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "HTTP_URL_ABS is url_reg ^[^/:]*://" {
	start_rules <<-'EOF'
	    use_backend ws if HTTP_URL_ABS
	EOF
	[ "$(backend_of /x)" = www ]
	run curl -s -m 5 -x "http://127.0.0.1:$PPORT" http://example.com/p
	[[ "$output" == *"backend=ws"* ]]
}

@test "every PCRE-only construct is refused at load with FILE:LINE: and -c exits 1" {
	local p
	for p in '^/a/\d+?$' 'a*?' 'a??' '(?i)abc' 'foo(?=bar)' '(?<!x)a' \
	    '(?:a|b)' '^a{,3}$' '^a{$' 'a++' 'a{2}+' '(a)\1' '^\Qa.b\E$' \
	    'a**' '^*a' '[\D]' '\p{L}' '(*UTF)a' '\0101' '[[:^digit:]]' \
	    '[:alpha:]' '[[:a-b:]]'; do
		check_acl "    acl bad path_reg '$p'"
		echo "$p: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"check.cfg:9: error detected while parsing ACL 'bad' : regex '$p' is refused at offset "* ]]
	done
}

@test "the messages of refused constructs say what to write instead" {
	check_acl "    acl bad path_reg '^/a/\d+?$'"
	[[ "$output" == *"lazy quantifiers"*"drop the '?'"* ]]
	check_acl "    acl bad path_reg '(?i)abc'"
	[[ "$output" == *"use the ACL flag -i"* ]]
	check_acl "    acl bad path_reg '(?:a|b)'"
	[[ "$output" == *"write '('"* ]]
	check_acl "    acl bad path_reg '^a{,3}$'"
	[[ "$output" == *"write '{0,n}' for a repeat"* ]]
	check_acl "    acl bad hdr_reg(x) '(a)\\1'"
	[[ "$output" == *"back-reference '\\1'"* ]]
}

@test "a pattern regcomp() refuses gives its message, FILE:LINE: and exit 1" {
	check_acl "    acl bad url_reg 'a{3,2}'"
	[ "$status" -eq 1 ]
	[[ "$output" == *"check.cfg:9: error detected while parsing ACL 'bad' : regex 'a{3,2}' is invalid (error="* ]]
	# glibc's regerror() text
	[[ "$output" == *"Invalid content of \\{\\}"* ]]
	check_acl "    use_backend www if { path_reg -i '([a-z' }"
	[ "$status" -eq 1 ]
	[[ "$output" == *"check.cfg:9: "*"regex '([a-z' is refused at offset 1: missing terminating ] for character class."* ]]
}

@test "GNU extensions that behave as in PCRE load: \\b, \\B, and escaped punctuation is literal" {
	check_acl "    acl ok hdr_reg(x) '\\bfoo\\b' '\\Bx' '^\\/a\\.b\\<c\\>\$' '^[]a-]\$' '^(a|)\$'"
	[ "$status" -eq 0 ]
	start_rules <<-'EOF'
	    use_backend ws if { hdr_reg(x-w) '\bfoo\b' }
	    use_backend ws if { path_reg '^/\<x\>$' }
	EOF
	[ "$(backend_of / -H 'X-W: a foo.')" = ws ]
	[ "$(backend_of / -H 'X-W: afoo')" = www ]
	[ "$(backend_of '/%3Cx%3E')" = www ]
	[ "$(backend_of '/<x>')" = ws ]
}

@test "a reload with a bad regex keeps the running configuration" {
	start_rules <<-'EOF'
	    use_backend ws if { path_reg ^/w/\d+$ }
	EOF
	[ "$(backend_of /w/1)" = ws ]
	sed -e 's|path_reg ^/w/\\d+\$|path_reg ^/w/\\d+?$|' \
	    -e 's/default_backend www/default_backend ws/' \
	    "$W/proxy.cfg" > "$W/new.cfg"
	grep -q 'd+?\$' "$W/new.cfg"
	cp "$W/new.cfg" "$W/proxy.cfg"
	kill -HUP "$PROXY_PID"
	wait_for_line "$W/proxy.err" 'is invalid; still running the previous configuration'
	grep -q "proxy.cfg:[0-9]*: .*regex '^/w/\\\\d+?\$' is refused" "$W/proxy.err"
	[ "$(backend_of /w/1)" = ws ]
	[ "$(backend_of /other)" = www ]
}

@test "keep-alive: every request on one connection is routed afresh by the regex ACLs" {
	start_rules <<-'EOF'
	    acl is_ws path_reg ^/ws/\d+$
	    use_backend ws if is_ws
	EOF
	u="http://127.0.0.1:$PPORT"
	run curl -s -v -m 5 "$u/a" "$u/ws/1" "$u/ws/x" "$u/ws/22" "$u/c"
	[ "$status" -eq 0 ]
	got=$(grep -o '^backend=[a-z]*' <<< "$output" | tr '\n' ' ')
	[ "$got" = "backend=www backend=ws backend=www backend=ws backend=www " ]
	[ "$(grep -c 'Re-using existing connection' <<< "$output")" -eq 4 ]
}

@test "valgrind: regex ACLs, compiled and refused, are freed with the configuration" {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	not_sanitized "valgrind cannot run it"
	printf '^/f[0-9]$\n^/g\\d$\n' > "$W/pats"
	cat > "$W/good.cfg" <<-EOF
	defaults
	  mode http
	  timeout connect 1s
	  timeout client 1s
	  timeout server 1s
	frontend f
	  bind 127.0.0.1:9
	  acl a path_reg ^/a/\d+$ '[\w.-]+' -i x
	  acl a url_reg \?q= -f $W/pats
	  acl h hdr_reg(x) ^b$
	  acl m req.hdr(y) -m reg -i ^(a|b)+$
	  use_backend b if a || h m { path -m reg ^/x } || HTTP_URL_ABS
	  default_backend b
	backend b
	  server s 127.0.0.1:9
	EOF
	run "${VALGRIND[@]}" "$WSPROXY" -c -f "$W/good.cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	{ sed -e '/default_backend/d' -e '/^backend/,$d' "$W/good.cfg"
	  echo "  acl bad1 path_reg ^/a ^/b a*? ^/c"
	  echo "  acl bad2 hdr_reg(x) ^ok ([a-z"
	  echo "  acl bad3 url_reg ^/a a{3,2}"
	  echo "  use_backend b if { path_reg ^/x ^/y (?i)z }"
	  echo "  use_backend b if a { url_reg ^/a \\1 }"
	  echo "  default_backend b"
	  echo "backend b"
	  echo "  server s 127.0.0.1:9"
	} > "$W/bad.cfg"
	run "${VALGRIND[@]}" "$WSPROXY" -c -f "$W/bad.cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(grep -c 'regex' <<< "$output")" -eq 5 ]
}
