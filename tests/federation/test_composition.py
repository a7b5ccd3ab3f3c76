"""Composition on our own fixture subgraphs.

Valid cases: the expected supergraph in each case folder was produced by Apollo's @apollo/composition 2.14;
ours must mean the same (same types, fields, arguments, join__ and carried directives) and load with
graphql-core. Invalid cases: composition must fail with messages naming the subgraph, type and field.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_ast_schema, parse

from gateway.composition import CompositionError, SubgraphSource, compose
from gateway.composition.semantic_diff import supergraph_differences
from gateway.supergraph import load_supergraph

CASES = Path(__file__).parent / "composition_cases"
EXPECTED = "supergraph.graphql"


def load_case(folder: Path) -> list[SubgraphSource]:
    return [
        SubgraphSource(path.stem, f"http://{path.stem}.kyodo.test/graphql", path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.graphql"))
        if path.name != EXPECTED
    ]


VALID = sorted(p.name for p in (CASES / "valid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", VALID)
def test_valid_case_matches_apollo(case: str) -> None:
    folder = CASES / "valid" / case
    supergraph = compose(load_case(folder))
    assert supergraph_differences((folder / EXPECTED).read_text(encoding="utf-8"), supergraph) == []
    build_ast_schema(parse(supergraph))


def test_every_feature_has_a_valid_case() -> None:
    assert {"keys", "shareable", "requires_provides", "interfaces", "unions", "enums", "inputs", "override",
            "interface_object", "fed1", "directives", "municipal", "context"} <= set(VALID)


def test_composition_is_stable_under_subgraph_order() -> None:
    folder = CASES / "valid" / "requires_provides"
    subgraphs = load_case(folder)
    assert supergraph_differences(compose(subgraphs), compose(list(reversed(subgraphs)))) == []


def test_municipal_supergraph_loads_in_the_gateway_model() -> None:
    sdl = compose(load_case(CASES / "valid" / "municipal"))
    loaded = load_supergraph(sdl)
    assert {info.name for info in loaded.subgraphs.values()} == {"childcare", "currency", "identity", "safety"}
    assert loaded.api_schema.get_type("Municipality") is not None


# case -> fragments every error message set must contain (subgraph, type, field)
INVALID = {
    "non_shareable": ['"Shelter.capacity"', 'subgraphs "a" and "b"', "Non-shareable"],
    "key_missing_field": ["[a]", 'type "Resident"', '"residentId"', "@key"],
    "requires_not_external": ["[a]", '"Aed.label"', '"Aed.latitude"', "@external"],
    "kind_mismatch": ['Type "Facility"', 'Object Type in subgraph "a"', 'Interface Type in subgraph "b"'],
    "provides_non_composite": ["[a]", '"Query.gaugeLevel"', "@provides"],
    "provides_missing_field": ["[a]", '"Query.gauges"', '"river"', 'type "Gauge"'],
    "unknown_type": ["[a]", '"Person"', '"Household.members"'],
    "enum_both_mismatch": ['Enum type "Level"', '"EXTREME"', 'subgraph "a"', '"Query.alerts(level:)"'],
    "required_argument_missing": ['"Query.stations(prefecture:)"', 'subgraph "a"', 'subgraph "b"'],
    "unreachable_field": ['"Household.memberCount"', 'subgraph "a"', 'subgraph "b"', "@key"],
    "requires_unreachable": ['"Shelter.freeBeds"', 'subgraph "a"', '@requires(fields: "capacity")', '"Shelter.capacity"'],
}


def test_every_invalid_fixture_is_checked() -> None:
    assert set(INVALID) == {p.name for p in (CASES / "invalid").iterdir() if p.is_dir()}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_case_fails_with_a_clear_error(case: str) -> None:
    with pytest.raises(CompositionError) as raised:
        compose(load_case(CASES / "invalid" / case))
    text = str(raised.value)
    assert raised.value.errors and text == "\n".join(raised.value.errors)
    for fragment in INVALID[case]:
        assert fragment in text


def test_syntax_error_names_the_subgraph() -> None:
    with pytest.raises(CompositionError) as raised:
        compose([SubgraphSource("broken", "http://x", "type Query { a: }")])
    assert raised.value.errors[0].startswith("[broken]")


def test_duplicate_subgraph_names_are_rejected() -> None:
    sdl = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) type Query { a: Int }'
    with pytest.raises(CompositionError, match='"twin"'):
        compose([SubgraphSource("twin", "http://x", sdl), SubgraphSource("twin", "http://y", sdl)])


def test_semantic_diff_reports_a_changed_join_directive() -> None:
    folder = CASES / "valid" / "override"
    expected = (folder / EXPECTED).read_text(encoding="utf-8")
    changed = expected.replace('override: "a"', 'override: "b"', 1)
    assert changed != expected
    assert supergraph_differences(expected, changed) != []


@pytest.mark.parametrize("case", VALID)
def test_valid_case_prints_like_apollo(case: str) -> None:
    """Beyond meaning, the text itself (order of types, directives, links) is Apollo's, so diffs stay readable."""
    folder = CASES / "valid" / case
    assert compose(load_case(folder)).rstrip("\n") == (folder / EXPECTED).read_text(encoding="utf-8").rstrip("\n")
