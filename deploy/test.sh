#!/usr/bin/env bash
# Command 2 of the README: installs what the tests need, builds everything and runs
# every test. Three builds, one after the other (2 cores: one C++ build at a time):
#   build/release  RelWithDebInfo: unit, integration, e2e tests with real peers
#   build/asan     ASan + UBSan: the unit and integration tests again
#   build/fuzz     clang + libFuzzer: each fuzz target for HOTLINE_FUZZ_SECONDS (60)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --test

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/hotline-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
jobs=$(nproc)
fuzz_seconds=${HOTLINE_FUZZ_SECONDS:-60}

step() { printf '\n==> %s\n' "$*"; }

step "release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"

step "ASan+UBSan build"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOTLINE_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"

step "fuzz build (clang, libFuzzer)"
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOTLINE_FUZZ=ON \
  -DHOTLINE_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build/fuzz -j"$jobs"

passed=0 failed=0
run_ctest() {  # run_ctest NAME ctest-args...
  local name=$1; shift
  step "tests: $name"
  local log=build/ctest-$name.log
  set +e
  ctest "$@" --output-on-failure 2>&1 | tee "$log"
  set -e
  local line p f n
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -z "$line" ]]; then failed=$((failed + 1)); return; fi
  f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  n=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  p=$((n - f))
  passed=$((passed + p)); failed=$((failed + f))
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_ctest release --test-dir build/release -j2
run_ctest asan --test-dir build/asan -L unit -j2
run_ctest fuzz --test-dir build/fuzz -j"$jobs"

printf '\n'
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
