"""SIGTERM drains in-flight streams (cancelling what outlasts --drain-timeout), exits 0, and the audit trail verifies."""
import http.client
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

from conftest import BINARY, DEMO_KEY, free_port, processes, wait_http, write_policy


def open_stream(gw_port, words):
    """Starts a stream of `words` chunks from the slow mock model; returns the response and its first bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=30)
    body = json.dumps({"model": "slow", "stream": True,
                       "messages": [{"role": "user", "content": " ".join(["word"] * words)}]})
    conn.request("POST", "/v1/chat/completions", body,
                 {"Authorization": "Bearer " + DEMO_KEY, "Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    first = resp.read1(65536)
    assert first.startswith(b"data: ")
    return resp, first


def test_sigterm_drains_streams_and_exits_zero_with_a_verifiable_audit_trail():
    mock_port, gw_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="tollgate-drain-")
    policy = write_policy(workdir, mock_port, """models:
  slow: {targets: [{provider: mock, model: mock-slow}]}
audit: {path: audit/audit.jsonl, fsync: batch}
""")
    with processes(["mock-provider", "--port", str(mock_port), "--chunk-delay-ms", "100"],
                   ["serve", "--config", policy, "--port", str(gw_port), "--data-dir", os.path.join(workdir, "data")]) as (_, gw):
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz")
        resp, first = open_stream(gw_port, words=20)
        threading.Timer(0.2, lambda: gw.send_signal(signal.SIGTERM)).start()
        rest = resp.read()
        assert (first + rest).rstrip().endswith(b"data: [DONE]")
        assert gw.wait(timeout=20) == 0

    trail = os.path.join(workdir, "audit", "audit.jsonl")
    ok = subprocess.run([BINARY, "audit", "verify", trail], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    lines = open(trail).read().splitlines()
    assert any('"outcome":"completed"' in line and '"stream":true' in line for line in lines)
    lines[0] = lines[0].replace('"stream":true', '"stream":false')
    with open(trail, "w") as f:
        f.write("\n".join(lines) + "\n")
    bad = subprocess.run([BINARY, "audit", "verify", trail], capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"{trail}:1:" in bad.stderr


def test_sigterm_cancels_a_stream_that_outlasts_the_drain_timeout():
    mock_port, gw_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="tollgate-drain-")
    policy = write_policy(workdir, mock_port, """models:
  slow: {targets: [{provider: mock, model: mock-slow}]}
""")
    with processes(["mock-provider", "--port", str(mock_port), "--chunk-delay-ms", "1000"],
                   ["serve", "--config", policy, "--port", str(gw_port), "--data-dir", os.path.join(workdir, "data"),
                    "--drain-timeout", "1"]) as (_, gw):
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz")
        resp, _ = open_stream(gw_port, words=60)
        started = time.time()
        gw.send_signal(signal.SIGTERM)
        # A minute-long stream: the drain waits 1 s, then cancels it, and the process ends.
        assert gw.wait(timeout=15) == 0
        assert time.time() - started < 12
        try:
            rest = resp.read()
        except (http.client.IncompleteRead, ConnectionError) as cut:
            rest = getattr(cut, "partial", b"")
        assert not rest.rstrip().endswith(b"data: [DONE]")
