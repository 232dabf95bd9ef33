"""SIGTERM drains an in-flight stream, then the gateway exits 0."""
import http.client
import json
import os
import signal
import subprocess
import tempfile
import threading

from conftest import DEMO_HASH, DEMO_KEY, ROOT, free_port, wait_http


def test_sigterm_drains_streams_and_exits_zero():
    binary = os.environ.get("TOLLGATE_BIN") or os.path.join(ROOT, ".build", "debug", "tollgate")
    mock_port, gw_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="tollgate-drain-")
    policy = os.path.join(workdir, "tollgate.yaml")
    with open(policy, "w") as f:
        f.write(f"""version: 1
providers:
  mock: {{kind: openai, base_url: "http://127.0.0.1:{mock_port}/v1"}}
models:
  slow: {{targets: [{{provider: mock, model: mock-slow}}]}}
teams:
  e2e: {{keys: [{DEMO_HASH}]}}
""")
    mock = subprocess.Popen([binary, "mock-provider", "--port", str(mock_port), "--chunk-delay-ms", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = subprocess.Popen([binary, "serve", "--config", policy, "--port", str(gw_port), "--data-dir",
                           os.path.join(workdir, "data")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz")
        conn = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=30)
        body = json.dumps({"model": "slow", "stream": True,
                           "messages": [{"role": "user", "content": " ".join(["word"] * 20)}]})
        conn.request("POST", "/v1/chat/completions", body,
                     {"Authorization": "Bearer " + DEMO_KEY, "Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        first = resp.read1(65536)
        assert first.startswith(b"data: ")
        threading.Timer(0.2, lambda: gw.send_signal(signal.SIGTERM)).start()
        rest = resp.read()
        assert (first + rest).rstrip().endswith(b"data: [DONE]")
        assert gw.wait(timeout=20) == 0
    finally:
        for p in (gw, mock):
            if p.poll() is None:
                p.kill()
            p.wait()
