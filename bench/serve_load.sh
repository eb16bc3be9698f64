#!/usr/bin/env bash
# Load test of `nmt serve` as its users load it, against `nmt translate` in the same run, on
# 127.0.0.1 only: wrk clients with keep-alive connections (browsers, SDKs and LibreTranslate
# clients all keep theirs alive) each post one test2016 sentence at a time (a different one per
# request, greedy unless BEAM is set) for SECONDS, at 1, 8, 64 and 256 connections. The
# reference is `nmt translate` of the same 1,000 sentences (batched, --batch 64) and one
# sentence at a time (--batch 1), model loading subtracted; the ratio is the server's
# sentences/s over the batched CLI's.
# Usage: bench/serve_load.sh MODEL [PRECISION=fp32] [SECONDS=20] [NMT=build/nmt]
#   env: CLIENTS="1 8 64 256"  BEAM=1  THREADS=2 (translation threads, server and CLI alike)
#        SERVE_ARGS="..." (more `nmt serve` options, e.g. "--max-batch 32")
# Thread budget on 2 cores: the server's 2 OpenMP threads compute, its HTTP threads sleep on
# their sockets, and wrk runs one thread (epoll), so the load generator takes what it needs of
# the same cores — its cost counts against the server, as it would for a real co-located client.
set -euo pipefail
model=$1 precision=${2:-fp32} secs=${3:-20} nmt=${4:-build/nmt}
clients=${CLIENTS:-1 8 64 256} beam=${BEAM:-1} threads=${THREADS:-2}
command -v wrk >/dev/null || { echo "serve_load: needs wrk (apt-get install wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 -c 'import gzip, json, sys
lines = gzip.open(sys.argv[1], "rt").read().splitlines()[:1000]
open(sys.argv[2], "w").write("".join(l + "\n" for l in lines))
with open(sys.argv[3], "w") as f:
    for l in lines: print(json.dumps({"text": l, "beam": int(sys.argv[4]), "precision": sys.argv[5]}), file=f)' \
  "$(dirname "$0")/../data/multi30k/test_2016_flickr.de.gz" "$tmp/in.de" "$tmp/bodies.txt" \
  "$beam" "$precision"
n=$(wc -l <"$tmp/in.de")

seconds() { python3 -c 'import sys, time, subprocess
t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(f"{time.perf_counter() - t:.4f}")' "$@"; }
cli=("$nmt" translate --model "$model" --beam "$beam" --precision "$precision" --threads "$threads")
load=$(seconds "${cli[@]}" --input /dev/null)
batched=$(seconds "${cli[@]}" --input "$tmp/in.de")
head -200 "$tmp/in.de" >"$tmp/in200.de"
single=$(seconds "${cli[@]}" --batch 1 --input "$tmp/in200.de")
cli_rate=$(python3 -c "print(f'{$n / ($batched - $load):.1f}')")
cli_one_ms=$(python3 -c "print(f'{($single - $load) / 200 * 1000:.2f}')")
echo "== nmt translate ($precision, beam $beam, $threads threads, $n sentences; loading ${load}s subtracted)"
echo "batched (--batch 64): $cli_rate sentences/s; one at a time (--batch 1): $cli_one_ms ms per sentence"

cat >"$tmp/post.lua" <<LUA
local bodies = {}
for line in io.lines("$tmp/bodies.txt") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
-- One summary line that the shell parses: requests/s, p50 and p99 in ms, errors.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA
"$nmt" serve --model "$model" --port 0 --threads "$threads" ${SERVE_ARGS:-} >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "http://" "$tmp/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/serve.log")
curl -s -o /dev/null -d "$(head -1 "$tmp/bodies.txt")" -H 'Content-Type: application/json' \
  "${url}v1/translate"  # warm: the precision's matrices are prepared on first use
echo "== nmt serve ${SERVE_ARGS:-} (keep-alive wrk clients, ${secs}s each)"
printf '%8s %12s %7s %9s %9s %8s %8s\n' clients sentences/s ratio "p50 ms" "p99 ms" errors non-2xx
for c in $clients; do
  read -r _ rate p50 p99 errs non2xx < <(wrk -t1 -c"$c" -d"${secs}s" --timeout 10s \
    -s "$tmp/post.lua" "${url}v1/translate" | grep '^RESULT')
  printf '%8s %12s %7s %9s %9s %8s %8s\n' "$c" "$rate" \
    "$(python3 -c "print(f'{$rate / $cli_rate:.2f}x')")" "$p50" "$p99" "$errs" "$non2xx"
done
m=$(curl -s "${url}metrics")
python3 - "$m" <<'PY'
import re, sys
m = sys.argv[1]
def v(name):
    x = re.search(r"^" + name + r" ([0-9.e+-]+)$", m, re.M)
    return float(x.group(1)) if x else 0.0
req, lat = v("nmt_request_seconds_count"), v("nmt_request_seconds_sum")
q, b = v("nmt_queue_wait_seconds_sum"), v("nmt_batch_sentences_count")
jc, sent = v("nmt_request_compute_seconds_sum"), v("nmt_batch_sentences_sum")
if req and b:
    print(f"server: {req:.0f} requests in {b:.0f} batches (mean {sent / b:.1f} sentences); per request: "
          f"latency {lat / req * 1e3:.2f} ms = queue {q / req * 1e3:.2f} + its batch's compute "
          f"{jc / req * 1e3:.2f} + the server's own (parse, JSON, hand-offs) {(lat - q - jc) / req * 1e3:.3f} ms")
PY
kill -TERM $pid
wait $pid || true
