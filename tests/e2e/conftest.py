"""Starts a real mock provider and a real gateway (the built binary) for the SDK tests."""
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

DEMO_KEY = "sk-tg-demo-key-for-local-use-only-0000"
DEMO_HASH = "c0cd84a287cb0e59c2493973543e0fa51be74252957e9efcf16acb545dd45204"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="session")
def gateway():
    binary = os.environ.get("TOLLGATE_BIN") or os.path.join(ROOT, ".build", "debug", "tollgate")
    mock_port, gw_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="tollgate-e2e-")
    policy = os.path.join(workdir, "tollgate.yaml")
    with open(policy, "w") as f:
        f.write(f"""version: 1
providers:
  mock: {{kind: openai, base_url: "http://127.0.0.1:{mock_port}/v1", api_key_env: E2E_PROVIDER_KEY}}
models:
  gpt-4o-mini: {{targets: [{{provider: mock, model: mock-small}}]}}
  text-embedding-3-small: {{targets: [{{provider: mock, model: mock-embed}}]}}
teams:
  e2e: {{keys: [{DEMO_HASH}]}}
""")
    env = dict(os.environ, E2E_PROVIDER_KEY="sk-provider-e2e")
    procs = [
        subprocess.Popen([binary, "mock-provider", "--port", str(mock_port)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([binary, "serve", "--config", policy, "--port", str(gw_port),
                          "--data-dir", os.path.join(workdir, "data")], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz")
        yield f"http://127.0.0.1:{gw_port}/v1"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
