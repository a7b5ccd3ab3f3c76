"""The HTTP surface: /metrics off the public port, playground security headers, no-store on
personal answers, CORS allow-list with preflights (issue 10, item 9)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.settings import SettingsError, settings_from_mapping
from tests.gateway_http.test_serve_command import free_port
from tests.gateway_http.things_subgraph import things_supergraph

REPO = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}
APP_ORIGIN = "https://app.city.example"


# -- /metrics and health ----------------------------------------------------------------------------


def test_metrics_are_off_the_public_port_by_default(make_client):
    client = make_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/health").json() == {"status": "UP"}
    # ... and served by the admin app, with health.
    with TestClient(client.app.state.admin_app) as admin:
        assert "kyodo_gateway_requests" in admin.get("/metrics").text
        assert admin.get("/health").json() == {"status": "UP"}
        assert admin.post("/graphql", json={"query": "{ hello }"}).status_code == 404


def test_kyodo_serve_answers_metrics_on_the_admin_port_only(tmp_path, things_server):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph(things_server.url + "/graphql"), encoding="utf-8")
    port, admin_port = free_port(), free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[auth]\nanonymous_only = true\ncontext_key_file = "{tmp_path / "k.json"}"\n[admin]\nport = {admin_port}\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "kyodo.cli", "serve", "--supergraph", str(supergraph), "--config", str(config),
         "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    public, admin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(admin + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "kyodo serve did not become healthy"
            time.sleep(0.1)
        assert httpx.post(public + "/graphql", json={"query": "{ hello }"}).json() == {"data": {"hello": "hello world"}}
        assert httpx.get(public + "/metrics").status_code == 404
        assert httpx.get(public + "/health").status_code == 200
        metrics = httpx.get(admin + "/metrics")
        assert metrics.status_code == 200
        assert 'kyodo_gateway_requests_total{method="POST",status="200"} 1.0' in metrics.text
        assert httpx.post(admin + "/graphql", json={"query": "{ hello }"}).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


# -- the playground page --------------------------------------------------------------------------


def test_playground_page_has_security_headers(make_client):
    response = make_client().get("/graphql", headers=HTML)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    # Exactly the page's own inline scripts are allowed, by hash.
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in inline}
    assert set(directives["script-src"].split()) == {"'self'", *hashes}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_playground_lets_the_page_call_the_sign_in_issuer_only(make_client, monkeypatch):
    monkeypatch.setenv("KYODO_PLAYGROUND_SIGN_IN_ISSUER", "http://127.0.0.1:4400")
    policy = make_client().get("/graphql", headers=HTML).headers["content-security-policy"]
    assert "connect-src 'self' http://127.0.0.1:4400;" in policy


# -- Cache-Control: no-store on personal answers ----------------------------------------------------


@dataclass(frozen=True)
class Resident:
    subject: str


async def authenticate(request):
    return Resident("res-1") if request.headers.get("authorization") == "Bearer good" else None


def test_answers_to_an_authenticated_caller_are_not_stored(make_client):
    client = make_client(authenticator=authenticate)
    personal = client.post("/graphql", json={"query": "{ hello }"}, headers={"authorization": "Bearer good"})
    assert personal.status_code == 200 and personal.headers["cache-control"] == "no-store"
    refused = client.post("/graphql", json={"query": "{ nope }"}, headers={"authorization": "Bearer good"})
    assert refused.status_code == 400 and refused.headers["cache-control"] == "no-store"
    anonymous = client.post("/graphql", json={"query": "{ hello }"})
    assert "cache-control" not in anonymous.headers   # open data: cacheable by whoever the city puts in front
    assert anonymous.headers["x-content-type-options"] == "nosniff"


def test_a_refused_token_is_not_stored_either(make_client):
    response = make_client().post("/graphql", json={"query": "{ hello }"}, headers={"authorization": "Bearer x"})
    assert response.status_code == 401 and response.headers["cache-control"] == "no-store"


# -- CORS -------------------------------------------------------------------------------------------


def _preflight(client, origin: str, headers: str = "content-type, authorization"):
    return client.options("/graphql", headers={
        "origin": origin, "access-control-request-method": "POST", "access-control-request-headers": headers,
    })


def test_cors_preflight_from_a_listed_origin(make_client):
    client = make_client({"cors": {"allow_origins": [APP_ORIGIN]}})
    response = _preflight(client, APP_ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert set(response.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert {"content-type", "authorization"} <= set(response.headers["access-control-allow-headers"].lower().replace(" ", "").split(","))
    assert response.headers["access-control-max-age"] == "600"
    actual = client.post("/graphql", json={"query": "{ hello }"}, headers={"origin": APP_ORIGIN})
    assert actual.json() == {"data": {"hello": "hello world"}}
    assert actual.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()


def test_cors_refuses_other_origins_and_methods(make_client):
    client = make_client({"cors": {"allow_origins": [APP_ORIGIN]}})
    other = _preflight(client, "https://evil.example")
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    put = client.options("/graphql", headers={"origin": APP_ORIGIN, "access-control-request-method": "PUT"})
    assert put.status_code == 400
    unlisted_header = _preflight(client, APP_ORIGIN, "x-secret-header")
    assert unlisted_header.status_code == 400
    simple = client.post("/graphql", json={"query": "{ hello }"}, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_no_cors_configured_means_no_cors_headers(make_client):
    client = make_client()
    assert "access-control-allow-origin" not in _preflight(client, APP_ORIGIN).headers
    response = client.post("/graphql", json={"query": "{ hello }"}, headers={"origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", ["*", "https://app.city.example/path", "app.city.example", "ftp://x"])
def test_cors_origins_must_be_exact(origin):
    with pytest.raises(SettingsError, match=r"cors.allow_origins: .* is not an origin"):
        settings_from_mapping({"cors": {"allow_origins": [origin]}})
