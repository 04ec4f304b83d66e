#!/usr/bin/env bash
# make demo: the sample config (wsproxy.conf) in front of the test backend
# pair, "www" on 127.0.0.1:8081 and "ws" on 127.0.0.1:8082. Ctrl-C stops all.
set -eu
cd "$(dirname "$0")"

pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

./test/backend -p 8081 -n www & pids+=($!)
./test/backend -p 8082 -n ws & pids+=($!)

cat <<'MSG'
wsproxy demo: listening on 127.0.0.1:8080 (see wsproxy.conf). Try, in another terminal:

  curl -i -H 'Host: example.com' http://127.0.0.1:8080/          # -> www
  curl -i -H 'Host: example.com' http://127.0.0.1:8080/websockets # -> ws
  test/wsclient -p 8080 -H example.com -u /websockets -n 3        # WebSocket echo via ws
  test/wsclient -p 8080 -H example.com -u /chat -n 3              # the www backend echoes too

Ctrl-C stops the proxy and both backends.
MSG
./wsproxy -d -f wsproxy.conf & pids+=($!)
wait "${pids[2]}"
