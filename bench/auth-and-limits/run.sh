#!/usr/bin/env bash
# Auth and admission benchmarks (issue 3: auth < 20 µs p50 with 10,000 keys; issue 4: limit + budget
# checks < 100 µs p50 with Redis on loopback). Prints figures; asserts nothing about time.
#
#   bench/auth-and-limits/run.sh            # debug build (what `swift test` builds)
#   CONFIG=release bench/auth-and-limits/run.sh   # optimized (-enable-testing for @testable access)
#
# Uses TOLLGATE_TEST_REDIS_URL if set, else starts a private redis-server on a free port (stopped on exit).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH="${SCRATCH:-.build-bench}"
CONFIG="${CONFIG:-debug}"
EXTRA=()
[[ "$CONFIG" == release ]] && EXTRA=(-Xswiftc -enable-testing)

if [[ -z "${TOLLGATE_TEST_REDIS_URL:-}" ]] && command -v redis-server >/dev/null; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  DIR=$(mktemp -d)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize no >"$DIR/log" 2>&1 &
  REDIS_PID=$!
  trap 'kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; rm -rf "$DIR"' EXIT
  for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export TOLLGATE_TEST_REDIS_URL="redis://127.0.0.1:$PORT"
fi

swift build -c "$CONFIG" --scratch-path "$SCRATCH" --build-tests "${EXTRA[@]}"
TOLLGATE_BENCH=1 swift test -c "$CONFIG" --scratch-path "$SCRATCH" --skip-build "${EXTRA[@]}" \
  --filter 'TollgateIntegrationTests.(KeysAuthBenchmark|LimitsAdmitBenchmark)' 2>&1 | grep -E '^\[bench\]|passed|failed|error'
