#!/usr/bin/env bash
# Passthrough overhead: the same wrk load against the static upstream directly, through nginx
# proxy_pass, and through Tollgate, in one run; then streaming through each. Prints one table.
# Usage: bench/run.sh [duration_s=10]   (needs nginx, wrk; scripts/setup-system.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
scripts/setup-system.sh --bench
swift build -c release --product tollgate >/dev/null
BIN="$(swift build -c release --show-bin-path)/tollgate"
WORK="$(mktemp -d)"
STATIC=18081 PROXY=18082 MOCK=18083 GW=18084
KEYHASH=$(printf '%s' "sk-tg-bench-key-0000000000000000000000" | sha256sum | cut -d' ' -f1)
sed -e "s|__DIR__|$WORK|g" -e "s|__STATIC__|$STATIC|g" -e "s|__PROXY__|$PROXY|g" -e "s|__MOCK__|$MOCK|g" bench/nginx.conf.tmpl > "$WORK/nginx.conf"
sed -e "s|__STATIC__|$STATIC|g" -e "s|__MOCK__|$MOCK|g" -e "s|__KEYHASH__|$KEYHASH|g" bench/policy.yaml.tmpl > "$WORK/policy.yaml"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' & PIDS+=($!)
"$BIN" mock-provider --port "$MOCK" --chunk-delay-ms 5 >/dev/null 2>&1 & PIDS+=($!)
LOG_LEVEL=error "$BIN" serve --config "$WORK/policy.yaml" --port "$GW" --data-dir "$WORK/data" >"$WORK/gw.log" 2>&1 & PIDS+=($!)
for port in $STATIC $PROXY $MOCK $GW; do
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

run_wrk() { # name url conns
  wrk -t2 -c"$3" -d"${DUR}s" --latency -s bench/chat.lua "$2" > "$WORK/wrk-$1-$3.txt"
}
for c in 64 4; do
  run_wrk upstream "http://127.0.0.1:$STATIC/v1/chat/completions" $c
  run_wrk nginx "http://127.0.0.1:$PROXY/v1/chat/completions" $c
  run_wrk tollgate "http://127.0.0.1:$GW/v1/chat/completions" $c
  # Reference, not a target: Hummingbird answering the same POST itself (the mock provider,
  # no upstream hop): the ceiling any Hummingbird-based proxy can reach on this machine.
  run_wrk hummingbird "http://127.0.0.1:$MOCK/v1/chat/completions" $c
done
python3 bench/stream_bench.py --url "http://127.0.0.1:$MOCK/v1" > "$WORK/stream-upstream.json"
python3 bench/stream_bench.py --url "http://127.0.0.1:$PROXY/stream/v1" > "$WORK/stream-nginx.json"
python3 bench/stream_bench.py --url "http://127.0.0.1:$GW/v1" > "$WORK/stream-tollgate.json"
python3 bench/report.py "$WORK"
