#!/usr/bin/env bash
# Command 1 of the README: installs what Hotline needs, builds it and runs
# `hotline serve` with the embedded defaults (data in ./var, web on :8080, SIP on :5060, media ports 20000-29999).
# On the first start it prints the admin account's password. Extra arguments go to
# `hotline serve` (e.g. --config hotline.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/hotline-ccache}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target hotline
exec build/release/api/hotline serve "$@"
