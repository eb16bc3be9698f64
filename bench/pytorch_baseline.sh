#!/usr/bin/env bash
# nmt against the PyTorch tutorial model at its best, in one window on this machine: both at 1
# and 2 threads, both with the fastest OpenBLAS kernel for the CPU (the same selection for both:
# tools/pytorch_reference.py applies nmt's ensure_fast_blas), PyTorch also with ATen's AVX-512
# kernels (ATEN_CPU_CAPABILITY=avx512; Debian's build defaults to AVX2), the same trained model
# for the translation figures. Ratios are against PyTorch's best figure over those settings.
# Every run is wrapped in /usr/bin/time -v for its peak memory.
# Usage: bench/pytorch_baseline.sh MODEL [NMT=build/nmt] [LOG=bench-pytorch.jsonl]
# Needs python3-torch (scripts/install-deps.sh --torch).
set -euo pipefail
model=$1 nmt=${2:-build/nmt} log=${3:-bench-pytorch.jsonl}
here=$(cd "$(dirname "$0")/.." && pwd)
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "pytorch_baseline: needs python3-torch (scripts/install-deps.sh --torch)" >&2; exit 2; }
: >"$log"
run() {  # label, command...: appends the command's JSON lines (tagged) and its peak RSS
  local label=$1
  shift
  echo "== $label: $*" >&2
  /usr/bin/time -v "$@" 2>"$log.time" | sed "s/^{/{\"run\": \"$label\", /" >>"$log"
  local kb
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
  echo "{\"run\": \"$label\", \"what\": \"time_v\", \"max_rss_mb\": $((kb / 1024))}" >>"$log"
}
for t in 2 1; do
  run "nmt-$t" "$nmt" bench --threads "$t" --model "$model" --steps 20 --warmup 3
  run "pytorch-$t" /usr/bin/python3 "$here/tools/pytorch_reference.py" bench --threads "$t" \
    --steps 8 --warmup 2 --model "$model" --data "$here/data/multi30k"
  ATEN_CPU_CAPABILITY=avx512 run "pytorch-avx512-$t" /usr/bin/python3 \
    "$here/tools/pytorch_reference.py" bench --threads "$t" --steps 8 --warmup 2 \
    --model "$model" --data "$here/data/multi30k"
done
rm -f "$log.time"
/usr/bin/python3 - "$log" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def get(run, what, key, **match):
    for r in rows:
        if r["run"] == run and r["what"] == what and all(r.get(k) == v for k, v in match.items()):
            return r.get(key)
runs = sorted({r["run"] for r in rows}, key=lambda s: (s.split("-")[0] != "nmt", s))
cols = [("training tok/s", "train", "tokens_per_s", {}, max),
        ("greedy batched sent/s", "translate_greedy_batched", "sentences_per_s", {}, max),
        ("one sentence ms", "translate_greedy_single", None, {}, min),
        ("peak MB (time -v)", "time_v", "max_rss_mb", {}, min)]
def cell(run, what, key, match):
    if key is None:  # nmt reports the median, PyTorch the mean
        return get(run, what, "median_ms", precision="fp32") or get(run, what, "ms_per_sentence")
    return get(run, what, key, **match)
best = {c[0]: c[4](v for v in (cell(r, c[1], c[2], c[3]) for r in runs if r.startswith("pytorch"))
                   if v is not None) for c in cols}
core = {r["run"]: r.get("blas_core") for r in rows if r["what"] == "train"}
print("| run | OpenBLAS kernel | " + " | ".join(c[0] for c in cols) + " |")
print("|---|---|" + "---:|" * len(cols))
for r in runs:
    cells = []
    for c in cols:
        v = cell(r, c[1], c[2], c[3])
        if v is None:
            cells.append("–")
            continue
        ratio = v / best[c[0]] if c[4] is max else best[c[0]] / v
        cells.append(f"{v:,.1f}" + (f" ({ratio:.1f}×)" if r.startswith("nmt") else ""))
    print(f"| {r} | {core.get(r)} | " + " | ".join(cells) + " |")
print("\nratios: nmt against PyTorch's best over its runs above; one sentence: nmt median, "
      "PyTorch mean")
PY
