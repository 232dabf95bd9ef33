#!/usr/bin/env python3
"""Evaluate `tollgate screen` on the screening corpora (injection.jsonl, pii.jsonl).

Usage:
  scripts/eval_screening.py [--tollgate PATH] [--corpora DIR] [--config POLICY] [--rules] [--misses CATEGORY]

Defaults: the binary is the first of .build/release/tollgate, .build/debug/tollgate (or --tollgate);
the corpora are <repo>/../shared/corpora. Standard library only.

Injection: a record counts as flagged when the output line says "injection": true. Recall is over
"injection" records, FPR over "benign" records, and precision over flagged records. FPR is also given
for the benign groups the acceptance criteria name: ordinary text (xstest_safe, instruction,
general_text, document_*, code_question) and hard negatives (hn_*, hard_negative_system_prompt,
obfuscated_benign_*).

PII: gold types API_KEY, JWT and PRIVATE_KEY count as SECRET; types the screen does not report
(PERSON, ADDRESS, ...) are ignored. A prediction is a true positive under *exact* matching when a
gold span of the same type has the same start and end, and under *overlap* matching when it overlaps
one (each gold span is matched at most once). Exact is the headline number. PHONE gold spans are split
into PHONE (international or 10+ digits, the synthetic/template formats) and PHONE_LOCAL (Presidio's
6-9 digit local numbers without a country code), which is reported without a target.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

SCORED = {"EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS", "SECRET"}
TO_SECRET = {"API_KEY", "JWT", "PRIVATE_KEY"}
ORDINARY = ("xstest_safe", "instruction", "general_text", "document_", "code_question")
HARD = ("hn_", "hard_negative_system_prompt", "obfuscated_benign_")


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_binary(explicit):
    if explicit:
        return explicit
    root = repo_root()
    for sub in (".build/release/tollgate", ".build/debug/tollgate"):
        path = os.path.join(root, sub)
        if os.path.exists(path):
            return path
    sys.exit("no tollgate binary found; build it (swift build -c release) or pass --tollgate PATH")


def screen(binary, config, records):
    payload = "".join(json.dumps({"text": r["text"]}) + "\n" for r in records)
    cmd = [binary, "screen"] + (["--config", config] if config else [])
    proc = subprocess.run(cmd, input=payload.encode(), stdout=subprocess.PIPE, check=True)
    lines = proc.stdout.decode().splitlines()
    if len(lines) != len(records):
        sys.exit(f"expected {len(records)} output lines, got {len(lines)}")
    return [json.loads(line) for line in lines]


def ratio(a, b):
    return a / b if b else float("nan")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate_injection(records, outputs, show_rules, misses):
    flagged = [bool(o.get("injection")) for o in outputs]
    inj = [i for i, r in enumerate(records) if r["label"] == "injection"]
    ben = [i for i, r in enumerate(records) if r["label"] == "benign"]
    tp = sum(flagged[i] for i in inj)
    fp = sum(flagged[i] for i in ben)
    print("## Injection (%d records)\n" % len(records))
    print("| metric | value |\n| --- | --- |")
    print(f"| recall | {ratio(tp, len(inj)):.3f} ({tp}/{len(inj)}) |")
    print(f"| precision | {ratio(tp, tp + fp):.3f} |")
    print(f"| FPR, all benign | {ratio(fp, len(ben)):.4f} ({fp}/{len(ben)}) |")
    for name, prefixes in (("ordinary benign", ORDINARY), ("hard negatives", HARD)):
        group = [i for i in ben if records[i]["category"].startswith(prefixes)]
        hits = sum(flagged[i] for i in group)
        print(f"| FPR, {name} | {ratio(hits, len(group)):.4f} ({hits}/{len(group)}) |")
    print("\n| category | label | n | flagged | rate |\n| --- | --- | --- | --- | --- |")
    by_cat = collections.defaultdict(list)
    for i, r in enumerate(records):
        by_cat[(r["label"], r["category"])].append(i)
    for (label, cat), idx in sorted(by_cat.items()):
        hits = sum(flagged[i] for i in idx)
        print(f"| {cat} | {label} | {len(idx)} | {hits} | {ratio(hits, len(idx)):.3f} |")
    grouped = collections.defaultdict(list)
    for (label, cat), idx in by_cat.items():
        if label == "injection":
            grouped[re.sub(r"_(es|de|fr|it|pt|nl|pl|tr)$", "", cat).split("_")[0] if cat.startswith(("multilingual", "obfuscated")) else cat] += idx
    print("\n| injection group | n | recall |\n| --- | --- | --- |")
    for cat, idx in sorted(grouped.items()):
        print(f"| {cat} | {len(idx)} | {ratio(sum(flagged[i] for i in idx), len(idx)):.3f} |")
    if show_rules:
        counts = collections.defaultdict(lambda: [0, 0])
        for i, o in enumerate(outputs):
            for rule in o.get("rules", []):
                counts[rule][0 if records[i]["label"] == "injection" else 1] += 1
        print("\n| rule | injection hits | benign hits |\n| --- | --- | --- |")
        for rule, (a, b) in sorted(counts.items(), key=lambda kv: -kv[1][0]):
            print(f"| {rule} | {a} | {b} |")
    if misses:
        print(f"\n### records of category {misses} with the wrong verdict\n")
        for i, r in enumerate(records):
            if r["category"] == misses and flagged[i] != (r["label"] == "injection"):
                print(json.dumps({"text": r["text"][:400], "rules": outputs[i].get("rules")}, ensure_ascii=False))
    print()


def gold_type(entity, text):
    t = entity["type"]
    t = "SECRET" if t in TO_SECRET else t
    if t == "PHONE":
        span = text[entity["start"]:entity["end"]]
        digits = sum(c.isdigit() for c in span)
        if "+" not in span and digits <= 9:
            return "PHONE_LOCAL"
    return t if t in SCORED else None


def evaluate_pii(records, outputs, show_errors):
    exact = collections.defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    overlap = collections.defaultdict(lambda: [0, 0, 0])
    errors = []
    for record, out in zip(records, outputs):
        text = record["text"]
        gold = [(gold_type(e, text), e["start"], e["end"]) for e in record["entities"]]
        gold = [g for g in gold if g[0]]
        preds = [(p["type"], p["start"], p["end"]) for p in out.get("pii", [])]
        for table, match in ((exact, lambda g, p: g[1] == p[1] and g[2] == p[2]),
                             (overlap, lambda g, p: g[1] < p[2] and p[1] < g[2])):
            used = set()
            for p in preds:
                hit = None
                for gi, g in enumerate(gold):
                    same = g[0] == p[0] or (g[0] == "PHONE_LOCAL" and p[0] == "PHONE")
                    if gi not in used and same and match(g, p):
                        hit = gi
                        break
                if hit is None:
                    # A prediction overlapping an unscored entity is not charged as a false positive.
                    table[p[0]][1] += 1
                    if table is exact:
                        errors.append(("FP", p[0], text[p[1]:p[2]], text))
                else:
                    used.add(hit)
                    table[gold[hit][0]][0] += 1
            for gi, g in enumerate(gold):
                if gi not in used:
                    table[g[0]][2] += 1
                    if table is exact:
                        errors.append(("FN", g[0], text[g[1]:g[2]], text))
    print("## PII (%d records)\n" % len(records))
    print("| type | gold | exact recall | exact precision | overlap recall | overlap precision |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t in sorted(set(exact) | set(overlap)):
        tp, fp, fn = exact[t]
        otp, ofp, ofn = overlap[t]
        print(f"| {t} | {tp + fn} | {ratio(tp, tp + fn):.3f} | {ratio(tp, tp + fp):.3f} | "
              f"{ratio(otp, otp + ofn):.3f} | {ratio(otp, otp + ofp):.3f} |")
    print("\n(PHONE precision counts false PHONE predictions; PHONE_LOCAL has no predictions of its own.)\n")
    if show_errors:
        for kind, t, span, text in errors:
            if show_errors == "all" or show_errors == t:
                print(kind, t, repr(span), "<<", repr(text[:200]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tollgate", help="path to the tollgate binary")
    parser.add_argument("--corpora", default=os.path.join(os.path.dirname(repo_root()), "shared", "corpora"))
    parser.add_argument("--config", help="policy file passed to `tollgate screen --config`")
    parser.add_argument("--rules", action="store_true", help="print per-rule hit counts")
    parser.add_argument("--misses", help="print misclassified records of this injection category")
    parser.add_argument("--pii-errors", help="print PII errors of this type (or 'all')")
    parser.add_argument("--only", choices=["injection", "pii"])
    args = parser.parse_args()
    binary = find_binary(args.tollgate)
    if args.only != "pii":
        records = load(os.path.join(args.corpora, "injection.jsonl"))
        evaluate_injection(records, screen(binary, args.config, records), args.rules, args.misses)
    if args.only != "injection":
        records = load(os.path.join(args.corpora, "pii.jsonl"))
        evaluate_pii(records, screen(binary, args.config, records), args.pii_errors)


if __name__ == "__main__":
    main()
