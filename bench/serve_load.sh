#!/usr/bin/env bash
# Load test of `nmt serve` with wrk (Debian's `wrk`), on 127.0.0.1 only: C concurrent clients
# post single test2016 sentences (a different one per request) for D seconds, once with dynamic
# batching (the defaults) and once without it (--max-batch 1), in the same run.
# Usage: bench/serve_load.sh MODEL [SECONDS=20] [CONNECTIONS=16] [NMT=build/nmt]
set -euo pipefail
model=$1 secs=${2:-20} conns=${3:-16} nmt=${4:-build/nmt}
command -v wrk >/dev/null || { echo "serve_load: needs wrk (apt-get install wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
# The first 200 test2016 sentences as JSON bodies, one per line, for the Lua script.
python3 -c 'import gzip, json, sys
for l in gzip.open(sys.argv[1], "rt").read().splitlines()[:200]: print(json.dumps({"text": l}))' \
  "$(dirname "$0")/../data/multi30k/test_2016_flickr.de.gz" >"$tmp/bodies.txt"
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
LUA
run() {  # label, extra serve options...
  local label=$1
  shift
  "$nmt" serve --model "$model" --port 0 "$@" >"$tmp/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q "http://" "$tmp/serve.log" && break; sleep 0.1; done
  local url
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/serve.log")
  echo "== $label: wrk -t2 -c$conns -d${secs}s ${url}v1/translate"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/post.lua" "${url}v1/translate" |
    grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
  curl -s "${url}metrics" | grep -E "^nmt_batch_sentences_(sum|count)|^nmt_requests_total"
  kill -TERM $pid
  wait $pid
}
run "dynamic batching (defaults)"
run "no batching (--max-batch 1)" --max-batch 1
