"""compose_from_config (TOML/JSON, SDL files, SDL fetched over HTTP) and the `kyodo compose` command."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from gateway.composition import CompositionError, compose_from_config, compose_from_config_async
from gateway.composition.semantic_diff import supergraph_differences
from kyodo.cli import main as kyodo_main

CASE = Path(__file__).parent / "composition_cases" / "valid" / "shareable"
NAMES = ("catalog", "search")


def sdl_of(name: str) -> str:
    return (CASE / f"{name}.graphql").read_text(encoding="utf-8")


def expected_for(urls: dict[str, str]) -> str:
    """Apollo's supergraph for the case, with the routing URLs this test uses."""
    text = (CASE / "supergraph.graphql").read_text(encoding="utf-8")
    for name, url in urls.items():
        text = text.replace(f"http://{name}.kyodo.test/graphql", url)
    return text


def test_toml_config_with_sdl_files(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / f"{name}.graphql").write_text(sdl_of(name), encoding="utf-8")
    (tmp_path / "subgraphs.toml").write_text(
        "".join(f'[[subgraphs]]\nname = "{n}"\nurl = "http://{n}:4000/graphql"\nsdl_file = "{n}.graphql"\n\n'
                for n in NAMES), encoding="utf-8")
    supergraph = compose_from_config(str(tmp_path / "subgraphs.toml"))
    assert supergraph_differences(expected_for({n: f"http://{n}:4000/graphql" for n in NAMES}), supergraph) == []


def test_toml_table_per_subgraph(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / f"{name}.graphql").write_text(sdl_of(name), encoding="utf-8")
    (tmp_path / "subgraphs.toml").write_text(
        "".join(f'[subgraphs.{n}]\nurl = "http://{n}/graphql"\nsdl_file = "{n}.graphql"\n' for n in NAMES),
        encoding="utf-8")
    assert 'CATALOG @join__graph(name: "catalog", url: "http://catalog/graphql")' in compose_from_config(
        str(tmp_path / "subgraphs.toml"))


def test_audit_json_shape_with_inline_sdl(tmp_path: Path) -> None:
    config = tmp_path / "subgraphs.json"
    config.write_text(json.dumps([{"name": n, "url": f"http://{n}.kyodo.test/graphql", "sdl": sdl_of(n)} for n in NAMES]))
    assert supergraph_differences(expected_for({}), compose_from_config(str(config))) == []


class _ServiceHandler(BaseHTTPRequestHandler):
    """Answers `{ _service { sdl } }` for /<name>/graphql; /broken/graphql answers without an SDL."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = self.path.strip("/").split("/")[0]
        if name == "broken" or "_service" not in body.get("query", ""):
            payload = {"errors": [{"message": "no federation here"}]}
        else:
            payload = {"data": {"_service": {"sdl": sdl_of(name)}}}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sdl_server():
    """Subgraphs serving their SDL on a loopback ephemeral port, in a thread so sync callers can reach them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ServiceHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _url_config(tmp_path: Path, urls: dict[str, str]) -> Path:
    config = tmp_path / "subgraphs.json"
    config.write_text(json.dumps({"subgraphs": [{"name": n, "url": u} for n, u in urls.items()]}))
    return config


def test_sdl_fetched_over_http(sdl_server: str, tmp_path: Path) -> None:
    urls = {n: f"{sdl_server}/{n}/graphql" for n in NAMES}
    assert supergraph_differences(expected_for(urls), compose_from_config(str(_url_config(tmp_path, urls)))) == []


async def test_sdl_fetched_over_http_from_inside_an_event_loop(sdl_server: str, tmp_path: Path) -> None:
    urls = {n: f"{sdl_server}/{n}/graphql" for n in NAMES}
    config = str(_url_config(tmp_path, urls))
    assert supergraph_differences(expected_for(urls), await compose_from_config_async(config)) == []
    # the sync entry point also works while a loop runs (it fetches on its own thread)
    assert supergraph_differences(expected_for(urls), compose_from_config(config)) == []


def test_subgraph_without_service_sdl_is_a_clear_error(sdl_server: str, tmp_path: Path) -> None:
    config = _url_config(tmp_path, {"odd": f"{sdl_server}/broken/graphql"})
    with pytest.raises(CompositionError) as raised:
        compose_from_config(str(config))
    assert raised.value.errors[0].startswith("[odd]") and "_service" in raised.value.errors[0]


def test_unreachable_subgraph_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "subgraphs.json"
    config.write_text(json.dumps([{"name": "gone", "url": "http://127.0.0.1:9/graphql"}]))
    with pytest.raises(CompositionError) as raised:
        compose_from_config(str(config))
    assert raised.value.errors == [raised.value.errors[0]]
    assert "[gone]" in raised.value.errors[0] and "http://127.0.0.1:9/graphql" in raised.value.errors[0]


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "does not parse"),
    ("[]", "lists no subgraphs"),
    ('[{"url": "http://x"}]', "`name`"),
    ('[{"name": "a"}]', "[a]"),
    ('[{"name": "a", "sdl_file": "missing.graphql"}]', "missing.graphql"),
])
def test_bad_config_is_a_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "subgraphs.json"
    config.write_text(content)
    with pytest.raises(CompositionError) as raised:
        compose_from_config(str(config))
    assert fragment in str(raised.value)


def test_cli_writes_the_supergraph_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    args = ["compose", "-o", str(out)]
    for name in NAMES:
        args += ["--subgraph", f"{name}={CASE / f'{name}.graphql'}@http://{name}.kyodo.test/graphql"]
    assert kyodo_main(args) == 0
    assert supergraph_differences(expected_for({}), out.read_text(encoding="utf-8")) == []


def test_cli_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert kyodo_main(["compose", "--subgraph", f"catalog={CASE / 'catalog.graphql'}@http://c/graphql"]) == 0
    assert 'CATALOG @join__graph(name: "catalog", url: "http://c/graphql")' in capsys.readouterr().out


def test_cli_reports_composition_errors_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    invalid = Path(__file__).parent / "composition_cases" / "invalid" / "non_shareable"
    code = kyodo_main(["compose", "--subgraph", f"a={invalid / 'a.graphql'}", "--subgraph", f"b={invalid / 'b.graphql'}"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert '"Shelter.capacity"' in captured.err and "Traceback" not in captured.err


def test_cli_rejects_a_malformed_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert kyodo_main(["compose", "--subgraph", "no-equals-sign"]) == 1
    assert "NAME=URL_OR_FILE" in capsys.readouterr().err


def test_cli_needs_subgraphs(capsys: pytest.CaptureFixture[str]) -> None:
    assert kyodo_main(["compose"]) == 1
    assert "Nothing to compose" in capsys.readouterr().err
