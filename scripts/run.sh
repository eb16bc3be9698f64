#!/usr/bin/env bash
# The main job: installs what it needs, builds nmt, trains the seed preset on the bundled
# Multi30k (10 epochs; resumes if runs/seed already holds a partial run), then evaluates on
# test2016 (greedy and beam 5) and translates a few sentences.
# Usage: scripts/run.sh [extra nmt train options, e.g. --epochs 1 or --max-steps 200]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build >/dev/null  # nmt on the PATH of a new shell (/usr/local/bin)
run=${NMT_RUN:-runs/seed}
resume=()
[[ -f "$run/train_state.safetensors" ]] && resume=(--resume)
./build/nmt train --out "$run" "${resume[@]}" "$@"
echo "== test2016, greedy"
./build/nmt eval --model "$run" --beam 1
echo "== test2016, beam 5"
./build/nmt eval --model "$run" --beam 5
echo "== translations"
sentences=("Ein Mann fährt Fahrrad."
  "Zwei junge Frauen sitzen auf einer Bank im Park."
  "Ein kleines Mädchen klettert in ein Spielhaus aus Holz."
  "Ein Hund rennt durch den Schnee.")
# Source and translation line by line (not `tee /dev/stderr`, which truncates a log file that
# stdout and stderr are both redirected to).
translations=$(printf '%s\n' "${sentences[@]}" | ./build/nmt translate --model "$run" --beam 5)
mapfile -t translations <<<"$translations"
paste -d '\n' <(printf 'de: %s\n' "${sentences[@]}") <(printf 'en: %s\n' "${translations[@]}")
