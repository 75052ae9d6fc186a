#!/usr/bin/env bash
# Installs everything Hotline needs on Debian 12 from Debian's own packages (and
# playwright-core from npm for the browser tests). Idempotent: when every package is
# already there it changes nothing and touches no network.
#
#   deploy/install-deps.sh            build + run dependencies (and the peers `hotline demo`
#                                     runs: SIPp callers, baresip agents' phones)
#   deploy/install-deps.sh --test     also the test peers (SIPp, baresip, sox, Chromium, ...)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libcaf-dev libboost1.81-dev libboost-json1.81-dev
  libsrtp2-dev libopus-dev libogg-dev libspeexdsp-dev libspandsp-dev liburing-dev
  libxapian-dev libicu-dev liblmdb-dev lmdb-utils libssl-dev libtomlplusplus-dev
  libosip2-dev espeak-ng sox
  sip-tester baresip-core
)
test_pkgs=(
  libgtest-dev libgmock-dev clang libfuzzer-14-dev libclang-rt-14-dev
  sip-tester baresip baresip-core espeak-ng sox libsox-fmt-all opus-tools tshark
  curl chromium nodejs debootstrap rtpengine-daemon python3
  fonts-wqy-microhei  # CJK glyphs for the browser tests' screenshots (the consoles are in Chinese)
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  # nodejs may come from another Debian-compatible source; a working `node` is enough.
  if [[ "$p" == nodejs ]] && command -v node >/dev/null && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # tshark asks whether non-root users may capture; the answer is no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # npm is shipped separately by Debian; only needed when node came without it.
  if [[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm
  fi
fi

if [[ "${1:-}" == "--test" ]]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [[ ! -d "$here/tests/browser/node_modules/playwright-core" ]]; then
    (cd "$here/tests/browser" && npm install --no-audit --no-fund --silent)
  fi
fi
