"""Reads the wrk and stream outputs of bench/run.sh and prints the overhead table."""
import json
import os
import re
import sys

work = sys.argv[1]


def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        lat[pct] = ms(m.group(1), m.group(2)) if m else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, lat["50"], lat["99"], int(errors.group(1)) if errors else 0


print(f"{'run':<24}{'RPS':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
ratios = []
for conns in (64, 4):
    rows = {}
    for name in ("upstream", "nginx", "tollgate", "hummingbird"):
        path = os.path.join(work, f"wrk-{name}-{conns}.txt")
        if not os.path.exists(path):
            continue
        rows[name] = parse(path)
        rps, p50, p99, errs = rows[name]
        print(f"{name + ' c=' + str(conns):<24}{rps:>10.0f}{p50:>10.3f}{p99:>10.3f}{errs:>9}")
    t, n = rows["tollgate"], rows["nginx"]
    h = rows.get("hummingbird")
    ratios.append((conns, t[0] / n[0], t[1] - n[1], t[2] - n[2], h[0] / n[0] if h else None))
print()
for conns, rps_ratio, p50_delta, p99_delta, hb_ratio in ratios:
    print(f"c={conns:<3} tollgate/nginx RPS = {rps_ratio:.2f}x   p50 delta = {p50_delta:+.3f} ms   p99 delta = {p99_delta:+.3f} ms")
    if hb_ratio is not None:
        print(f"      (reference: Hummingbird answering itself, no upstream hop = {hb_ratio:.2f}x nginx)")
print()
print(f"{'stream':<12}{'ttfc p50 ms':>14}{'ttfc p99 ms':>14}{'chunks/s':>12}")
for name in ("upstream", "nginx", "tollgate"):
    s = json.load(open(os.path.join(work, f"stream-{name}.json")))
    print(f"{name:<12}{s['ttfc_p50_ms']:>14.2f}{s['ttfc_p99_ms']:>14.2f}{s['chunks_per_s']:>12.0f}")
