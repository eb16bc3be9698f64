#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan, into build-fuzz/) and runs each
# for SECONDS on a scratch copy of its seed corpus (fuzz-out/TARGET/corpus, kept between runs).
#   tools/fuzz.sh [SECONDS] [TARGET...]     SECONDS defaults to 20; targets: tokenizer corpus
#                                            safetensors config segment html (default: all, one after another)
# Crashing inputs land in fuzz-out/TARGET/ (crash-*, leak-*, timeout-*, oom-*), the log in
# fuzz-out/TARGET/log.txt; each new one is replayed once to print what it triggers. By default
# a target keeps fuzzing after a crash (libFuzzer -fork=1 -ignore_crashes=1), so one known bug
# does not hide the next; FUZZ_KEEP_GOING=0 stops at the first crash (plain libFuzzer).
# Exit status 1 when any target found something, 2 on usage errors.
# Replay one input:   build-fuzz/fuzz_TARGET FILE
# Keep a finding:     cp fuzz-out/TARGET/crash-... fuzz/regressions/TARGET/<name>  (the test
#                     suite replays fuzz/regressions/*/ and fuzz/corpus/*/, FuzzRegression.*)
# Environment: CXX_FUZZ (default clang++), FUZZ_FLAGS (extra libFuzzer flags), FUZZ_KEEP_GOING.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(tokenizer corpus safetensors config segment html)
seconds=20
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *)
      echo "fuzz.sh: unknown target '$t' (expected: ${all_targets[*]})" >&2
      exit 2
      ;;
  esac
done

echo "== building fuzzers into build-fuzz/"
cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

# Seeds beyond fuzz/corpus/TARGET: the golden files. (fuzz/regressions/ is not copied in: an
# unfixed bug there would end every run at startup.)
extra_seeds() {
  case $1 in
    safetensors) echo tests/golden/tiny_ckpt/model.safetensors tests/golden/tiny_tf1.safetensors ;;
    config) echo tests/golden/tiny_ckpt/config.json ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

mode=()
if [[ ${FUZZ_KEEP_GOING:-1} != 0 ]]; then
  mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
artifacts() {
  local f
  for f in "$1"/crash-* "$1"/leak-* "$1"/timeout-* "$1"/oom-* "$1"/slow-unit-*; do
    [[ -f $f ]] && basename "$f"
  done
  return 0
}

failed=()
summary=()
for t in "${targets[@]}"; do
  out=fuzz-out/$t
  mkdir -p "$out/corpus"
  cp -f fuzz/corpus/"$t"/* "$out/corpus/" 2>/dev/null || true
  for f in $(extra_seeds "$t"); do cp -f "$f" "$out/corpus/golden-$(basename "$f")"; done
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="fuzz/dict/$t.dict")
  artifacts "$out" | sort >"$out/.before"
  echo "== fuzz_$t for ${seconds}s (log: $out/log.txt)"
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  build-fuzz/fuzz_"$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/" "${mode[@]}" "${dict[@]}" ${FUZZ_FLAGS:-} \
    "$out/corpus" >"$out/log.txt" 2>&1
  rc=$?
  set -e
  elapsed=$(($(date +%s) - start))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/log.txt" | grep -o '[0-9]*$' || true)
  [[ -z $execs ]] && execs=$(grep -oE '^#[0-9]+' "$out/log.txt" | tail -1 | tr -d '#' || true)
  execs=${execs:-0}
  cov=$(grep -oE 'cov: [0-9]+' "$out/log.txt" | tail -1 || true)
  new=$(artifacts "$out" | sort | comm -13 "$out/.before" - || true)
  rm -f "$out/.before"
  n_new=$(printf '%s' "$new" | grep -c . || true)
  line="fuzz_$t: $execs execs in ${elapsed}s ($((execs / (elapsed > 0 ? elapsed : 1))) exec/s, ${cov:-cov: ?}), exit $rc, $n_new new crash inputs"
  echo "$line"
  if [[ $rc -ne 0 || $n_new -gt 0 ]]; then
    failed+=("$t")
    # What each new input triggers (first 5): replay it once.
    for a in $(printf '%s\n' "$new" | head -5); do
      what=$(timeout 60 build-fuzz/fuzz_"$t" "$out/$a" 2>&1 | grep -m1 -E \
        'runtime error|ERROR: [A-Za-z]+Sanitizer|what\(\)|ERROR: libFuzzer|SUMMARY' | cut -c1-220 || true)
      echo "   $out/$a: ${what:-see $out/log.txt}"
      line+=$'\n'"   $out/$a: ${what:-see log}"
    done
    if [[ $n_new -eq 0 ]]; then
      what=$(grep -m1 -E 'runtime error|ERROR: [A-Za-z]+Sanitizer|what\(\)|ERROR: libFuzzer' \
        "$out/log.txt" | cut -c1-220 || true)
      echo "   ${what:-see $out/log.txt}"
      line+=$'\n'"   ${what:-see $out/log.txt}"
    fi
  fi
  summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: ${#targets[@]} targets, ${#failed[@]} with crashes (${failed[*]}); inputs in fuzz-out/"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, 0 with crashes (${seconds}s each)"
