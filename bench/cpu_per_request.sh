#!/usr/bin/env bash
# CPU time the gateway spends per proxied request (perf stat task-clock over a fixed wrk run),
# plus context switches per request: a load-independent complement to bench/run.sh's ratios.
# Usage: [CONNS=16] bench/cpu_per_request.sh [extra `tollgate serve` flags...]   (needs nginx, wrk, linux-perf)
# A/B a setting by running it twice, e.g. `CONNS=64 bench/cpu_per_request.sh --io-threads 2` and without.
# MOCK=1 measures the mock provider answering the same POST itself instead (Hummingbird with no upstream
# hop): the floor any proxy built on it pays per request.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tollgate >/dev/null
BIN="$(swift build -c release --show-bin-path)/tollgate"
W="$(mktemp -d)"
KEYHASH=$(printf '%s' "sk-tg-bench-key-0000000000000000000000" | sha256sum | cut -d' ' -f1)
sed -e "s|__DIR__|$W|g" -e "s|__STATIC__|18111|g" -e "s|__PROXY__|18112|g" -e "s|__MOCK__|18113|g" bench/nginx.conf.tmpl > "$W/nginx.conf"
sed -e "s|__STATIC__|18111|g" -e "s|__MOCK__|18113|g" -e "s|__KEYHASH__|$KEYHASH|g" bench/policy.yaml.tmpl > "$W/policy.yaml"
nginx -c "$W/nginx.conf" -p "$W" -g 'daemon off;' & NP=$!
if [[ "${MOCK:-0}" == 1 ]]; then
  "$BIN" mock-provider --port 18114 > "$W/gw.log" 2>&1 & GP=$!
else
  LOG_LEVEL=error "$BIN" serve --config "$W/policy.yaml" --port 18114 --data-dir "$W/data" "$@" > "$W/gw.log" 2>&1 & GP=$!
fi
trap 'kill $GP $NP 2>/dev/null || true; wait 2>/dev/null || true' EXIT
sleep 1.5
CONNS="${CONNS:-16}"
THREADS=$(( CONNS > 16 ? 2 : 1 ))
wrk -t"$THREADS" -c"$CONNS" -d2s -s bench/chat.lua http://127.0.0.1:18114/v1/chat/completions >/dev/null   # warm-up
perf stat -e context-switches,task-clock -p $GP -o "$W/stat" -- sleep 5 & PS=$!
wrk -t"$THREADS" -c"$CONNS" -d5s -s bench/chat.lua http://127.0.0.1:18114/v1/chat/completions > "$W/wrk"
wait $PS
python3 - "$W/stat" "$(awk '/requests in/ {print $1}' "$W/wrk")" <<'PY'
import re, sys
text, n = open(sys.argv[1]).read(), int(sys.argv[2])
def get(name):
    m = re.search(r"([\d,.]+)\s+(msec\s+)?" + name, text)
    return float(m.group(1).replace(",", "")) if m else float("nan")
print(f"requests={n} cpu_us_per_request={get('task-clock') * 1000 / n:.1f} context_switches_per_request={get('context-switches') / n:.2f}")
PY
