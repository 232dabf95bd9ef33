#!/usr/bin/env python3
"""CPU time per request of running gateways and of Redis, next to wrk's p50 (wrk -c1, interleaved).

With wrk -c1 on the 2-vCPU reference VM the whole chain runs on one vCPU (docs/limits.md, session 4),
so latency follows CPU time; CPU per request is a steadier figure than p50 when the VM is busy.

  cpu_per_request.py ROUNDS SECONDS REDIS_PID name:GATEWAY_PID:PORT [name:GATEWAY_PID:PORT ...]

Needs perf and wrk; run from the repository root (uses bench/chat.lua).
"""
import collections
import re
import statistics
import subprocess
import sys

rounds, secs, redis = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
targets = [t.split(':') for t in sys.argv[4:]]
results = collections.defaultdict(lambda: collections.defaultdict(list))
for r in range(rounds):
    for name, pid, port in targets:
        out_file = f'/tmp/cpu_per_request-{name}.txt'
        stat = subprocess.Popen(['perf', 'stat', '-e', 'task-clock', '-p', f'{pid},{redis}', '--per-thread', '-o', out_file, '--', 'sleep', str(secs)])
        out = subprocess.run(['wrk', '-t1', '-c1', f'-d{secs}s', '--latency', '-s', 'bench/chat.lua',
                              f'http://127.0.0.1:{port}/v1/chat/completions'], capture_output=True, text=True).stdout
        stat.wait()
        count = int(re.search(r'(\d+) requests in', out).group(1))
        p50 = re.search(r'50%\s+([\d.]+)(us|ms)', out)
        p50 = float(p50.group(1)) * (1000 if p50.group(2) == 'ms' else 1)
        gateway = redis_ms = 0.0
        for line in open(out_file):
            m = re.match(r'\s*(\S+)-(\d+)\s+([\d,.]+)\s+msec task-clock', line)
            if not m:
                continue
            ms = float(m.group(3).replace(',', ''))
            if m.group(1) == 'redis-server':
                redis_ms += ms
            else:
                gateway += ms
        row = results[name]
        row['p50'].append(p50)
        row['gateway'].append(gateway * 1000 / count)
        row['redis'].append(redis_ms * 1000 / count)
        print(f'round {r + 1} {name:10s} p50 {p50:6.0f} µs  gateway CPU {row["gateway"][-1]:6.1f} µs/req  '
              f'redis CPU {row["redis"][-1]:6.1f} µs/req', flush=True)
print('medians:')
for name, _, _ in targets:
    row = results[name]
    print(f'  {name:10s} p50 {statistics.median(row["p50"]):6.0f} µs  gateway CPU {statistics.median(row["gateway"]):6.1f} µs/req  '
          f'redis CPU {statistics.median(row["redis"]):6.1f} µs/req')
