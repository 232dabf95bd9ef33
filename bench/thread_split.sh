#!/usr/bin/env bash
# Where the gateway's CPU goes on the proxy path, by thread role: handler tasks (Swift cooperative pool),
# the libcurl thread, the NIO event loop; and how much of it is inside curl_multi_perform. Unwinds with
# DWARF (libcurl has no frame pointers, so -g alone stops at it).
# Usage: [CONNS=64] bench/thread_split.sh   (needs nginx, wrk, linux-perf; prints shares of all samples)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tollgate >/dev/null
BIN="$(swift build -c release --show-bin-path)/tollgate"
W="$(mktemp -d)"
KEYHASH=$(printf '%s' "sk-tg-bench-key-0000000000000000000000" | sha256sum | cut -d' ' -f1)
sed -e "s|__DIR__|$W|g" -e "s|__STATIC__|18121|g" -e "s|__PROXY__|18122|g" -e "s|__MOCK__|18123|g" bench/nginx.conf.tmpl > "$W/nginx.conf"
sed -e "s|__STATIC__|18121|g" -e "s|__MOCK__|18123|g" -e "s|__KEYHASH__|$KEYHASH|g" bench/policy.yaml.tmpl > "$W/policy.yaml"
nginx -c "$W/nginx.conf" -p "$W" -g 'daemon off;' & NP=$!
LOG_LEVEL=error "$BIN" serve --config "$W/policy.yaml" --port 18124 --data-dir "$W/data" > "$W/gw.log" 2>&1 & GP=$!
trap 'kill $GP $NP 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
sleep 1.5
CONNS="${CONNS:-64}"
wrk -t2 -c"$CONNS" -d2s -s bench/chat.lua http://127.0.0.1:18124/v1/chat/completions >/dev/null   # warm-up
perf record -F 499 --call-graph dwarf,16384 -p $GP -o "$W/perf.data" -- sleep 5 >/dev/null 2>&1 & PS=$!
wrk -t2 -c"$CONNS" -d5s -s bench/chat.lua http://127.0.0.1:18124/v1/chat/completions | grep Requests/sec
wait $PS
perf script -i "$W/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | python3 -c '
import sys, collections
roles, perform, total, frames = collections.Counter(), 0, 0, []
def flush():
    global perform, total
    if not frames: return
    total += 1
    stack = " ".join(frames)
    role = "handler tasks (cooperative pool)" if "_dispatch_worker_thread" in stack else \
           "NIO event loop" if "SelectableEventLoop" in stack else \
           "libcurl thread" if "CurlWorker" in stack else "other"
    roles[role] += 1
    if "curl_multi_perform" in stack: perform += 1
for line in sys.stdin:
    if line.strip(): frames.append(line.strip())
    else: flush(); frames = []
flush()
for role, n in roles.most_common(): print(f"{role:34s} {100 * n / total:5.1f}%")
label = "  of which curl_multi_perform"
print(f"{label:34s} {100 * perform / total:5.1f}%")
'
