#!/usr/bin/env bash
# Peak memory of a resumed run against an uninterrupted one (issue: the loaded training state
# must not stay resident). Seed preset, the first 2,000 pairs, 24 updates with a state saved
# every 8: run A uninterrupted; run B SIGKILLed after its step-16 save, then resumed to the end.
# Prints both VmHWM figures (/usr/bin/time -v) and fails when B's exceeds A's by more than
# TOLERANCE_MB (default 16).
# Usage: bench/resume_memory.sh [NMT=build/nmt]
set -euo pipefail
nmt=${1:-build/nmt}
tol=${TOLERANCE_MB:-16}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
args=(--train-limit 2000 --valid-limit 100 --max-steps 24 --save-every 8 --threads 2)
peak() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

/usr/bin/time -v "$nmt" train --out "$tmp/a" "${args[@]}" >"$tmp/a.log" 2>&1
"$nmt" train --out "$tmp/b" "${args[@]}" >"$tmp/b1.log" 2>&1 &
pid=$!
# The state file's header holds the run state as escaped JSON: ...\"step\":16,...
until head -c 65536 "$tmp/b/train_state.safetensors" 2>/dev/null | grep -aq 'step\\":16,'; do
  kill -0 $pid 2>/dev/null || { echo "resume_memory: run B ended before step 16" >&2; exit 1; }
  sleep 0.2
done
kill -KILL $pid
wait $pid 2>/dev/null || true
/usr/bin/time -v "$nmt" train --out "$tmp/b" --resume "${args[@]}" >"$tmp/b2.log" 2>&1
a=$(peak "$tmp/a.log") b=$(peak "$tmp/b2.log")
echo "{\"uninterrupted_peak_kb\": $a, \"resumed_peak_kb\": $b, \"difference_mb\": $(((b - a) / 1024))}"
cmp -s "$tmp/a/model.safetensors" "$tmp/b/model.safetensors" &&
  echo "resumed weights: identical to the uninterrupted run's" ||
  { echo "resume_memory: the resumed run's weights differ" >&2; exit 1; }
((b - a <= tol * 1024)) || { echo "resume_memory: resumed peak exceeds by more than ${tol} MB" >&2; exit 1; }
