"""Time to first chunk and chunks/s for streamed chat through one base URL.

Runs `--concurrency` clients for `--requests` streamed requests each and prints JSON:
{"ttfc_p50_ms", "ttfc_p99_ms", "chunks_per_s"} (chunks = SSE data events received).
"""
import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlparse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--requests", type=int, default=20)
p.add_argument("--concurrency", type=int, default=4)
p.add_argument("--key", default="sk-tg-bench-key-0000000000000000000000")
a = p.parse_args()
u = urlparse(a.url)
body = json.dumps({"model": "bench-stream", "stream": True,
                   "messages": [{"role": "user", "content": "stream " + "word " * 40}]})
ttfc, chunks, lock = [], [0], threading.Lock()


def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    for _ in range(a.requests):
        t0 = time.perf_counter()
        conn.request("POST", u.path + "/chat/completions", body,
                     {"Content-Type": "application/json", "Authorization": "Bearer " + a.key})
        r = conn.getresponse()
        first, n, buf = None, 0, b""
        while True:
            data = r.read1(65536)
            if not data:
                break
            if first is None:
                first = time.perf_counter() - t0
            buf += data
            while b"\n\n" in buf:
                ev, buf = buf.split(b"\n\n", 1)
                if ev.startswith(b"data:"):
                    n += 1
        with lock:
            ttfc.append(first * 1000)
            chunks[0] += n


t0 = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - t0
ttfc.sort()
print(json.dumps({"ttfc_p50_ms": statistics.median(ttfc), "ttfc_p99_ms": ttfc[int(len(ttfc) * 0.99) - 1],
                  "chunks_per_s": chunks[0] / elapsed}))
