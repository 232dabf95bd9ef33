#!/usr/bin/env bash
# Times the default screening packs on 1 KB, 100 KB and 1 MB of text:
#   bench/screening/run.sh [TOLLGATE_BINARY] [CORPORA_DIR]
# Build first with `swift build -c release`. The text is the benign records of the injection corpus
# (emails, tables, code, questions) joined with newlines, plus one PII record in every 20, so both
# screens do realistic work. Prints mean microseconds per screen (injection + PII) for each size.
# Wall time swings with other load on a shared machine: bench/screening/cpu.py gives CPU time per
# screen for the same sample, which is the figure to compare between builds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/.build/release/tollgate}"
corpora="${2:-$root/../shared/corpora}"
sample="$(mktemp)"
trap 'rm -f "$sample"' EXIT
python3 - "$corpora" "$sample" <<'PY'
import json, sys
corpora, out = sys.argv[1], sys.argv[2]
texts = [json.loads(l)["text"] for l in open(f"{corpora}/injection.jsonl") if json.loads(l)["label"] == "benign"]
pii = [json.loads(l)["text"] for l in open(f"{corpora}/pii.jsonl")]
parts = []
for i, t in enumerate(texts):
    parts.append(t)
    if i % 20 == 0 and pii:
        parts.append(pii[(i // 20) % len(pii)])
open(out, "w").write("\n".join(parts))
PY
cd "$root"
"$bin" screen --config policies/tollgate.yaml --bench "$sample" "${@:3}"
