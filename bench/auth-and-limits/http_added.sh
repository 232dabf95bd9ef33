#!/usr/bin/env bash
# What rate limits + a budget add to a request, end to end through HTTP (issue 4: < 100 µs p50 with
# Redis on loopback). Two gateways on the same Redis and the same static upstream: one whose team has
# no limits, one whose team has rpm + tpm and a token + USD budget (4 GCRA rules + 1 budget per
# request), admitting from leases (`state.admission: leased`, the default), and with Redis a third with
# the same limits and `state.admission: exact` (a Redis round trip per request). wrk at 1 connection (sequential requests, so queueing does not hide the round trip),
# alternating the two gateways ROUNDS times; prints each p50 and the median difference.
#
#   bench/auth-and-limits/http_added.sh [rounds=5] [seconds=5]
#   STATE=memory bench/auth-and-limits/http_added.sh   # both gateways on the embedded store instead
#   CONNS=4 bench/auth-and-limits/http_added.sh         # wrk connections (default 1: sequential requests)
#   REDIS_SOCKET=1 bench/auth-and-limits/http_added.sh  # gateways reach Redis over its Unix socket
#   SCRATCH=.build-x bench/auth-and-limits/http_added.sh   # build into (and run from) another scratch path
#   BIN=/path/to/tollgate BIN_B=/path/to/other bench/auth-and-limits/http_added.sh
#       # run given binaries, no build; with BIN_B each round also measures the limited gateway
#       # of a second binary (old vs new in the same run of time)
# Needs nginx, wrk, redis-server; uses the release binary (builds it unless BIN is set).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-5}"
DUR="${2:-5}"
if [[ -z "${BIN:-}" ]]; then
  SCRATCH_ARGS=()
  [[ -n "${SCRATCH:-}" ]] && SCRATCH_ARGS=(--scratch-path "$SCRATCH")
  swift build -c release "${SCRATCH_ARGS[@]}" --product tollgate >/dev/null
  BIN="$(swift build -c release "${SCRATCH_ARGS[@]}" --show-bin-path)/tollgate"
fi
WORK="$(mktemp -d)"
STATIC=18181 PROXY=18182 MOCK=18183 PLAIN=18184 LIMITED=18185 REDIS=18186 PLAIN_B=18187 LIMITED_B=18188 EXACT=18189
KEYHASH=$(printf '%s' "sk-tg-bench-key-0000000000000000000000" | sha256sum | cut -d' ' -f1)
sed -e "s|__DIR__|$WORK|g" -e "s|__STATIC__|$STATIC|g" -e "s|__PROXY__|$PROXY|g" -e "s|__MOCK__|$MOCK|g" bench/nginx.conf.tmpl > "$WORK/nginx.conf"
policy() { # name team-extra [state-extra]
  sed -e "s|__STATIC__|$STATIC|g" -e "s|__MOCK__|$MOCK|g" -e "s|__KEYHASH__|$KEYHASH|g" bench/policy.yaml.tmpl \
    | sed -e "s|^  bench: {keys: \[\(.*\)\]}|  bench: {keys: [\1]$2}|" > "$WORK/$1.yaml"
  if [[ "${STATE:-redis}" == redis ]]; then
    if [[ -n "${REDIS_SOCKET:-}" ]]; then
      printf 'state: {backend: redis, url: "unix://%s/redis.sock?db=0"%s}\n' "$WORK" "${3:-}" >> "$WORK/$1.yaml"
    else
      printf 'state: {backend: redis, url: "redis://127.0.0.1:%s/0"%s}\n' "$REDIS" "${3:-}" >> "$WORK/$1.yaml"
    fi
  fi
  # Prices make the USD budget real work (cost computed on admit and settle).
  sed -i -e 's|bench-model: {targets: \[{provider: static, model: bench-upstream}\]}|bench-model: {targets: [{provider: static, model: bench-upstream}], price: {input_per_1m: 0.5, output_per_1m: 1.5}}|' "$WORK/$1.yaml"
}
policy plain ""
LIMITS=", rpm: 50000000, tpm: 500000000, budget: {tokens: 900000000000, usd: 9000000, period: monthly}"
policy limited "$LIMITS"
policy exact "$LIMITS" ", admission: exact"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
redis-server --port "$REDIS" --bind 127.0.0.1 --unixsocket "$WORK/redis.sock" --unixsocketperm 700 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 & PIDS+=($!)
nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' & PIDS+=($!)
sleep 0.3
"$BIN" policy check "$WORK/limited.yaml" >/dev/null
LOG_LEVEL=error "$BIN" serve --config "$WORK/plain.yaml" --port "$PLAIN" --data-dir "$WORK/d1" >"$WORK/plain.log" 2>&1 & PIDS+=($!)
LOG_LEVEL=error "$BIN" serve --config "$WORK/limited.yaml" --port "$LIMITED" --data-dir "$WORK/d2" >"$WORK/limited.log" 2>&1 & PIDS+=($!)
PORTS=($STATIC $PLAIN $LIMITED)
if [[ "${STATE:-redis}" == redis ]]; then
  LOG_LEVEL=error "$BIN" serve --config "$WORK/exact.yaml" --port "$EXACT" --data-dir "$WORK/d5" >"$WORK/exact.log" 2>&1 & PIDS+=($!)
  PORTS+=($EXACT)
fi
if [[ -n "${BIN_B:-}" ]]; then
  LOG_LEVEL=error "$BIN_B" serve --config "$WORK/plain.yaml" --port "$PLAIN_B" --data-dir "$WORK/d3" >"$WORK/plain_b.log" 2>&1 & PIDS+=($!)
  LOG_LEVEL=error "$BIN_B" serve --config "$WORK/limited.yaml" --port "$LIMITED_B" --data-dir "$WORK/d4" >"$WORK/limited_b.log" 2>&1 & PIDS+=($!)
  PORTS+=($PLAIN_B $LIMITED_B)
fi
for port in "${PORTS[@]}"; do
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
p50_us() { # port
  wrk -t1 -c"${CONNS:-1}" -d"${DUR}s" --latency -s bench/chat.lua "http://127.0.0.1:$1/v1/chat/completions" \
    | awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); print v } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 } else { sub(/s$/, "", v); print v * 1000000 } }'
}
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-tg-bench-key-0000000000000000000000" \
  -H 'content-type: application/json' -d '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}' \
  "http://127.0.0.1:$LIMITED/v1/chat/completions" -D "$WORK/headers")
grep -qi '^x-ratelimit-limit-requests: 50000000' "$WORK/headers" || { echo "limited gateway does not enforce limits (status $status)"; cat "$WORK/limited.log"; exit 1; }
p50_us "$PLAIN" >/dev/null; p50_us "$LIMITED" >/dev/null   # warm-up
[[ -n "${BIN_B:-}" ]] && { p50_us "$PLAIN_B" >/dev/null; p50_us "$LIMITED_B" >/dev/null; }
[[ "${STATE:-redis}" == redis ]] && p50_us "$EXACT" >/dev/null
diffs=() diffs_b=() diffs_exact=()
for r in $(seq 1 "$ROUNDS"); do
  a=$(p50_us "$PLAIN"); b=$(p50_us "$LIMITED")
  d=$(python3 -c "print(f'{$b - $a:.0f}')")
  diffs+=("$d")
  echo "round $r: p50 without limits ${a} µs, with limits + budget (${STATE:-redis} store) ${b} µs, added ${d} µs"
  if [[ "${STATE:-redis}" == redis ]]; then
    e=$(p50_us "$EXACT")
    d=$(python3 -c "print(f'{$e - $a:.0f}')")
    diffs_exact+=("$d")
    echo "round $r: p50 with the same limits, admission: exact ${e} µs, added ${d} µs"
  fi
  if [[ -n "${BIN_B:-}" ]]; then
    a=$(p50_us "$PLAIN_B"); b=$(p50_us "$LIMITED_B")
    d=$(python3 -c "print(f'{$b - $a:.0f}')")
    diffs_b+=("$d")
    echo "round $r (BIN_B): p50 without limits ${a} µs, with limits + budget ${b} µs, added ${d} µs"
  fi
done
python3 -c "import statistics,sys; print(f'median added p50: {statistics.median(map(float, sys.argv[1:])):.0f} µs over $ROUNDS rounds of ${DUR}s (wrk -c${CONNS:-1})')" "${diffs[@]}"
if [[ "${STATE:-redis}" == redis ]]; then
  python3 -c "import statistics,sys; print(f'admission: exact, median added p50: {statistics.median(map(float, sys.argv[1:])):.0f} µs')" "${diffs_exact[@]}"
fi
if [[ -n "${BIN_B:-}" ]]; then
  python3 -c "import statistics,sys; print(f'BIN_B median added p50: {statistics.median(map(float, sys.argv[1:])):.0f} µs over $ROUNDS rounds of ${DUR}s (wrk -c${CONNS:-1})')" "${diffs_b[@]}"
fi
redis-benchmark -p "$REDIS" -n 20000 -c 1 -t ping 2>/dev/null | tail -4 | awk '/latency summary/ { getline; getline; print "redis-benchmark PING p50 on this machine now: " $3 * 1000 " µs" }'
