#!/usr/bin/env python3
"""Redis-side cost of the admit and settle scripts, as in LimitsAdmitBenchmark (4 GCRA rules + 1 budget;
settle: 2 tpm rules, 1 budget, usage for team and key in 3 periods).

    bench/auth-and-limits/redis_script_cost.py PORT [GIT_REV]

Loads the scripts from Sources/TollgateStore/Redis/RedisScripts.swift (at GIT_REV if given: cf6c81e is
the layout before the admit-latency work, whose argument format is also known here), runs each alone
30,000 times (pipelined by 32) against redis-server on 127.0.0.1:PORT and prints `INFO commandstats`
usec_per_call and the server's CPU per call. Destroys the data in that Redis (FLUSHALL).
"""
import re, socket, struct, subprocess, sys

port = int(sys.argv[1])
rev = sys.argv[2] if len(sys.argv) > 2 else None
path = 'Sources/TollgateStore/Redis/RedisScripts.swift'
src = subprocess.run(['git', 'show', f'{rev}:{path}'], capture_output=True, text=True, check=True).stdout if rev else open(path).read()
scripts = {n: re.search(r'static let %s = RedisScript\(\n\s*"""\n(.*?)\n\s*"""' % n, src, re.S).group(1) for n in ('admit', 'settle')}
packed = 'struct.unpack' in scripts['admit']

def resp(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += [b'$%d\r\n' % len(a), a, b'\r\n']
    return b''.join(out)

sock = socket.create_connection(('127.0.0.1', port))
buf = b''
def read():
    global buf
    while b'\r\n' not in buf: buf += sock.recv(65536)
    line, buf = buf.split(b'\r\n', 1)
    kind, rest = line[:1], line[1:]
    if kind == b'$':
        n = int(rest)
        if n < 0: return None
        while len(buf) < n + 2: buf += sock.recv(65536)
        data, buf = buf[:n], buf[n + 2:]
        return data
    if kind == b'*': return [read() for _ in range(int(rest))] if int(rest) >= 0 else None
    if kind == b'-': raise RuntimeError(rest.decode())
    return int(rest) if kind == b':' else rest
def cmd(*args):
    sock.sendall(resp(args)); return read()
def pid_cpu():
    pid = int(re.search(r'process_id:(\d+)', cmd('INFO', 'server').decode()).group(1))
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])

sha = {n: cmd('SCRIPT', 'LOAD', s).decode() for n, s in scripts.items()}
t = 'tollgate:{t1}:'
usage = [t + 'us:d2026-11-26', t + 'us:m2026-11', t + 'us:total']
budget = t + 'bg:team|m2026-11'
rules = [('team:rpm', 1, 100000000, 1, 100000000), ('team:tpm', 1, 1000000000, 279, 1000000000),
         ('key:key_bench:rpm', 1, 50000000, 1, 50000000), ('key:key_bench:tpm', 1, 500000000, 279, 500000000)]
if packed:
    nums = [-1, 4, 1, 1e12, 1e12, 279, 163, 5356800] + [x for r in rules for x in r[1:]]
    admit = ['EVALSHA', sha['admit'], '2', t + 'gcra', budget, struct.pack('<%dd' % len(nums), *nums)] + [r[0] for r in rules]
    nums = [2, 1, 1, 1, -159, 1, -159, -159, -100, 5356800, 20, 100, 63, 259200, 5356800, -1]
    settle = ['EVALSHA', sha['settle'], '5', t + 'gcra', budget] + usage + [struct.pack('<%dd' % len(nums), *nums), 'team:tpm', 'key:key_bench:tpm', 'key_bench']
else:
    keys = [t + 'rl:' + r[0] for r in rules]
    admit = ['EVALSHA', sha['admit'], '5'] + keys + [budget, '-1', '4'] + [str(x) for r in rules for x in r[1:]] + '1 1000000000000 1000000000000 279 163 5356800'.split()
    settle = ['EVALSHA', sha['settle'], '6', keys[1], keys[3], budget] + usage + '2 1 -159 1 -159 1 -159 -100 5356800 1 key_bench 20 100 63 259200 5356800 -1'.split()

for name, args in (('admit', admit), ('settle', settle)):
    cmd('FLUSHALL'); cmd(*admit); cmd('CONFIG', 'RESETSTAT')
    before, n, batch = pid_cpu(), 30000, resp(args) * 32
    for _ in range(n // 32):
        sock.sendall(batch)
        for _ in range(32): read()
    cpu = (pid_cpu() - before) * 10000 / n  # clock ticks of 10 ms -> µs per call
    stat = re.search(r'cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)', cmd('INFO', 'commandstats').decode())
    print(f'{name}: usec_per_call {stat.group(3)} µs, redis-server CPU {cpu:.1f} µs per call ({rev or "working tree"})')
