#!/usr/bin/env bash
# The test command: installs what it needs, builds (Release and ASan+UBSan) and runs the whole
# test suite with ctest. Usage: scripts/test.sh   (NMT_SKIP_ASAN=1 skips the sanitizer pass)
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
