"""`kyodo serve`: clear one-line errors for bad inputs, and a real server under uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kyodo.cli import main
from tests.gateway_http.things_subgraph import things_supergraph
from deploy.free_port import free_port

REPO = Path(__file__).resolve().parents[2]


def run_serve(capsys, *args: str) -> tuple[int, str]:
    status = main(["serve", *args])
    err = capsys.readouterr().err
    return status, err


def test_missing_supergraph_file(capsys, tmp_path):
    status, err = run_serve(capsys, "--supergraph", str(tmp_path / "absent.graphql"))
    assert status == 2
    assert err.count("\n") == 1 and "absent.graphql" in err and "Traceback" not in err


def test_supergraph_that_does_not_parse(capsys, tmp_path):
    path = tmp_path / "broken.graphql"
    path.write_text("type Query {", encoding="utf-8")
    status, err = run_serve(capsys, "--supergraph", str(path))
    assert status == 2
    assert err.count("\n") == 1 and "broken.graphql" in err


def test_schema_that_is_not_a_supergraph(capsys, tmp_path):
    path = tmp_path / "plain.graphql"
    path.write_text("type Query { a: Int }", encoding="utf-8")
    status, err = run_serve(capsys, "--supergraph", str(path))
    assert status == 2
    assert err.startswith("kyodo serve: ") and err.count("\n") == 1


def test_no_supergraph_given(capsys):
    status, err = run_serve(capsys)
    assert status == 2 and "--supergraph" in err


def test_bad_settings_file(capsys, tmp_path):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph("http://127.0.0.1:9/graphql"), encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text("[limits]\nmax_dept = 3\n", encoding="utf-8")
    status, err = run_serve(capsys, "--supergraph", str(supergraph), "--config", str(config))
    assert status == 2 and "limits.max_dept" in err and err.count("\n") == 1


def test_subgraphs_config_that_does_not_compose(capsys, tmp_path):
    # Two subgraphs resolve the same non-shareable field: composition must refuse.
    fed2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
    entries = []
    for name in ("a", "b"):
        (tmp_path / f"{name}.graphql").write_text(fed2 + "type Query { a: Int }", encoding="utf-8")
        entries.append(f'[[subgraphs]]\nname = "{name}"\nurl = "http://127.0.0.1:9/{name}"\nsdl_file = "{name}.graphql"\n')
    config = tmp_path / "subgraphs.toml"
    config.write_text("\n".join(entries), encoding="utf-8")
    status, err = run_serve(capsys, "--subgraphs", str(config))
    assert status == 2
    assert err.startswith("kyodo serve: ") and err.count("\n") == 1 and "Traceback" not in err




def test_serves_a_supergraph_under_uvicorn(tmp_path, things_server):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph(things_server.url + "/graphql"), encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(f'[auth]\nanonymous_only = true\ncontext_key_file = "{tmp_path / "context-key.json"}"\n',
                      encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kyodo.cli", "serve", "--supergraph", str(supergraph), "--config", str(config),
         "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "kyodo serve did not become healthy"
            time.sleep(0.1)
        response = httpx.post(base + "/graphql", json={"query": "{ hello }"})
        assert response.json() == {"data": {"hello": "hello world"}}
        assert "server" not in response.headers
        # The security stage is wired in: its context-token JWKS is served for subgraphs.
        from gateway.security import CONTEXT_JWKS_PATH

        jwks = httpx.get(base + CONTEXT_JWKS_PATH).json()
        assert jwks["keys"] and all("d" not in key for key in jwks["keys"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Traceback" not in output
    assert "anonymous_only = true" in output  # the open-data-only mode is said out loud at start-up
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert "Application shutdown complete" in output
    assert process.returncode in (0, -signal.SIGTERM)


def test_subgraphs_config_is_composed_and_loaded(tmp_path, things_server):
    import argparse

    from gateway.http.command import load_supergraph_text, read_supergraph_sdl

    config = tmp_path / "subgraphs.toml"
    config.write_text(f'[[subgraphs]]\nname = "things"\nurl = "{things_server.url}/graphql"\n', encoding="utf-8")
    args = argparse.Namespace(supergraph=None, subgraphs=str(config))
    supergraph = load_supergraph_text(read_supergraph_sdl(args), str(config))
    assert [info.url for info in supergraph.subgraphs.values()] == [f"{things_server.url}/graphql"]
    assert supergraph.api_schema.query_type.fields.keys() >= {"hello", "thing", "receivedHeaders"}


# -- fail closed: no authentication means no gateway ----------------------------------------------


def _serve_in_subprocess(tmp_path, config_text: str, *, prelude: str = "") -> subprocess.CompletedProcess:
    """`kyodo serve` in a fresh interpreter; `prelude` runs first (e.g. makes a module unimportable).
    A gateway that did start would be listening: the timeout turns that into a failure."""
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph("http://127.0.0.1:9/graphql"), encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(config_text, encoding="utf-8")
    args = ["serve", "--supergraph", str(supergraph), "--config", str(config), "--port", str(free_port())]
    code = f"import sys\n{prelude}\nfrom kyodo.cli import main\nsys.exit(main({args!r}))\n"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def _key(tmp_path) -> str:
    return f'context_key_file = "{tmp_path / "context-key.json"}"\n'


ISSUER = '[[auth.issuers]]\nissuer = "https://idp.example"\naudience = "urn:kyodo:gateway"\n'


@pytest.mark.parametrize(
    ("prelude", "named"),
    [
        ("sys.modules['gateway.security'] = None", "gateway.security is required"),
        ("sys.modules['gateway.authorization'] = None", "gateway.authorization is required"),
        ("sys.modules['joserfc'] = None", "joserfc"),   # a library the security stage needs
    ],
)
def test_a_missing_security_stage_refuses_to_start(tmp_path, prelude, named):
    result = _serve_in_subprocess(tmp_path, "[auth]\n" + _key(tmp_path) + ISSUER, prelude=prelude)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kyodo serve: ")
    assert named in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("[auth]\n[[auth.issuers]]\nissuer = 'https://idp.example'\naudiance = 'urn:kyodo:gateway'\n",
         "auth.issuers[0].audiance: unknown key"),
        ("[auth]\n[[auth.issuers]]\nissuer = 'https://idp.example'\naudience = 'a'\nalgorithms = ['none']\n",
         "algorithm none may not be allowed"),
        ("[auth]\nclock_skew_seconds = 'thirty'\n", "auth.clock_skew_seconds: must be an integer"),
        ("[auth]\n", "no token issuer is configured"),
        ("", "no token issuer is configured"),
    ],
)
def test_bad_auth_config_refuses_to_start(tmp_path, config, named):
    result = _serve_in_subprocess(tmp_path, config)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and named in result.stderr and "Traceback" not in result.stderr


def test_security_stage_that_cannot_start_refuses_to_start(capsys, tmp_path):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph("http://127.0.0.1:9/graphql"), encoding="utf-8")
    for problem, named in [
        (f'policy_hook = "tests.no_such_module:decide"\n{_key(tmp_path)}{ISSUER}', "No module named 'tests.no_such_module'"),
        (f'context_key_file = "{tmp_path}"\n{ISSUER}', "the security stage cannot start"),   # a directory, not a key
    ]:
        config = tmp_path / "gateway.toml"
        config.write_text("[auth]\n" + problem, encoding="utf-8")
        status, err = run_serve(capsys, "--supergraph", str(supergraph), "--config", str(config))
        assert status == 2 and err.count("\n") == 1 and named in err, err


def test_anonymous_only_is_explicit_loud_and_refuses_tokens(tmp_path, caplog, things_server):
    from starlette.testclient import TestClient

    from gateway.http.command import build_app
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph

    settings = settings_from_mapping({"auth": {"anonymous_only": True, "context_key_file": str(tmp_path / "k.json")}})
    with caplog.at_level("WARNING", logger="kyodo.gateway.serve"):
        app = build_app(settings, load_supergraph(things_supergraph(things_server.url + "/graphql")))
    assert any("NO token issuer is trusted" in record.getMessage() for record in caplog.records)
    with TestClient(app) as client:
        assert client.post("/graphql", json={"query": "{ hello }"}).json() == {"data": {"hello": "hello world"}}
        refused = client.post("/graphql", json={"query": "{ hello }"}, headers={"authorization": "Bearer x.y.z"})
    assert refused.status_code == 401 and "hello world" not in refused.text
