#!/usr/bin/env bats
# Stick tables (config-reference.md 13, and show table in 14.5) outside
# the proxy: test/stktest drives sticktable.c with its own clock and its
# own processes (see the comment at the top of test/stktest.c). Each
# case prints "ok CASE" or "not ok CASE: what went wrong".

load helpers

STK="$BATS_TEST_DIRNAME/stktest"

# stk CASE: the case ran and passed.
stk() {
	run "$STK" "$1"
	[ "$status" -eq 0 ] && [ "${lines[-1]}" = "ok $1" ] || {
		echo "got ($status): [$output]" >&2; return 1; }
}

@test "rates read as 13.4 says: 4 events at 0 read 4 3 3 2 2 1 1 0 from 1.76 s to 3.51 s" {
	stk rates
}

@test "tracking counts conn_cnt, conn_cur and conn_rate; untrack never goes below 0" {
	stk track
}

@test "gpc0_rate and gpc1_rate count with the gpc increments" {
	stk gpc_rate
}

@test "expire 4s: present at 3.5 s, gone at 4.5 s, never while held" {
	stk expire
}

@test "a full table evicts its oldest entry no one holds; clear table spares held ones" {
	stk evict
}

@test "nopurge: a full table stores no new key until one expires" {
	stk nopurge
}

@test "keys of every type: IPv6 not tracked by type ip, IPv4 as ::ffff: in type ipv6" {
	stk keys
}

@test "show table's lines, data in 2.6's internal order" {
	stk dump
}

@test "a reload with the same definition keeps the table; another one starts empty" {
	stk map
}

@test "a table of 16M entries costs only the pages its entries use" {
	stk big
}

@test "what a child tracks the parent reads" {
	stk fork
}

@test "a child killed while it holds the lock: the next locker rebuilds the table" {
	stk robust
}

@test "children killed at random while they update: the table stays consistent" {
	stk killstorm
}

@test "8 processes x 2000 track/untrack: counts exact, conn_cur back to 0" {
	stk many
}

@test "an unknown case is refused" {
	run "$STK" nosuch
	[ "$status" -eq 2 ]
}
