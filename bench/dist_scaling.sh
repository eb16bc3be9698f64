#!/usr/bin/env bash
# Data-parallel training against one process on this host, in one run: the seed preset for
# STEPS updates as 1 process x 2 threads, then mpirun -np 2 x 1 thread (and -np 1 x 2 threads:
# the cost of MPI itself). Prints target tokens/s of each (log.jsonl) and the all-reduce time.
# Usage: bench/dist_scaling.sh [STEPS=60] [NMT=build/nmt]
set -euo pipefail
steps=${1:-60} nmt=${2:-build/nmt}
command -v mpirun >/dev/null || { echo "dist_scaling: needs mpirun (scripts/install-deps.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=PASSIVE
mpi="mpirun --allow-run-as-root --oversubscribe --bind-to none"
common="--max-steps $steps --valid-limit 50"
run() {  # label, command...
  local label=$1
  shift
  "$@" --out "$tmp/$label" $common >"$tmp/$label.out" 2>&1 || { cat "$tmp/$label.out"; exit 1; }
  python3 - "$label" "$tmp/$label/log.jsonl" "$tmp/$label.out" <<'PY'
import json, re, sys
line = json.loads(open(sys.argv[2]).read().splitlines()[-1])
ar = re.search(r"all-reduce of the gradients: ([0-9.]+) ms", open(sys.argv[3]).read())
print(f"| {sys.argv[1]} | {line['tokens_per_s']:,.0f} | {ar.group(1) + ' ms' if ar else '–'} |")
PY
}
echo "| setup | target tokens/s | all-reduce a step |"
echo "|---|---:|---:|"
run "1 process x 2 threads" "$nmt" train --threads 2
run "mpirun -np 1 x 2 threads" $mpi -np 1 "$nmt" train --threads 2
run "mpirun -np 2 x 1 thread" $mpi -np 2 "$nmt" train --threads 1
