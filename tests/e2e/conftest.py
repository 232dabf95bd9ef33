"""Starts real processes (the built binary) for the end-to-end tests."""
import contextlib
import os
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

DEMO_KEY = "sk-tg-demo-key-for-local-use-only-0000"
DEMO_HASH = "c0cd84a287cb0e59c2493973543e0fa51be74252957e9efcf16acb545dd45204"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("TOLLGATE_BIN") or os.path.join(ROOT, ".build", "debug", "tollgate")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20, context=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1, context=context)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def write_policy(workdir, mock_port, body):
    """A policy with one mock provider named `mock` and the demo key's team `e2e`."""
    path = os.path.join(workdir, "tollgate.yaml")
    with open(path, "w") as f:
        f.write(f"""version: 1
providers:
  mock: {{kind: openai, base_url: "http://127.0.0.1:{mock_port}/v1", api_key_env: E2E_PROVIDER_KEY}}
teams:
  e2e: {{keys: [{DEMO_HASH}]}}
{body}""")
    return path


@contextlib.contextmanager
def processes(*commands, env=None):
    """Runs each argv (the binary prepended) and stops them all afterwards."""
    env = dict(os.environ, E2E_PROVIDER_KEY="sk-provider-e2e", **(env or {}))
    procs = [subprocess.Popen([BINARY, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for argv in commands]
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@contextlib.contextmanager
def mock_backed_gateway(extra_policy=""):
    """A mock provider and a gateway serving gpt-4o-mini and text-embedding-3-small from it (plus
    `extra_policy`, YAML appended to the policy); yields the gateway's /v1 base URL."""
    mock_port, gw_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="tollgate-e2e-")
    policy = write_policy(workdir, mock_port, """models:
  gpt-4o-mini: {targets: [{provider: mock, model: mock-small}]}
  text-embedding-3-small: {targets: [{provider: mock, model: mock-embed}]}
""" + extra_policy)
    with processes(["mock-provider", "--port", str(mock_port)],
                   ["serve", "--config", policy, "--port", str(gw_port), "--data-dir", os.path.join(workdir, "data")]):
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gw_port}/healthz")
        yield f"http://127.0.0.1:{gw_port}/v1"


@pytest.fixture(scope="session")
def gateway():
    with mock_backed_gateway() as base_url:
        yield base_url


def unverified_tls():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
