#!/usr/bin/env python3
"""Screens the hand-written probe sets (bench/screening/written_sets.jsonl) and prints, per set, how many
attacks were caught and how many benign texts passed.

These are the sets written in session 7 to look for gaps outside the corpora (multilingual shapes, indirect
injection in the formats agents read, operator system prompts, exfiltration through URLs). They are probes,
not a benchmark to tune to: the corpora and the held-out set judge.

Usage: python3 bench/screening/written_sets.py [--tollgate BIN] [--packs-dir DIR] [--misses]
"""
import argparse, collections, json, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser()
parser.add_argument("--tollgate", default=os.path.join(root, ".build", "release", "tollgate"))
parser.add_argument("--packs-dir", help="injection.yaml and pii.yaml from this folder instead of the policy's")
parser.add_argument("--misses", action="store_true", help="print every text with the wrong verdict")
args = parser.parse_args()

records = [json.loads(line) for line in open(os.path.join(root, "bench", "screening", "written_sets.jsonl"), encoding="utf-8")]
command = [args.tollgate, "screen", "--config", os.path.join(root, "policies", "tollgate.yaml")]
if args.packs_dir:
    command += ["--packs-dir", os.path.abspath(args.packs_dir)]
lines = subprocess.run(command, input="".join(json.dumps({"text": r["text"]}) + "\n" for r in records),
                       capture_output=True, text=True, check=True).stdout.splitlines()
right, total = collections.Counter(), collections.Counter()
for record, line in zip(records, lines):
    verdict = json.loads(line)
    key = (record["set"], record["expect"])
    total[key] += 1
    if verdict["injection"] == (record["expect"] == "injection"):
        right[key] += 1
    elif args.misses:
        print(f"  wrong ({record['expect']}, score {verdict['score']}, {verdict['rules']}): {record['text'][:140]}")
print(f"{'set':38s} {'attacks caught':>15s} {'benign passed':>14s}")
for name in dict.fromkeys(r["set"] for r in records):
    cells = [f"{right[(name, e)]}/{total[(name, e)]}" if total[(name, e)] else "-" for e in ("injection", "benign")]
    print(f"{name:38s} {cells[0]:>15s} {cells[1]:>14s}")
