#!/usr/bin/env bash
# Browser test of the page `nmt serve` shows: starts the server on a free port, drives the page
# with headless Chromium (Selenium, tests/browser/test_page.py), stops the server with SIGTERM
# and checks that it exited 0. Builds nothing.
#
# Usage: tests/browser/run.sh [NMT_BINARY [MODEL_DIR [SCREENSHOT]]]
#   NMT_BINARY  default: build/nmt
#   MODEL_DIR   default: tests/golden/tiny_ckpt (a tiny word model; its English is garbage, which
#               is fine: the test compares the page with the API, not with a reference)
#   SCREENSHOT  default: $NMT_BROWSER_SCREENSHOT or ${TMPDIR:-/tmp}/nmt_page.png; the 390 px one
#               goes next to it as nmt_page_390.png
# Needs Debian's chromium, chromium-driver and python3-selenium; without them it prints
# `browser: skipped (chromium not installable: <why>)` and exits 0. Otherwise the last line is
# `browser: P passed, F failed`, and the exit status is non-zero on any failure.
# Environment: CHROMIUM, CHROMEDRIVER, PYTHON override the programs found on PATH.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
nmt="${1:-$root/build/nmt}"
model="${2:-$root/tests/golden/tiny_ckpt}"
shot="${3:-${NMT_BROWSER_SCREENSHOT:-${TMPDIR:-/tmp}/nmt_page.png}}"

skip() {
  echo "browser: skipped (chromium not installable: $*)"
  exit 0
}
finish() {  # passed failed
  echo "browser: $1 passed, $2 failed"
  [ "$2" -eq 0 ]
  exit $?
}

# --- the browser, its driver and Selenium (their absence is the only reason to skip) ---
chromium="${CHROMIUM:-}"
if [ -z "$chromium" ]; then
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then chromium="$(command -v "$c")"; break; fi
  done
fi
[ -n "$chromium" ] && [ -x "$chromium" ] ||
  skip "no chromium${CHROMIUM:+ at $CHROMIUM}; apt-get install chromium chromium-driver python3-selenium"
driver="${CHROMEDRIVER:-}"
if [ -z "$driver" ]; then
  for c in chromedriver /usr/lib/chromium/chromedriver; do
    if command -v "$c" >/dev/null 2>&1; then driver="$(command -v "$c")"; break; fi
  done
fi
[ -n "$driver" ] && [ -x "$driver" ] || skip "no chromedriver${CHROMEDRIVER:+ at $CHROMEDRIVER}; apt-get install chromium-driver"
python=""
# Debian's python3-selenium lives in the system Python, which a pyenv/venv python3 on PATH hides.
for p in ${PYTHON:-} /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import selenium' >/dev/null 2>&1; then python="$p"; break; fi
done
[ -n "$python" ] || skip "no Python with selenium; apt-get install python3-selenium"

# --- the server ---
if [ ! -x "$nmt" ]; then
  echo "browser: $nmt is not an executable (build it first: cmake --build build --target nmt)"
  finish 0 1
fi
if [ ! -f "$model/config.json" ]; then
  echo "browser: $model is not a model directory (no config.json)"
  finish 0 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/nmt_browser.XXXXXX")"
server=""
alive() {  # a child that exited stays a zombie until waited for: not alive
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)"
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
cleanup() {
  if [ -n "$server" ] && alive "$server"; then
    kill -TERM "$server" 2>/dev/null
    sleep 1
    kill -KILL "$server" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$nmt" serve --model "$model" --host 127.0.0.1 --port 0 --threads 1 >"$work/out" 2>"$work/err" &
server=$!
url=""
for _ in $(seq 1 300); do  # up to 30 s to load the model and bind
  url="$(sed -n 's|^nmt serve: .* on \(http://127\.0\.0\.1:[0-9][0-9]*/\).*|\1|p' "$work/out" | head -n 1)"
  [ -n "$url" ] && break
  alive "$server" || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "browser: the server did not start:"
  cat "$work/out" "$work/err"
  finish 0 1
fi
echo "# server: $url (model $model)"

# --- the page ---
"$python" "$here/test_page.py" --url "$url" --screenshot "$shot" --chromium "$chromium" \
  --chromedriver "$driver" | tee "$work/test.log"
test_rc=${PIPESTATUS[0]}
passed="$(sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$work/test.log" | tail -n 1)"
failed="$(sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$work/test.log" | tail -n 1)"
if [ -z "$passed" ]; then  # the script died before counting (e.g. the browser did not start)
  echo "FAIL - test_page.py ended without a count (exit $test_rc)"
  passed=0 failed=1
elif [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL - test_page.py exited $test_rc"
  failed=1
fi

# --- stop the server: SIGTERM, and it must exit 0 ---
kill -TERM "$server"
for _ in $(seq 1 150); do  # up to 15 s to finish in-flight requests
  alive "$server" || break
  sleep 0.1
done
stuck=0
if alive "$server"; then stuck=1; kill -KILL "$server"; fi
wait "$server"
rc=$?
if [ "$stuck" -eq 1 ]; then
  echo "FAIL - the server did not stop within 15 s of SIGTERM"
  failed=$((failed + 1))
elif [ "$rc" -ne 0 ]; then
  echo "FAIL - the server exited $rc after SIGTERM"
  cat "$work/err"
  failed=$((failed + 1))
else
  echo "ok - the server stopped cleanly on SIGTERM (exit 0)"
  passed=$((passed + 1))
fi
server=""
finish "$passed" "$failed"
