#!/usr/bin/env bash
# The web console end to end in a real browser: the `hotline` binary on loopback with calls
# on, a baresip agent phone (auto-answer, silent), a SIPp caller who speaks Mandarin, and
# console_e2e.mjs driving Chromium as the agent and the supervisor (docs/api.md, "Consoles
# on /ws"). Screenshots of the wallboard, the supervisor's laptop and the agent desktop go
# into the output directory.
#
#   tests/browser/console_e2e.sh path/to/hotline OUTPUT_DIR
#
# HOTLINE_TEST_PROMPTS=DIR shares the IVR prompts between runs (made with espeak-ng on the
# first start, ~10 s); HOTLINE_E2E_KEEP=1 keeps the work directory for a look afterwards;
# HOTLINE_E2E_WEB_ROOT=DIR serves the console from DIR (e.g. api/web) instead of the copy
# built into the binary, to try edited pages without a rebuild.
set -euo pipefail
bin=$(realpath "$1")
mkdir -p "$2"
shots=$(realpath "$2")
web_root=  # a [http] line: the console from disk instead of the binary's copy
[[ -n "${HOTLINE_E2E_WEB_ROOT:-}" ]] && web_root="web_root = \"$(realpath "$HOTLINE_E2E_WEB_ROOT")\""
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=()  # every child started here; each leads its own process group
ok=0

cleanup() {
  # Never fails: every step may find its process already gone.
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 20); do  # up to 2 s for the server to drain and the phone to unregister
    local alive=0 stat
    for pid in "${pids[@]}"; do
      stat=$(ps -o stat= -p "$pid" 2>/dev/null) && [[ $stat != Z* ]] && alive=1  # not reaped yet: Z
    done
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $ok -ne 1 ]]; then
    echo "--- server log (last 60 lines) ---"
    tail -n 60 "$work/server.err" 2>/dev/null || true
    echo "--- agent phone, baresip (last 30 lines, then its last status line) ---"
    tail -n 30 "$work/phone/baresip.out" 2>/dev/null || true
    tr '\r' '\n' 2>/dev/null <"$work/phone/baresip.err" | tail -n 1 || true
  fi
  if [[ "${HOTLINE_E2E_KEEP:-}" == 1 ]]; then echo "work directory kept: $work"; else rm -rf "$work" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[setup] %s\n' "$*"; }
# start NAME CMD...: runs CMD in the background in a process group of its own, output in NAME.
start() {
  local name=$1; shift
  setsid "$@" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
}
# A UDP+TCP port nobody holds on 127.0.0.1 (baresip also takes TCP port+1 for TLS).
free_port() {
  python3 - <<'PY'
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    held = [u]
    try:
        for p in (port, port + 1):
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(t)
            t.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in held: s.close()
    print(port)
    break
PY
}

for tool in node sipp baresip espeak-ng sox setsid; do
  command -v "$tool" >/dev/null || { echo "console_e2e: $tool is missing (deploy/install-deps.sh --test)" >&2; exit 1; }
done
[[ -d "$here/node_modules/playwright-core" ]] ||
  { echo "console_e2e: no playwright-core in $here/node_modules (deploy/install-deps.sh --test)" >&2; exit 1; }
cd "$work"

# ---------------------------------------------------------------- the server's config

mkdir -p data
if [[ -n "${HOTLINE_TEST_PROMPTS:-}" ]]; then
  mkdir -p "$HOTLINE_TEST_PROMPTS"  # the first server to start fills it
  ln -s "$(realpath "$HOTLINE_TEST_PROMPTS")" data/prompts
fi
cat >agents.json <<'JSON'
[{"id": "1001", "name": "王芳", "phone": "8001",
  "skills": [{"skill": "pension", "level": 4, "post": "A"}],
  "queues": [{"queue": "pension", "priority": 1}]}]
JSON
cat >queues.json <<'JSON'
[{"id": "pension", "hours": "always", "wrap_up_s": 0, "min_agents": 1},
 {"id": "general", "hours": "always"}]
JSON
# Port 0: the server takes free ports and names them in its log.
cat >hotline.toml <<TOML
[server]
data_dir = "$work/data"
[http]
listen = "127.0.0.1"
port = 0
$web_root
[sip]
listen = "127.0.0.1"
port = 0
tcp = 0
trunk_allow = "127.0.0.0/8"
trunk_codecs = "PCMU"
phone_codecs = "PCMU"
srtp = "off"
[media]
bind = "127.0.0.1"
port_min = 48000
port_max = 48999
[calls]
agents_file = "$work/agents.json"
queues_file = "$work/queues.json"
announce_interval_s = 600
[auth]
kdf_iterations = 1000
TOML

password=console-e2e-password
phone_secret=phone-8001-secret
log "users lead1 (supervisor) and wangfang (agent 1001), phone 8001"
echo "$password" | "$bin" user add lead1 --roles supervisor --display-name 张班长 --config hotline.toml >/dev/null
echo "$password" | "$bin" user add wangfang --roles agent --work-id 1001 --display-name 王芳 --config hotline.toml >/dev/null
echo "$phone_secret" | "$bin" phone add 8001 --srtp off --config hotline.toml >/dev/null

# ---------------------------------------------------------------- the caller's speech

log "caller's speech (espeak-ng, Mandarin)"
mkdir caller
espeak-ng -v cmn-latn-pinyin -w phrase.wav \
  "ni3 hao3, wo3 xiang3 wen4 yi2 xia4 yang3 lao3 jin1 de ling3 qu3 shou3 xu4. qing3 wen4 tui4 xiu1 yi3 hou4 zen3 me ban4 li3?"
# Three times with a pause between (about 22 s), 8 kHz like the line, a whole number of
# 20 ms packets so SIPp's loop keeps time.
sox phrase.wav -r 8000 -c 1 -b 16 long.wav gain -n -3 pad 0 0.6 repeat 2
samples=$(soxi -s long.wav)
sox long.wav caller/speech.wav trim 0 "$((samples / 160 * 160))s"
sox caller/speech.wav -t ul caller/speech.ul
log "speech: $(soxi -d caller/speech.wav) at 8 kHz"

# ---------------------------------------------------------------- serve

log "hotline serve"
start server "$bin" serve --config hotline.toml
http_port= sip_port=
for _ in $(seq 300); do
  [[ -z "$http_port" ]] && http_port=$(sed -n 's/.*serving on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' server.out)
  [[ -z "$sip_port" ]] && sip_port=$(sed -n 's/.*module=sip msg=listening addr=[^ ]*:\([0-9]*\) .*/\1/p' server.err | head -n 1)
  if [[ -n "$http_port" && -n "$sip_port" ]] && grep -q "module=calls msg=answering" server.err &&
     curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null; then
    break
  fi
  kill -0 "${pids[0]}" 2>/dev/null || { echo "console_e2e: hotline serve exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$http_port" && -n "$sip_port" ]] && grep -q "module=calls msg=answering" server.err ||
  { echo "console_e2e: the server did not come up with calls on in 30 s" >&2; exit 1; }
log "serving http on $http_port, sip on $sip_port"

# ---------------------------------------------------------------- the agent's phone

# baresip, headless (tests/media/baresip_phone.hpp): it answers by itself and sends silence,
# so what the supervisor hears is the caller. It hangs up when its source file ends.
mkdir phone
sox -n -r 8000 -c 1 -b 16 phone/silence.wav trim 0 180
phone_port=$(free_port)
cat >phone/config <<CFG
module_path /usr/lib/baresip/modules
module menu.so
module g711.so
module aufile.so
module account.so
dns_server 127.0.0.1:53
sip_listen 127.0.0.1:$phone_port
net_interface 127.0.0.1
audio_source aufile,$work/phone/silence.wav
audio_player aufile,$work/phone/heard.wav
audio_alert aufile,$work/phone/alert.wav
rtp_timeout 0
CFG
echo "<sip:8001@127.0.0.1:$sip_port>;auth_pass=$phone_secret;answermode=auto;regint=300;audio_codecs=PCMU" >phone/accounts
: >phone/contacts
log "agent phone 8001: baresip on $phone_port"
start phone/baresip baresip -f "$work/phone" -t 170

# ---------------------------------------------------------------- the browser test

log "console_e2e.mjs"
export HOTLINE_URL="http://127.0.0.1:$http_port"
export HOTLINE_E2E_PASSWORD=$password
export HOTLINE_E2E_SIP="127.0.0.1:$sip_port"
export HOTLINE_E2E_CALLER_DIR="$work/caller"
export HOTLINE_E2E_CALLER_PORT=$(free_port)
export HOTLINE_E2E_SCENARIO="$repo/tests/fixtures/sip/sipp/caller_speech.xml"
export HOTLINE_E2E_SPEECH_WAV="$work/caller/speech.wav"
export HOTLINE_E2E_SHOTS=$shots
setsid node "$here/console_e2e.mjs" </dev/null &  # its own group, with its SIPp (Chromium ends with node)
pids+=($!)
set +e
wait "${pids[-1]}"
rc=$?
set -e
if [[ $rc -eq 0 ]]; then
  ok=1
  echo "screenshots: $(cd "$shots" && ls wallboard-1920x1080.png supervisor-laptop-1366x768.png agent-desktop.png | tr '\n' ' ')in $shots"
fi
exit "$rc"
