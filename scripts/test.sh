#!/usr/bin/env bash
# The test command: installs what it needs, builds (Release and ASan+UBSan) and runs the whole
# test suite with ctest, then runs each fuzzer briefly.
# Usage: scripts/test.sh   (NMT_SKIP_ASAN=1 / NMT_SKIP_FUZZ=1 skip those passes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
echo "== Release build + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNMT_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
if [[ "${NMT_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build + tests"
  cmake --preset asan >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs" -LE slow)
fi
if [[ "${NMT_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzzers, 20 s each (tools/fuzz.sh; longer campaigns: tools/fuzz.sh 600)"
  FUZZ_KEEP_GOING=0 tools/fuzz.sh 20
fi
