"""`serve` as the README runs it (demo policy with the built-in mock) and with TLS termination."""
import json
import os
import subprocess
import tempfile
import urllib.request

from conftest import BINARY, DEMO_KEY, ROOT, free_port, processes, unverified_tls, wait_http, write_policy


def chat(url, stream=False, context=None):
    body = json.dumps({"model": "gpt-4o-mini", "stream": stream,
                       "messages": [{"role": "user", "content": "Hello"}]}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", body, method="POST", headers={
        "Authorization": "Bearer " + DEMO_KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30, context=context) as r:
        return r.status, r.read().decode()


def test_demo_policy_with_the_built_in_mock_streams_an_answer():
    # Exactly what scripts/run.sh starts when no OPENAI_API_KEY is set (mock on 9001, as the demo policy says).
    port = free_port()
    with processes(["serve", "--config", os.path.join(ROOT, "policies", "demo.yaml"), "--port", str(port),
                    "--data-dir", tempfile.mkdtemp(), "--with-mock-provider", "9001"]):
        wait_http(f"http://127.0.0.1:{port}/healthz")
        status, text = chat(f"http://127.0.0.1:{port}", stream=True)
        assert status == 200
        assert text.rstrip().endswith("data: [DONE]")
        assert "Tollgate mock provider" in "".join(
            json.loads(e[6:])["choices"][0]["delta"].get("content") or ""
            for e in text.split("\n\n") if e.startswith("data: {") and json.loads(e[6:]).get("choices"))


def test_tls_termination():
    workdir = tempfile.mkdtemp(prefix="tollgate-tls-")
    subprocess.run([os.path.join(ROOT, "certs", "generate.sh"), workdir], check=True, capture_output=True)
    mock_port, port = free_port(), free_port()
    policy = write_policy(workdir, mock_port, "models:\n  gpt-4o-mini: {targets: [{provider: mock, model: m}]}\n")
    with processes(["mock-provider", "--port", str(mock_port)],
                   ["serve", "--config", policy, "--port", str(port), "--data-dir", os.path.join(workdir, "data"),
                    "--tls-cert", os.path.join(workdir, "server.crt"), "--tls-key", os.path.join(workdir, "server.key")]):
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"https://127.0.0.1:{port}/healthz", context=unverified_tls())
        import ssl
        trusted = ssl.create_default_context(cafile=os.path.join(workdir, "server.crt"))
        status, text = chat(f"https://localhost:{port}", context=trusted)
        assert status == 200 and "Hello" in text
