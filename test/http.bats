#!/usr/bin/env bats
# HTTP/1.1 through the proxy: bodies and framing, keep-alive and
# pipelining, the connection options, and the error responses.

load helpers

# start_http_proxy: www for everything, ws for /ws*; extra frontend lines
# on stdin.
start_http_proxy() {
	start_classic < <(echo "    use_backend ws if { path_beg /ws }"
	    echo "    default_backend www"; cat)
}

# crlf: turns the LF line ends of a here-document into CRLF.
crlf() {
	sed 's/$/\r/'
}

@test "a Content-Length request body arrives intact" {
	start_http_proxy < /dev/null
	head -c 300000 /dev/urandom | base64 -w 0 > "$W/body"
	run curl -s -m 10 --data-binary @"$W/body" "http://127.0.0.1:$PPORT/post"
	[ "$status" -eq 0 ]
	[[ "$output" == *"body=$(stat -c %s "$W/body")"* ]]
	[[ "$output" == *"$(tail -c 100 "$W/body")" ]]
}

@test "a chunked request body is forwarded with its framing" {
	start_http_proxy < /dev/null
	head -c 100000 /dev/urandom | base64 -w 0 > "$W/body"
	run curl -s -m 10 -H 'Transfer-Encoding: chunked' --data-binary @"$W/body" \
		"http://127.0.0.1:$PPORT/chunked-up"
	[ "$status" -eq 0 ]
	[[ "$output" == *"body=$(stat -c %s "$W/body")"* ]]
	grep -qi '^Transfer-Encoding: chunked' "$W/www.log"
}

@test "chunked with extensions and trailers, then a second request on the connection" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	POST /a HTTP/1.1
	Host: x
	Transfer-Encoding: chunked

	5;ext=1
	hello
	7
	, world
	0
	Trailer-A: 1

	GET /b HTTP/1.1
	Host: x
	Connection: close

	EOF
	)
	[ "$status" -eq 0 ]
	[[ "$output" == *"body=12"* ]]
	[[ "$output" == *"hello, world"* ]]
	[[ "$output" == *"GET /b HTTP/1.1"* ]]
	[ "$(grep -o 'HTTP/1.1 200' <<< "$output" | wc -l)" -eq 2 ]
}

@test "a chunked response is relayed and the connection stays usable" {
	start_http_proxy < /dev/null
	u="http://127.0.0.1:$PPORT"
	run curl -s -v -m 5 "$u/chunked" "$u/after"
	[ "$status" -eq 0 ]
	[[ "$output" == *"GET /chunked HTTP/1.1"* ]]
	[[ "$output" == *"GET /after HTTP/1.1"* ]]
	[[ "$output" == *"Re-using existing connection"* ]]
	[[ "$output" == *"ransfer-Encoding: chunked"* ]]
}

@test "a large Content-Length response arrives complete" {
	start_http_proxy < /dev/null
	run curl -s -m 10 -o "$W/big" -w '%{http_code} %{size_download}' \
		"http://127.0.0.1:$PPORT/big/5000000"
	[ "$output" = "200 5000000" ]
}

@test "a response delimited by close is relayed, then the client connection closes" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /close HTTP/1.1
	Host: x

	GET /never HTTP/1.1
	Host: x

	EOF
	)
	[ "$status" -eq 0 ]   # EOF, not a timeout
	[[ "$output" == *"Connection: close"* ]]
	[[ "$output" == *"GET /close HTTP/1.1"* ]]
	[[ "$output" != *"GET /never"* ]]
}

@test "HEAD, 204 and 304 responses have no body; the next request still works" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	HEAD /h HTTP/1.1
	Host: x

	GET /status/204 HTTP/1.1
	Host: x

	GET /status/304 HTTP/1.1
	Host: x

	GET /last HTTP/1.1
	Host: x
	Connection: close

	EOF
	)
	[ "$status" -eq 0 ]
	[ "$(grep -c '^HTTP/1.1' <<< "$output")" -eq 4 ]
	[[ "${lines[0]}" == "HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"HTTP/1.1 204 Test"* ]]
	[[ "$output" == *"HTTP/1.1 304 Test"* ]]
	[[ "$output" == *"GET /last HTTP/1.1"* ]]
	# the HEAD answer carried no body: no body line before the 204
	[ "$(sed -n '1,/204 Test/p' <<< "$output" | grep -c '^backend=')" -eq 0 ]
}

@test "pipelined requests are answered in order, each routed afresh" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /one HTTP/1.1
	Host: x

	POST /ws/two HTTP/1.1
	Host: x
	Content-Length: 5

	12345GET /three HTTP/1.1
	Host: x
	Connection: close

	EOF
	)
	[ "$status" -eq 0 ]
	got=$(grep -o '^backend=[a-z]*\|^GET /[a-z]*\|^POST /ws/[a-z]*' <<< "$output" | tr '\n' ' ')
	[ "$got" = "backend=www GET /one backend=ws POST /ws/two backend=www GET /three " ]
	[[ "$output" == *$'\n12345'* ]]
}

@test "HTTP/1.0: closed unless it asks for keep-alive" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /a HTTP/1.0

	GET /b HTTP/1.0

	EOF
	)
	[ "$status" -eq 0 ]
	[[ "$output" == *"Connection: close"* ]]
	[ "$(grep -c '^HTTP/1.1 200' <<< "$output")" -eq 1 ]
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /a HTTP/1.0
	Connection: keep-alive

	GET /b HTTP/1.0

	EOF
	)
	[ "$status" -eq 0 ]
	[[ "$output" == *"Connection: keep-alive"* ]]
	[ "$(grep -c '^HTTP/1.1 200' <<< "$output")" -eq 2 ]
}

@test "Connection: close from the client closes after the response" {
	start_http_proxy < /dev/null
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /a HTTP/1.1
	Host: x
	Connection: close

	GET /b HTTP/1.1
	Host: x

	EOF
	)
	[ "$status" -eq 0 ]
	[ "$(grep -c '^HTTP/1.1 200' <<< "$output")" -eq 1 ]
	[[ "$output" == *"Connection: close"* ]]
}

@test "option httpclose on the frontend closes the client side after each response" {
	start_http_proxy <<-'EOF'
	    option httpclose
	EOF
	run raw -t 2000 < <(crlf <<-'EOF'
	GET /a HTTP/1.1
	Host: x

	GET /b HTTP/1.1
	Host: x

	EOF
	)
	[ "$status" -eq 0 ]
	[ "$(grep -c '^HTTP/1.1 200' <<< "$output")" -eq 1 ]
	[[ "$output" == *"Connection: close"* ]]
}

@test "Expect: 100-continue gets the server's interim 100, then the response" {
	start_http_proxy < /dev/null
	head -c 3000 /dev/zero | tr '\0' x > "$W/body"
	run curl -s -v -m 5 -H 'Expect: 100-continue' --data-binary @"$W/body" \
		"http://127.0.0.1:$PPORT/100continue"
	[ "$status" -eq 0 ]
	[[ "$output" == *"HTTP/1.1 100 Continue"* ]]
	[[ "$output" == *"body=3000"* ]]
}

@test "the client timeout does not run while the server prepares its answer" {
	CLIENT_TIMEOUT=300ms SERVER_TIMEOUT=5s start_http_proxy < /dev/null
	run curl -s -m 5 "http://127.0.0.1:$PPORT/sleep/1000"
	[ "$status" -eq 0 ]
	[[ "$output" == *"backend=www"* ]]
}

@test "400 for a request that does not parse; nothing reaches the server" {
	start_http_proxy < /dev/null
	printf 'GARBAGE\r\n\r\n' | raw -t 2000 > "$W/out"
	expected=$'HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n'
	[ "$(cat "$W/out")" = "${expected%$'\n'}" ]
	for bad in 'GET /a b HTTP/1.1' 'GET /a' 'GET /a HTTP/2.0' 'GET /#frag HTTP/1.1'; do
		run raw -t 2000 < <(printf '%s\r\nHost: x\r\n\r\n' "$bad")
		[[ "${lines[0]}" == "HTTP/1.1 400 Bad request"* ]]
	done
	run raw -t 2000 < <(printf 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n')
	[[ "${lines[0]}" == "HTTP/1.1 400 Bad request"* ]]
	run raw -t 2000 < <(printf 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx')
	[[ "${lines[0]}" == "HTTP/1.1 400 Bad request"* ]]
	[ ! -s "$W/www.log" ]
}

@test "400 for a request head larger than the buffer allows" {
	start_http_proxy < /dev/null
	long=$(head -c 16000 /dev/zero | tr '\0' a)
	run raw -t 2000 < <(printf 'GET / HTTP/1.1\r\nX-Long: %s\r\n\r\n' "$long")
	[[ "${lines[0]}" == "HTTP/1.1 400 Bad request"* ]]
	ok=$(head -c 14000 /dev/zero | tr '\0' a)
	run raw -t 2000 < <(printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Long: %s\r\nConnection: close\r\n\r\n' "$ok")
	[[ "${lines[0]}" == "HTTP/1.1 200 OK"* ]]
}

@test "408 when the head does not arrive within timeout http-request" {
	start_http_proxy <<-'EOF'
	    timeout http-request 500ms
	EOF
	run raw -S -t 3000 -d 100 < <(printf 'GET / HTTP/1.1\r\n@@@Host: x\r\n')
	[[ "${lines[0]}" == "HTTP/1.1 408 Request Time-out"* ]]
	[[ "$output" == *"Content-length: 110"* ]]
	# a silent new connection gets the same answer
	run raw -t 3000 < /dev/null
	[[ "${lines[0]}" == "HTTP/1.1 408 Request Time-out"* ]] || [[ -z "$output" ]]
}

@test "timeout http-request counts from the first byte, not from the last one" {
	start_http_proxy <<-'EOF'
	    timeout http-request 800ms
	EOF
	# a byte every 300 ms never completes the head in time
	trickle=$(printf 'G@@@E@@@T@@@ @@@/@@@ @@@H@@@T@@@T@@@P')
	start=$(date +%s%N)
	run raw -t 4000 -d 300 <<< "$trickle"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "${lines[0]}" == "HTTP/1.1 408 Request Time-out"* ]]
	[ "$elapsed" -lt 2500 ]
}

@test "an idle keep-alive connection is closed silently after timeout http-keep-alive" {
	start_http_proxy <<-'EOF'
	    timeout http-keep-alive 400ms
	EOF
	start=$(date +%s%N)
	run raw -t 5000 < <(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$status" -eq 0 ]
	[ "$(grep -c '^HTTP/1.1' <<< "$output")" -eq 1 ]
	[[ "$output" != *"408"* ]]
	[ "$elapsed" -lt 3000 ]
}

@test "503 when the server cannot be reached, after the retries" {
	free_ports 2; PPORT=${PORTS[0]}; dead=${PORTS[1]}
	start_proxy <<-EOF
	defaults
	    mode http
	    retries 2
	    timeout connect 200ms
	    timeout client 5s
	    timeout server 5s
	frontend public
	    bind 127.0.0.1:$PPORT
	    default_backend dead
	backend dead
	    server d1 127.0.0.1:$dead
	EOF
	start=$(date +%s%N)
	run http_get /
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "${lines[0]}" == "HTTP/1.1 503 Service Unavailable"* ]]
	[[ "$output" == *"Content-length: 107"* ]]
	[[ "$output" == *"No server is available to handle this request."* ]]
	# two pauses of min(timeout connect, 1s) between three attempts
	[ "$elapsed" -ge 380 ]
}

@test "502 when the server answers garbage or closes without answering" {
	start_http_proxy < /dev/null
	run http_get /garbage
	[[ "${lines[0]}" == "HTTP/1.1 502 Bad Gateway"* ]]
	[[ "$output" == *"The server returned an invalid or incomplete response."* ]]
	run http_get /nothing
	[[ "${lines[0]}" == "HTTP/1.1 502 Bad Gateway"* ]]
}

@test "504 when the server does not answer within timeout server" {
	SERVER_TIMEOUT=400ms start_http_proxy < /dev/null
	run http_get /sleep/3000
	[[ "${lines[0]}" == "HTTP/1.1 504 Gateway Time-out"* ]]
	[[ "$output" == *"Content-length: 92"* ]]
}

@test "option forwardfor adds X-Forwarded-For with the client address" {
	start_http_proxy <<-'EOF'
	    option forwardfor
	EOF
	run http_get / -H 'X-Forwarded-For: 1.2.3.4'
	[[ "$output" == *$'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 127.0.0.1\r\nConnection: close'* ]]
}
