"""`serve` as the README runs it (demo policy with the built-in mock) and with TLS termination."""
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

from conftest import BINARY, DEMO_HASH, DEMO_KEY, ROOT, free_port, processes, unverified_tls, wait_http, write_policy


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


def test_https_provider_with_a_private_ca_is_trusted_through_ca_file():
    # Gateway `edge` proxies to gateway `inner` over https, whose certificate is self-signed: the
    # system bundle does not trust it, the provider's `ca_file` does.
    workdir = tempfile.mkdtemp(prefix="tollgate-ca-")
    subprocess.run([os.path.join(ROOT, "certs", "generate.sh"), workdir], check=True, capture_output=True)
    mock_port, inner_port, edge_port, bare_port = free_port(), free_port(), free_port(), free_port()
    inner = write_policy(workdir, mock_port, "models:\n  gpt-4o-mini: {targets: [{provider: mock, model: m}]}\n")
    edge_dir, bare_dir = os.path.join(workdir, "edge"), os.path.join(workdir, "bare")
    os.makedirs(edge_dir)
    os.makedirs(bare_dir)
    provider = f'inner: {{kind: openai, base_url: "https://localhost:{inner_port}/v1", api_key_env: INNER_KEY'

    def edge_policy(folder, extra):
        path = os.path.join(folder, "tollgate.yaml")
        with open(path, "w") as f:
            f.write(f"version: 1\nproviders:\n  {provider}{extra}}}\n"
                    f"models:\n  gpt-4o-mini: {{targets: [{{provider: inner, model: gpt-4o-mini}}]}}\n"
                    f"teams:\n  e2e: {{keys: [{DEMO_HASH}]}}\n")
        return path

    edge = edge_policy(edge_dir, ', ca_file: "../server.crt"')
    bare = edge_policy(bare_dir, "")
    with processes(["mock-provider", "--port", str(mock_port)],
                   ["serve", "--config", inner, "--port", str(inner_port), "--data-dir", os.path.join(workdir, "d1"),
                    "--tls-cert", os.path.join(workdir, "server.crt"), "--tls-key", os.path.join(workdir, "server.key")],
                   ["serve", "--config", edge, "--port", str(edge_port), "--data-dir", os.path.join(workdir, "d2")],
                   ["serve", "--config", bare, "--port", str(bare_port), "--data-dir", os.path.join(workdir, "d3")],
                   env={"INNER_KEY": DEMO_KEY}):
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"https://127.0.0.1:{inner_port}/healthz", context=unverified_tls())
        wait_http(f"http://127.0.0.1:{edge_port}/healthz")
        wait_http(f"http://127.0.0.1:{bare_port}/healthz")
        status, text = chat(f"http://127.0.0.1:{edge_port}")
        assert status == 200 and "Hello" in text
        try:
            chat(f"http://127.0.0.1:{bare_port}")
            assert False, "an untrusted certificate must not be accepted"
        except urllib.error.HTTPError as e:
            assert e.code in (502, 503)


def test_policy_check_names_an_unreadable_ca_file():
    workdir = tempfile.mkdtemp(prefix="tollgate-ca-check-")
    path = os.path.join(workdir, "tollgate.yaml")
    with open(path, "w") as f:
        f.write('version: 1\nproviders:\n  p: {kind: openai, base_url: "https://example.com/v1", ca_file: missing.pem}\n'
                "models:\n  m: {targets: [{provider: p, model: m}]}\nteams:\n  t: {keys: []}\n")
    result = subprocess.run([BINARY, "policy", "check", path], capture_output=True, text=True)
    assert result.returncode == 1
    assert "providers.p.ca_file: cannot read" in result.stdout + result.stderr


def test_policy_check_warns_about_a_dollar_budget_over_an_unpriced_model_but_passes():
    workdir = tempfile.mkdtemp(prefix="tollgate-price-check-")
    path = os.path.join(workdir, "tollgate.yaml")
    with open(path, "w") as f:
        f.write('version: 1\nproviders:\n  p: {kind: openai, base_url: "https://example.com/v1"}\n'
                "models:\n  m: {targets: [{provider: p, model: m}]}\n"
                "teams:\n  t: {keys: [], budget: {usd: 50, period: monthly}}\n")
    result = subprocess.run([BINARY, "policy", "check", path], capture_output=True, text=True)
    assert result.returncode == 0
    assert "warning: teams.t.budget.usd: m has no price" in result.stderr
    for shipped in ("demo.yaml", "tollgate.yaml", "compose.yaml"):
        clean = subprocess.run([BINARY, "policy", "check", os.path.join(ROOT, "policies", shipped)], capture_output=True, text=True)
        assert clean.returncode == 0 and "warning" not in clean.stderr, clean.stderr
