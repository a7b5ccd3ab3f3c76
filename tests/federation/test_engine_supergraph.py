"""Supergraph model and API schema: ownership read from join__ directives, @inaccessible hidden, renames."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from engine_kit import supergraph_sdl
from graphql import parse, validate

from gateway.supergraph import SupergraphError, load_supergraph

BODY = """
type Query @join__type(graph: A) @join__type(graph: B) {
  residents: [Resident!]! @join__field(graph: A)
  hidden: Int @join__field(graph: A) @inaccessible
}
type Resident @join__type(graph: A, key: "id") @join__type(graph: B, key: "id code", resolvable: false) {
  id: ID!
  code: String @join__field(graph: A) @join__field(graph: B, external: true)
  status(asOf: String, internal: Boolean @inaccessible): Status @join__field(graph: B, requires: "code")
  note: String @join__field(graph: A, override: "b") @join__field(graph: B, usedOverridden: true)
}
enum Status @join__type(graph: B) {
  ACTIVE @join__enumValue(graph: B)
  MOVED @join__enumValue(graph: B) @inaccessible
}
type Secret @join__type(graph: A) @inaccessible { x: Int }
"""


def load():
    return load_supergraph(supergraph_sdl({"A": "http://a.example/graphql", "B": "http://b.example/graphql"}, BODY))


def test_subgraphs_and_ownership() -> None:
    sg = load()
    assert {k: (v.name, v.url) for k, v in sg.subgraphs.items()} == {
        "A": ("a", "http://a.example/graphql"), "B": ("b", "http://b.example/graphql")}
    resident = sg.types["Resident"]
    assert [(k.graph, k.fields, k.resolvable) for k in resident.keys] == [("A", "id", True), ("B", "id code", False)]
    assert sg.resolves("Resident", "id", "B")  # no join__field: every graph with the type
    assert not sg.resolves("Resident", "code", "B")  # external
    assert sg.field_presence("Resident", "status", "B").requires_text == "code"
    assert sg.resolves("Resident", "note", "A") and not sg.resolves("Resident", "note", "B")
    assert sg.field_presence("Resident", "note", "A").override_from == "b"


def _errors(sg, query: str) -> list[str]:
    return [e.message for e in validate(sg.api_schema, parse(query))]


def test_api_schema_hides_inaccessible_elements_and_machinery() -> None:
    sg = load()
    assert _errors(sg, "{ residents { id status(asOf: \"2026\") } }") == []
    assert _errors(sg, "{ hidden }")
    assert _errors(sg, "{ residents { status(internal: true) } }")
    assert sg.api_schema.get_type("Secret") is None
    assert sg.api_schema.get_type("join__Graph") is None and sg.api_schema.get_type("link__Purpose") is None
    assert list(sg.api_schema.get_type("Status").values) == ["ACTIVE"]
    assert sg.api_schema.get_directive("join__field") is None
    # the full supergraph schema still has everything
    assert sg.schema.get_type("Secret") is not None


def test_link_as_renames_are_honoured() -> None:
    sdl = supergraph_sdl({"A": "http://a.example"}, """
type Query @join__type(graph: A) { open: Int  closed: Int @hidden }
""").replace('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
             '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", as: "hidden", for: SECURITY)'
             ).replace("directive @inaccessible", "directive @hidden")
    sg = load_supergraph(sdl)
    assert _errors(sg, "{ open }") == []
    assert _errors(sg, "{ closed }")


def test_bad_supergraph_is_a_clear_error() -> None:
    with pytest.raises(SupergraphError, match="does not parse"):
        load_supergraph("type Query {")
    with pytest.raises(SupergraphError, match="no subgraphs"):
        load_supergraph("type Query { a: Int }")


def _kyodo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kyodo.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)


def test_plan_command(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph_sdl({"A": "http://a.example", "B": "http://b.example"}, BODY))
    ok = _kyodo("plan", "--supergraph", str(path), "{ residents { id code } }")
    assert ok.returncode == 0, ok.stderr
    assert 'Fetch(service: "A")' in ok.stdout and "code" in ok.stdout
    # B's key is `resolvable: false`: nothing can jump to B for `status`
    unreachable = _kyodo("plan", "--supergraph", str(path), "{ residents { status } }")
    assert unreachable.returncode == 2 and "Resident.status" in unreachable.stderr
    # the static cost under the default demand-control settings: a list of 10 assumed objects
    assert ok.stdout.rstrip().endswith("# estimated cost 10 (max 1000): allowed\n#   residents: 10")
    as_json = _kyodo("plan", "--json", "--supergraph", str(path), "{ residents { id } }")
    assert '"kind": "Fetch"' in as_json.stdout
    assert json.loads(as_json.stdout)["cost"] == {"estimated": 10, "max": 1000,
                                                  "mostExpensive": [{"path": "residents", "cost": 10}]}
    query_file = tmp_path / "q.graphql"
    query_file.write_text("query Q { residents { code } }")
    assert _kyodo("plan", "--supergraph", str(path), "--operation-name", "Q", f"@{query_file}").returncode == 0
    for bad in (["--supergraph", str(tmp_path / "missing.graphql"), "{ residents { id } }"],
                ["--supergraph", str(path), "{ residents { "],
                ["--supergraph", str(path), "{ hidden }"],
                ["--supergraph", str(path), f"@{tmp_path / 'nope.graphql'}"]):
        result = _kyodo("plan", *bad)
        assert result.returncode == 2, bad
        assert "Traceback" not in result.stderr and result.stderr.startswith("kyodo plan:")


def test_join_spec_renamed_with_as() -> None:
    sdl = supergraph_sdl({"A": "http://a.example", "B": "http://b.example"}, BODY)
    renamed = sdl.replace('@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)',
                          '@link(url: "https://specs.apollo.dev/join/v0.3", as: "j", for: EXECUTION)'
                          ).replace("join__", "j__")
    sg = load_supergraph(renamed)
    assert set(sg.subgraphs) == {"A", "B"}
    assert sg.field_presence("Resident", "status", "B").requires_text == "code"
    assert sg.api_schema.get_type("j__Graph") is None
    assert _errors(sg, "{ residents { id status } }") == []
