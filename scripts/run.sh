#!/usr/bin/env bash
# Command one: install system packages, build, and run the gateway on its embedded store.
# Without OPENAI_API_KEY it runs the demo policy against the built-in mock provider, so
# `curl` works at once (see README). Extra arguments go to `tollgate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
swift build -c release --product tollgate
BIN="$(swift build -c release --show-bin-path)/tollgate"
if [[ -z "${OPENAI_API_KEY:-}" && -z "${TOLLGATE_CONFIG:-}" ]]; then
  export TOLLGATE_ADMIN_TOKEN="${TOLLGATE_ADMIN_TOKEN:-demo-admin-token}"
  echo "No OPENAI_API_KEY: demo mode with the built-in mock provider on 127.0.0.1:9001." >&2
  echo "Try: curl -N http://127.0.0.1:8080/v1/chat/completions -H 'Authorization: Bearer sk-tg-demo-key-for-local-use-only-0000' -H 'Content-Type: application/json' -d '{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'" >&2
  exec "$BIN" serve --config policies/demo.yaml --with-mock-provider 9001 "$@"
fi
exec "$BIN" serve "$@"
