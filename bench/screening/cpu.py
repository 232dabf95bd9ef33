#!/usr/bin/env python3
"""CPU time per screen, for a loaded machine where wall-clock figures swing with other work.

    bench/screening/cpu.py [TOLLGATE_BINARY] [CORPORA_DIR] [--part all|injection|pii] [--repeat N] [--packs DIR]

Builds the same sample as run.sh, then runs `tollgate screen --bench` for one size at a time with two
iteration counts and divides the difference in task-clock (perf stat) by the difference in screens,
so process start-up and pack compilation cancel out. Prints the minimum over --repeat rounds (other load only ever adds time).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))


def sample(corpora, path):
    rows = [json.loads(l) for l in open(f"{corpora}/injection.jsonl")]
    texts = [r["text"] for r in rows if r["label"] == "benign"]
    pii = [json.loads(l)["text"] for l in open(f"{corpora}/pii.jsonl")]
    parts = []
    for i, t in enumerate(texts):
        parts.append(t)
        if i % 20 == 0 and pii:
            parts.append(pii[(i // 20) % len(pii)])
    with open(path, "w") as f:
        f.write("\n".join(parts))


def task_clock_ms(binary, path, kb, iterations, part, packs):
    cmd = ["perf", "stat", "-x", ",", "-e", "task-clock", binary, "screen", "--config", "policies/tollgate.yaml",
           "--bench", path, "--bench-sizes", str(kb), "--iterations", str(iterations), "--bench-part", part]
    if packs:
        cmd += ["--packs-dir", os.path.abspath(packs)]
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True)
    for line in result.stderr.splitlines():
        if "task-clock" in line:
            return float(line.split(",")[0])
    raise RuntimeError(result.stderr)


def runs(kb, iterations):
    # Mirrors ScreenBenchmark: 1 KB runs `iterations` times, larger slices iterations / 50 (at least 10).
    return iterations if kb <= 1 else max(iterations // 50, 10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?", default=f"{root}/.build/release/tollgate")
    parser.add_argument("corpora", nargs="?", default=f"{root}/../shared/corpora")
    parser.add_argument("--part", default="all")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--packs", help="folder with injection.yaml and pii.yaml (default: the policy's packs)")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as handle:
        path = handle.name
    try:
        sample(args.corpora, path)
        for kb, low, high in [(1, 1000, 21000), (100, 500, 5500)]:
            figures = []
            for _ in range(args.repeat):
                t1 = task_clock_ms(args.binary, path, kb, low, args.part, args.packs)
                t2 = task_clock_ms(args.binary, path, kb, high, args.part, args.packs)
                figures.append((t2 - t1) * 1000 / (runs(kb, high) - runs(kb, low)))
            print(f"{kb} KB: {min(figures):.1f} µs CPU per screen ({args.part}), "
                  f"min of {[round(f, 1) for f in figures]}")
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
