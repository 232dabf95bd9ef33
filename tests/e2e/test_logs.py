"""What `serve` writes to stderr: one line per event, request id included, no secrets."""
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

from conftest import BINARY, DEMO_KEY, free_port, wait_http, write_policy


def test_a_failed_request_logs_one_line_with_its_request_id_and_no_key():
    workdir = tempfile.mkdtemp(prefix="tollgate-logs-")
    dead_port, port = free_port(), free_port()  # nothing listens on dead_port: the provider fails
    policy = write_policy(workdir, dead_port, "models:\n  gpt-4o-mini: {targets: [{provider: mock, model: m}]}\n")
    log_path = os.path.join(workdir, "stderr.log")
    env = dict(os.environ, E2E_PROVIDER_KEY="sk-provider-e2e-secret", LOG_LEVEL="info")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([BINARY, "serve", "--config", policy, "--port", str(port),
                                 "--data-dir", os.path.join(workdir, "data")], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body, method="POST", headers={
                "Authorization": "Bearer " + DEMO_KEY, "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=30)
                assert False, "the provider is down; the gateway must refuse"
            except urllib.error.HTTPError as e:
                assert e.code in (502, 503, 504)
                request_id = e.headers["x-request-id"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = open(log_path).read()
    failed = [line for line in text.splitlines() if "request failed" in line]
    assert len(failed) == 1, text
    assert f"request.id={request_id}" in failed[0]
    assert "error.code=" in failed[0] and " error " in failed[0]
    assert DEMO_KEY not in text and "sk-provider-e2e-secret" not in text
