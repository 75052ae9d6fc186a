#!/usr/bin/env bash
# `hotline demo` as a newcomer runs it: it starts, its agents' phones register, a simulated
# caller reaches an agent within a minute and a half (the call is bridged and recorded),
# the shift lead's demo login works, and Ctrl-C (SIGTERM) leaves no phone or caller behind.
set -euo pipefail
bin=$(realpath "$1")
source "$(dirname "$(realpath "$0")")/checks.sh"
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]]; then kill -9 -- "-$pid" 2>/dev/null || true; fi
  pkill -9 -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p var
if [[ -n "${HOTLINE_TEST_PROMPTS:-}" && -d "$HOTLINE_TEST_PROMPTS" ]]; then ln -s "$HOTLINE_TEST_PROMPTS" var/prompts; fi
sip_port=$(free_port)
cat >hotline.toml <<TOML
[server]
data_dir = "var"  # relative, as the default ./var a newcomer gets
[http]
listen = "127.0.0.1"
port = 0
[sip]
listen = "127.0.0.1"
port = $sip_port
[media]
bind = "127.0.0.1"
port_min = 36000
port_max = 36999
[auth]
kdf_iterations = 1000
TOML

setsid "$bin" demo --config hotline.toml >out.txt 2>err.txt &
pid=$!
for _ in $(seq 300); do grep -q "hotline demo:" out.txt 2>/dev/null && break; sleep 0.1; done
check "demo starts and says how to log in" grep -q "password: hotline-demo" out.txt
port=$(sed -n 's/.*serving on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' out.txt)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/auth/login" \
  -d '{"username":"lead1","password":"hotline-demo"}')
check "the shift lead's demo login works" test "$code" = 200
registered() { [[ $(grep -c "msg=registration event=added" err.txt) -ge 6 ]]; }
for _ in $(seq 100); do registered && break; sleep 0.1; done
check "six agents' phones register" registered
recorded() { compgen -G "var/recordings/*.opus" >/dev/null; }
for _ in $(seq 900); do recorded && break; sleep 0.1; done
check "a caller reaches an agent within 90 s (bridged and recorded)" recorded
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the demo" bash -c "! kill -0 $pid 2>/dev/null"
sleep 0.5
none_left() { ! pgrep -f "^(baresip|sipp) .*$work/var/demo" >/dev/null; }
check "no phone or caller is left running" none_left
pid=
echo "$pass passed, $fail failed"
if [[ $fail -gt 0 ]]; then tail -30 err.txt; exit 1; fi
