#!/usr/bin/env bats
# The identity a configuration asks for: "user" alone takes the user's
# primary group, never root's group 0; inetd mode (-i), which cannot
# change identity or root directory, refuses the lines that ask for it.

load helpers

# child_of_proxy: a WebSocket kept open 1.5 s (its wsclient CLIENT) and
# the proxy's child serving it (CHILD).
child_of_proxy() {
	"$T/wsclient" -p "$PPORT" -q -n 1 -W 1500 > "$W/ws.out" 2>&1 3>&- &
	CLIENT=$!
	STARTED_PIDS+=("$CLIENT")
	wait_for 50 handshakes 1
	CHILD=$(pgrep -P "$PROXY_PID" | head -1)
	[ -n "$CHILD" ]
}

# ids PID: who the process runs as, from /proc/PID/status, in one line:
# "uid R E S FS gid R E S FS groups G...".
ids() {
	awk '$1 == "Uid:" || $1 == "Gid:" || $1 == "Groups:" {
		$1 = tolower(substr($1, 1, length($1) - 1))
		printf "%s%s", sep, $0; sep = " " }
		END { print "" }' "/proc/$1/status"
}

# start_as "GLOBAL LINE": backend ws behind the proxy, which runs with
# that line in its global section.
start_as() {
	start_backend ws
	start_public_proxy ws "$1" <<-EOF
	backend ws
	    server ws1 127.0.0.1:$BPORT_ws
	EOF
}

@test "user nobody without group: the child runs in nobody's primary group, not group 0" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	gid=$(getent passwd nobody | cut -d: -f4)
	[ -n "$gid" ] && [ "$gid" -ne 0 ]
	start_as 'user nobody'
	child_of_proxy
	got=$(ids "$CHILD")
	echo "$got"
	[ "$got" = "uid 65534 65534 65534 65534 gid $gid $gid $gid $gid groups" ]
	wait "$CLIENT"
}

@test "a numeric uid without gid takes the primary group of its passwd entry" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	uid=$(getent passwd nobody | cut -d: -f3)
	gid=$(getent passwd nobody | cut -d: -f4)
	start_as "uid $uid"
	child_of_proxy
	[[ "$(ids "$CHILD")" == *" gid $gid $gid $gid $gid "* ]]
	wait "$CLIENT"
}

@test "a uid without passwd entry needs a gid or group line" {
	uid=54321
	! getent passwd "$uid" > /dev/null || skip "uid $uid exists here"
	printf 'global\n  uid %s\n' "$uid" > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: uid 54321 has no passwd entry to take a primary group from: add a 'gid' or 'group' line"* ]]
	printf 'global\n  uid %s\n  gid 54321\n' "$uid" > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 0 ]
}

@test "uid and gid values that are not numbers are errors, not ignored" {
	printf 'global\n  uid nobody\n  gid -1\n' > "$W/t.cfg"
	run "$WSPROXY" -c -f "$W/t.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.cfg:2: uid: 'nobody' is not a valid number."* ]]
	[[ "$output" == *"t.cfg:3: gid: '-1' is not a valid number."* ]]
}

inetd_config() {
	cat > "$W/inetd.cfg" <<-EOF
	global
	    log 127.0.0.1:$UPORT_log local0
	    chroot /
	    user nobody
	    group nogroup
	$(defaults_section)
	frontend first
	    default_backend www
	backend www
	    server www1 127.0.0.1:1
	EOF
}

@test "-c -i: chroot, user and group lines are reported as FILE:LINE errors" {
	UPORT_log=9
	inetd_config
	run "$WSPROXY" -c -i -f "$W/inetd.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"inetd.cfg:3: 'chroot' cannot be honoured in inetd mode (-i)"* ]]
	[[ "$output" == *"inetd.cfg:4: 'user/uid' cannot be honoured in inetd mode (-i)"* ]]
	[[ "$output" == *"inetd.cfg:5: 'group/gid' cannot be honoured in inetd mode (-i)"* ]]
	[[ "$output" != *"Configuration file is valid"* ]]
	# without -i the same file is valid
	run "$WSPROXY" -c -f "$W/inetd.cfg"
	[ "$status" -eq 0 ]
}

@test "-i with a user line: exit 1, nothing on fd 1 or 2, the reason in the log target" {
	start_udpsink log
	inetd_config
	rc=0
	printf 'GET / HTTP/1.0\r\n\r\n' |
		"$WSPROXY" -i -f "$W/inetd.cfg" > "$W/out" 2> "$W/err" || rc=$?
	[ "$rc" -eq 1 ]
	[ ! -s "$W/out" ]
	[ ! -s "$W/err" ]
	wait_for_line "$W/log.udp" "inetd.cfg:4: 'user/uid' cannot be honoured in inetd mode"
}
