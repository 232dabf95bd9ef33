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
# The same sample cpu.py measures, built by cpu.py's own function.
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import cpu; cpu.sample(sys.argv[2], sys.argv[3])' "$here" "$corpora" "$sample"
cd "$root"
"$bin" screen --config policies/tollgate.yaml --bench "$sample" "${@:3}"
