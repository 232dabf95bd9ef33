#!/usr/bin/env bash
# A burst of concurrent streaming clients against the demo setup (gateway + built-in mock, limits raised
# so they do not refuse): prints wrk's summary and the gateway's responses by status. Every request
# should answer 200; SYN drops or connect timeouts show up as 503/504.
# Usage: bench/burst.sh [connections=1000] [seconds=8]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${1:-1000}" DUR="${2:-8}"
swift build -c release --product tollgate >/dev/null
BIN="$(swift build -c release --show-bin-path)/tollgate"
W="$(mktemp -d)"
GW=18184 MOCK=18185
sed -e "s|127.0.0.1:9001|127.0.0.1:$MOCK|" -e 's/rpm: 600/rpm: 100000000/' -e 's/tpm: 200000/tpm: 100000000000/' \
    -e 's/tokens: 5000000/tokens: 100000000000/' -e 's/usd: 50/usd: 100000000/' policies/demo.yaml > "$W/policy.yaml"
cp -r policies/packs "$W/packs"
cat > "$W/stream.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-tg-demo-key-for-local-use-only-0000"
wrk.body = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}]}'
LUA
LOG_LEVEL=error "$BIN" serve --config "$W/policy.yaml" --port $GW --data-dir "$W/data" --with-mock-provider $MOCK >"$W/gw.log" 2>&1 & GP=$!
trap 'kill $GP 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$GW/healthz" >/dev/null && break; sleep 0.1; done
wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$W/stream.lua" "http://127.0.0.1:$GW/v1/chat/completions" | tail -6
curl -s "http://127.0.0.1:$GW/metrics" | grep '^tollgate_requests_total{route="/v1/chat/completions"'
