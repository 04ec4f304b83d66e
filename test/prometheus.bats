#!/usr/bin/env bats
# The Prometheus exporter (config-reference.md 14.4): "http-request
# use-service prometheus-exporter", its answer, and its body read by a
# real parser, Debian's python3-prometheus-client: HAProxy 2.6's
# families, types, labels, one series per state, counters that grow.

load helpers

# prom_python: a python3 that has the parser (Debian's, in /usr/bin,
# when another python3 comes first in PATH); skips the test without one.
prom_python() {
	local py
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null &&
		    "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
			PY=$py
			return 0
		fi
	done
	skip "python3-prometheus-client is not installed (CI installs it)"
}

prom_proxy() {
	start_backend www
	free_ports 2; PPORT=${PORTS[0]}; DEAD=${PORTS[1]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    http-request use-service prometheus-exporter if { path /metrics }
	    http-request deny if { path /forbidden }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www check inter 200ms
	    server www2 127.0.0.1:$DEAD check inter 200ms fall 1
	    stick-table type ip size 100 store conn_cur
	    http-request track-sc0 src
	EOF
}

# sample NAME LABELS...: the value of the series NAME{LABELS} (k=v each)
# in $W/metrics.txt, as the parser reads it.
sample() {
	"$PY" - "$W/metrics.txt" "$@" <<-'PY'
	import sys
	from prometheus_client.parser import text_string_to_metric_families
	name, want = sys.argv[2], dict(a.split('=', 1) for a in sys.argv[3:])
	for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
	    for s in fam.samples:
	        if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
	            print(int(s.value))
	            sys.exit(0)
	sys.exit(1)
	PY
}

scrape() {
	curl -s --max-time 5 "http://127.0.0.1:$PPORT/metrics" > "$W/metrics.txt"
}

@test "use-service: only prometheus-exporter; in the rules of http-request" {
	printf 'defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:18090\n    http-request use-service lua.hello\n' > "$W/e.cfg"
	run "$WSPROXY" -c -f "$W/e.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.cfg:5: "*"unknown service 'lua.hello'"* ]]
	printf 'defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:18090\n    http-response use-service prometheus-exporter\n' > "$W/e.cfg"
	run "$WSPROXY" -c -f "$W/e.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.cfg:5: "* ]]
	printf 'defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:18090\n    http-request use-service prometheus-exporter if { path /metrics }\n' > "$W/ok.cfg"
	run "$WSPROXY" -c -f "$W/ok.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" != *warning* ]]
}

@test "the exporter answers 2.6's head; other paths reach the backend" {
	prom_proxy
	run curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:$PPORT/metrics"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" == *$'content-type: text/plain; version=0.0.4\r'* ]]
	[[ "$output" == *$'cache-control: no-cache\r'* ]]
	run curl -s -D - --max-time 5 "http://127.0.0.1:$PPORT/metricsX"
	[[ "$output" == *"X-Backend: www"* ]]
}

@test "the body parses with prometheus_client: 2.6's families, types, help lines and labels" {
	prom_python
	prom_proxy
	wait_for 50 sh -c "curl -s 'http://127.0.0.1:$PPORT/metrics' | grep -q 'server=\"www2\",state=\"DOWN\"} 1'"
	scrape
	run "$PY" - "$W/metrics.txt" <<-'PY'
	import sys
	from prometheus_client.parser import text_string_to_metric_families
	fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
	want = {
	    'haproxy_process_nbthread': 'gauge',
	    'haproxy_process_uptime_seconds': 'gauge',
	    'haproxy_process_max_connections': 'gauge',
	    'haproxy_process_current_connections': 'gauge',
	    'haproxy_process_connections': 'counter',
	    'haproxy_process_requests': 'counter',
	    'haproxy_process_current_connection_rate': 'gauge',
	    'haproxy_process_build_info': 'gauge',
	    'haproxy_process_start_time_seconds': 'gauge',
	    'haproxy_frontend_current_sessions': 'gauge',
	    'haproxy_frontend_max_sessions': 'gauge',
	    'haproxy_frontend_limit_sessions': 'gauge',
	    'haproxy_frontend_sessions': 'counter',
	    'haproxy_frontend_bytes_in': 'counter',
	    'haproxy_frontend_bytes_out': 'counter',
	    'haproxy_frontend_requests_denied': 'counter',
	    'haproxy_frontend_request_errors': 'counter',
	    'haproxy_frontend_status': 'gauge',
	    'haproxy_frontend_http_requests': 'counter',
	    'haproxy_frontend_http_responses': 'counter',
	    'haproxy_frontend_connections': 'counter',
	    'haproxy_frontend_denied_connections': 'counter',
	    'haproxy_frontend_intercepted_requests': 'counter',
	    'haproxy_backend_current_queue': 'gauge',
	    'haproxy_backend_current_sessions': 'gauge',
	    'haproxy_backend_sessions': 'counter',
	    'haproxy_backend_connection_errors': 'counter',
	    'haproxy_backend_response_errors': 'counter',
	    'haproxy_backend_retry_warnings': 'counter',
	    'haproxy_backend_redispatch_warnings': 'counter',
	    'haproxy_backend_status': 'gauge',
	    'haproxy_backend_weight': 'gauge',
	    'haproxy_backend_active_servers': 'gauge',
	    'haproxy_backend_backup_servers': 'gauge',
	    'haproxy_backend_loadbalanced': 'counter',
	    'haproxy_backend_http_responses': 'counter',
	    'haproxy_server_current_sessions': 'gauge',
	    'haproxy_server_sessions': 'counter',
	    'haproxy_server_status': 'gauge',
	    'haproxy_server_weight': 'gauge',
	    'haproxy_server_check_status': 'gauge',
	    'haproxy_server_check_failures': 'counter',
	    'haproxy_server_check_up_down': 'counter',
	    'haproxy_server_downtime_seconds': 'counter',
	    'haproxy_server_connection_errors': 'counter',
	    'haproxy_sticktable_size': 'gauge',
	    'haproxy_sticktable_used': 'gauge',
	}
	bad = 0
	for name, kind in want.items():
	    f = fams.get(name)
	    if f is None or f.type != kind or not f.documentation or not f.samples:
	        print('missing or wrong:', name, f and f.type)
	        bad = 1
	labels = {'haproxy_frontend_sessions': {'proxy'},
	          'haproxy_backend_sessions': {'proxy'},
	          'haproxy_server_sessions': {'proxy', 'server'},
	          'haproxy_frontend_http_responses': {'proxy', 'code'},
	          'haproxy_server_status': {'proxy', 'server', 'state'},
	          'haproxy_sticktable_size': {'name'}}
	for name, keys in labels.items():
	    for s in fams[name].samples:
	        if set(s.labels) != keys:
	            print('labels of', name, s.labels)
	            bad = 1
	codes = {s.labels['code'] for s in fams['haproxy_frontend_http_responses'].samples}
	if codes != {'1xx', '2xx', '3xx', '4xx', '5xx', 'other'}:
	    print('codes', codes)
	    bad = 1
	sys.exit(bad)
	PY
	echo "$output"
	[ "$status" -eq 0 ]
	# the status: one series per state, 1 for the one the server is in
	[ "$(sample haproxy_server_status proxy=www server=www1 state=UP)" = 1 ]
	[ "$(sample haproxy_server_status proxy=www server=www1 state=DOWN)" = 0 ]
	[ "$(sample haproxy_server_status proxy=www server=www1 state=MAINT)" = 0 ]
	[ "$(sample haproxy_server_status proxy=www server=www1 state=DRAIN)" = 0 ]
	[ "$(sample haproxy_server_status proxy=www server=www1 state=NOLB)" = 0 ]
	[ "$(sample haproxy_server_status proxy=www server=www2 state=DOWN)" = 1 ]
	[ "$(sample haproxy_server_status proxy=www server=www2 state=UP)" = 0 ]
	[ "$(sample haproxy_backend_status proxy=www state=UP)" = 1 ]
	[ "$(sample haproxy_backend_active_servers proxy=www)" = 1 ]
	[ "$(sample haproxy_sticktable_size name=www)" = 100 ]
}

@test "counters grow: requests, responses per class, sessions, denials, intercepted requests, balancer picks" {
	prom_python
	prom_proxy
	wait_for 50 sh -c "curl -s 'http://127.0.0.1:$PPORT/metrics' | grep -q 'server=\"www2\",state=\"DOWN\"} 1'"
	scrape
	req=$(sample haproxy_frontend_http_requests_total proxy=fe)
	ok=$(sample haproxy_frontend_http_responses_total proxy=fe code=2xx)
	sess=$(sample haproxy_frontend_sessions_total proxy=fe)
	icpt=$(sample haproxy_frontend_intercepted_requests_total proxy=fe)
	for i in 1 2 3; do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PPORT/x$i"; done
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PPORT/forbidden"
	scrape
	# the scrapes are requests too, answered by the proxy itself
	[ "$(sample haproxy_frontend_http_requests_total proxy=fe)" -eq $((req + 5)) ]
	[ "$(sample haproxy_frontend_http_responses_total proxy=fe code=2xx)" -eq $((ok + 4)) ]
	[ "$(sample haproxy_frontend_http_responses_total proxy=fe code=4xx)" -eq 1 ]
	[ "$(sample haproxy_frontend_sessions_total proxy=fe)" -eq $((sess + 5)) ]
	[ "$(sample haproxy_frontend_requests_denied_total proxy=fe)" -eq 1 ]
	[ "$(sample haproxy_frontend_intercepted_requests_total proxy=fe)" -eq $((icpt + 1)) ]
	[ "$(sample haproxy_backend_loadbalanced_total proxy=www)" -eq 3 ]
	[ "$(sample haproxy_server_sessions_total proxy=www server=www1)" -eq 3 ]
	[ "$(sample haproxy_server_http_responses_total proxy=www server=www1 code=2xx)" -eq 3 ]
	[ "$(sample haproxy_backend_http_responses_total proxy=www code=2xx)" -eq 3 ]
	[ "$(sample haproxy_process_requests_total)" -ge $((req + 5)) ]
	[ "$(sample haproxy_sticktable_used name=www)" -ge 1 ]
}

@test "connections: every accepted one counts, those tcp-request connection rejects count as denied" {
	prom_python
	start_backend www
	free_ports 1; PPORT=${PORTS[0]}
	start_proxy <<-EOF
	$(defaults_section)
	frontend fe
	    bind 127.0.0.1:$PPORT
	    tcp-request connection reject if { src 127.0.0.2 }
	    http-request use-service prometheus-exporter if { path /metrics }
	    default_backend www
	backend www
	    server www1 127.0.0.1:$BPORT_www
	EOF
	scrape
	conns=$(sample haproxy_frontend_connections_total proxy=fe)
	[ "$(sample haproxy_frontend_denied_connections_total proxy=fe)" -eq 0 ]
	run curl -s --max-time 5 --interface 127.0.0.2 "http://127.0.0.1:$PPORT/x"
	[ "$status" -ne 0 ]     # reset, nothing sent
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PPORT/y"
	scrape
	[ "$(sample haproxy_frontend_denied_connections_total proxy=fe)" -eq 1 ]
	[ "$(sample haproxy_frontend_connections_total proxy=fe)" -eq $((conns + 3)) ]
	[ "$(sample haproxy_process_connections_total)" -eq $((conns + 3)) ]
}
