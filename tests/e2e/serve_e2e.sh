#!/usr/bin/env bash
# Black-box test of the `hotline` binary as an operator uses it: first start prints the
# admin password, the API answers over curl, SIGTERM stops it cleanly, data survives a
# restart, `backup` copies while it serves and `verify` checks the copy.
set -euo pipefail
bin=$(realpath "$1")
source "$(dirname "$(realpath "$0")")/checks.sh"
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi  # already stopped: fine
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

cat >hotline.toml <<'TOML'
[server]
data_dir = "./var"
[http]
listen = "127.0.0.1"
port = 0
[sip]
listen = "127.0.0.1"
port = 0
[auth]
kdf_iterations = 1000
TOML

start() {
  "$bin" serve --config hotline.toml >out.txt 2>err.txt &
  pid=$!
  for _ in $(seq 100); do grep -q "serving on" out.txt 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*serving on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' out.txt)
}
stop() {
  local t0=$(date +%s%N)
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "     (stopped in ${ms} ms)"
  ! kill -0 "$pid" 2>/dev/null
}

# A config with a typo refuses to start and names file:line.
printf '[http]\nprot = 80\n' >bad.toml
set +e; "$bin" serve --config bad.toml 2>bad.txt; rc=$?; set -e
check "bad config refused" test "$rc" -ne 0
check "bad config names file:line" grep -q "bad.toml:2:" bad.txt

start
check "serves" test -n "$port"
pw=$(awk '/password:/ {print $2}' out.txt)
check "first start prints the admin password" test -n "$pw"
check "healthz" bash -c "curl -sf http://127.0.0.1:$port/healthz | grep -q '\"ok\"'"
curl -s "http://127.0.0.1:$port/metrics" >metrics.txt
check "metrics: calls and routing" bash -c "grep -q '^hotline_calls_active 0$' metrics.txt && grep -q '^hotline_acd_restarts_total 0$' metrics.txt"
check "metrics: the media threads" bash -c "grep -q '^hotline_media_thread_busy_ratio ' metrics.txt && grep -q '^hotline_media_late_ticks_total ' metrics.txt"
check "metrics: the SIP edge" bash -c "grep -q '^hotline_sip_bindings 0$' metrics.txt && grep -q '^hotline_sip_transactions ' metrics.txt"
tok=$(curl -s -XPOST "http://127.0.0.1:$port/v1/auth/login" -d "{\"username\":\"admin\",\"password\":\"$pw\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
check "login" test -n "$tok"
code=$(curl -s -o search.json -w '%{http_code}' -G "http://127.0.0.1:$port/v1/kb/search" \
  --data-urlencode "q=我换城市工作了养老保险怎么办" -H "Authorization: Bearer $tok")
check "knowledge-base search" bash -c "test $code = 200 && grep -q '\"hits\":\[{' search.json"
curl -s "http://127.0.0.1:$port/metrics" >metrics.txt
check "metrics: knowledge-base searches" bash -c "grep -q '^hotline_kb_search_seconds_count 1$' metrics.txt &&
  grep -q '^hotline_kb_search_threads [1-9]' metrics.txt && grep -q '^hotline_kb_searches_queued 0$' metrics.txt"
code=$(curl -s -o created.json -w '%{http_code}' -XPOST "http://127.0.0.1:$port/v1/users" -H "Authorization: Bearer $tok" \
  -d '{"username":"a1024","password":"agent-password-1","roles":["agent"],"work_id":"1024"}')
check "create user" test "$code" = 201
code=$(curl -s -o bad.json -w '%{http_code}' -XPOST "http://127.0.0.1:$port/v1/users" -H "Authorization: Bearer $tok" -d '{"username":')
check "bad JSON is a 400 with a message" bash -c "test $code = 400 && grep -q 'malformed JSON' bad.json"
check "backup while serving" "$bin" backup "$work/backup" --config hotline.toml
check "verify backup" "$bin" verify "$work/backup"
check "SIGTERM stops cleanly" stop
check "log is structured" grep -q "level=info module=app msg=stopped drained=yes" err.txt

start
check "restart keeps the user" bash -c "curl -s -XPOST http://127.0.0.1:$port/v1/auth/login \
  -d '{\"username\":\"a1024\",\"password\":\"agent-password-1\"}' | grep -q token"
check "no second admin password printed" bash -c "! grep -q password: out.txt"
stop >/dev/null
check "verify data dir" "$bin" verify var
check "user list (CLI)" bash -c "'$bin' user list --config hotline.toml | grep -q a1024"
check "user add (CLI, password from stdin)" bash -c "echo 'cli-password-123' | '$bin' user add sup1 --roles supervisor --config hotline.toml"
check "version" bash -c "'$bin' version | grep -q hotline"
check "--help prints the usage and succeeds" bash -c "'$bin' --help | grep -q 'hotline serve' && '$bin' serve --help >/dev/null"

# Knowledge base from the command line (server stopped: the index has one writer).
check "kb export (starter content)" bash -c "'$bin' kb export kb.jsonl --config hotline.toml && test \$(wc -l <kb.jsonl) -gt 200"
check "kb reindex" bash -c "'$bin' kb reindex --config hotline.toml | grep -q 'indexed [0-9]* published'"
mkdir -p docs && printf '# 关于做好失业保险工作的通知\n\n正文。\n' >docs/notice.md
check "kb import-docs" bash -c "'$bin' kb import-docs docs --issuer 人社局 --config hotline.toml | grep -q 'imported 1 documents'"
check "kb import (round trip)" bash -c "'$bin' kb import kb.jsonl --config hotline.toml | grep -q imported"

# TLS: the same port speaks HTTPS only when a certificate is configured.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout key.pem -out cert.pem 2>/dev/null
cat >tls.toml <<'TOML'
[server]
data_dir = "./var"
[http]
listen = "127.0.0.1"
port = 0
tls_cert = "cert.pem"
tls_key = "key.pem"
[auth]
kdf_iterations = 1000
TOML
"$bin" serve --config tls.toml >out.txt 2>err.txt &
pid=$!
for _ in $(seq 100); do grep -q "serving on" out.txt 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*serving on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' out.txt)
check "https healthz" bash -c "curl -sf --cacert cert.pem https://127.0.0.1:$port/healthz | grep -q '\"ok\"'"
check "https login" bash -c "curl -s --cacert cert.pem -XPOST https://127.0.0.1:$port/v1/auth/login \
  -d '{\"username\":\"a1024\",\"password\":\"agent-password-1\"}' | grep -q token"
check "plain http refused on a TLS port" bash -c "! curl -sf --max-time 5 http://127.0.0.1:$port/healthz"
check "TLS server stops cleanly" stop
printf '[http]\ntls_cert = "missing.pem"\ntls_key = "missing.pem"\nport = 0\n[server]\ndata_dir = "./var"\n' >badtls.toml
set +e; "$bin" serve --config badtls.toml >/dev/null 2>badtls.txt; rc=$?; set -e
check "missing certificate refuses to start with the reason" bash -c "test $rc -ne 0 && grep -q missing.pem badtls.txt"
echo "$pass passed, $fail failed"
test "$fail" -eq 0
