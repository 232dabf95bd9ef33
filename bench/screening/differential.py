#!/usr/bin/env python3
"""Compares what two builds (each with its own packs) detect, record by record, for speed work that must
not change detections.

    bench/screening/differential.py OLD_BINARY[:PACKS_DIR] NEW_BINARY[:PACKS_DIR] [CORPORA_DIR]
        [--generated N] [--seed S]

Records screened: both corpora; the benchmark text of cpu.py cut into 3 KB and 20 KB pieces; the injection
corpus concatenated seven at a time; and N generated records (corpus prompts and PII concatenated, with
random leetspeak, split and spaced words, Cyrillic look-alikes and symbol runs). Prints the number of
records per set whose `tollgate screen` output differs, then each difference (rules lost and gained, PII
changed). A PACKS_DIR holds injection.yaml and pii.yaml; without one the policy's packs are used.
"""
import argparse, json, os, random, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, here)
from cpu import sample  # noqa: E402  (the benchmark text)

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def mangled(text, rng):
    words = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < 0.05:
            word = "".join(LEET.get(c, c) for c in word)
        elif roll < 0.08 and len(word) > 3:
            cut = rng.randrange(1, len(word))
            word = word[:cut] + rng.choice("-_.") + word[cut:]
        elif roll < 0.10:
            word = " ".join(word)
        elif roll < 0.11:
            word = word.replace("a", "\u0430").replace("e", "\u0435")
        elif roll < 0.115:
            word = "GPT" + word
        elif roll < 0.12:
            word = "#####" + word
        words.append(word)
    return " ".join(words)


def record_sets(corpora, generated, seed):
    injection = [json.loads(line)["text"] for line in open(f"{corpora}/injection.jsonl")]
    pii = [json.loads(line)["text"] for line in open(f"{corpora}/pii.jsonl")]
    bench_path = os.path.join(root, ".build", "differential-sample.txt")
    os.makedirs(os.path.dirname(bench_path), exist_ok=True)
    sample(corpora, bench_path)
    bench = open(bench_path).read()
    pieces = [bench[i:i + size] for size in (3000, 20000) for i in range(0, len(bench), size)]
    groups = ["\n\n".join(injection[i:i + 7]) for i in range(0, len(injection), 7)]
    rng = random.Random(seed)
    made = []
    for _ in range(generated):
        parts = [rng.choice(injection) for _ in range(rng.randint(1, 4))] + [rng.choice(pii) for _ in range(rng.randint(0, 2))]
        rng.shuffle(parts)
        text = "\n".join(parts)
        made.append(mangled(text, rng) if rng.random() < 0.7 else text)
    return {"injection corpus": injection, "pii corpus": pii, "pieces and groups": pieces + groups, "generated": made}


def screen(spec, texts):
    binary, _, packs = spec.partition(":")
    command = [binary, "screen", "--config", "policies/tollgate.yaml"] + (["--packs-dir", packs] if packs else [])
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    out = subprocess.run(command, input=lines, capture_output=True, text=True, cwd=root, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("corpora", nargs="?", default=f"{root}/../shared/corpora")
    parser.add_argument("--generated", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for name, texts in record_sets(args.corpora, args.generated, args.seed).items():
        old, new = screen(args.old, texts), screen(args.new, texts)
        differing = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        print(f"{name}: {len(differing)} of {len(texts)} records differ")
        for i in differing:
            a, b = old[i], new[i]
            lost, gained = sorted(set(a["rules"]) - set(b["rules"])), sorted(set(b["rules"]) - set(a["rules"]))
            print(f"  #{i + 1}: rules lost {lost} gained {gained}, PII {'same' if a['pii'] == b['pii'] else 'changed'}")


if __name__ == "__main__":
    main()
