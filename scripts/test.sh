#!/usr/bin/env bash
# Command two: install what the tests need (redis-server included), start Redis, and run the
# whole suite: Swift unit and integration tests, then the OpenAI Python SDK end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --test

# A private Redis for the tests, stopped on exit. Tests read TOLLGATE_TEST_REDIS_URL.
REDIS_PORT="${TOLLGATE_TEST_REDIS_PORT:-6399}"
REDIS_DIR="$(mktemp -d)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" --daemonize no >"$REDIS_DIR/log" 2>&1 &
REDIS_PID=$!
cleanup() { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; rm -rf "$REDIS_DIR"; }
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
export TOLLGATE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TOLLGATE_REQUIRE_REDIS="${TOLLGATE_REQUIRE_REDIS:-${CI:-}}"

swift build --build-tests
set +e
swift test --skip-build
swift_status=$?
set -e

# End to end with the official OpenAI Python SDK as the client.
VENV=".build/e2e-venv"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check openai pytest
set +e
TOLLGATE_BIN="$(swift build --show-bin-path)/tollgate" "$VENV/bin/python" -m pytest -q tests/e2e
py_status=$?
set -e
exit $(( swift_status || py_status ))
