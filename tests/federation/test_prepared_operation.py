"""The prepared operation: built once after validation, read by every later stage.

Normalization (fragments inlined, literal @skip/@include applied), root fields, introspection flags,
typed variable coercion, and the stage boundaries (no stage selects the operation again or reaches
into the planner's internals)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from engine_kit import gateway_for, supergraph_sdl
from graphql import FragmentSpreadNode, Visitor, print_ast, visit
from municipal_kit import MUNICIPAL_SUPERGRAPH, by_name, municipal_subgraphs

from gateway.document import DocumentCache, DocumentLimits, GraphQLRequestError, prepare_operation
from gateway.planner import build_plan, print_plan
from gateway.supergraph import load_supergraph

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
SUPERGRAPH = load_supergraph(supergraph_sdl({"IDENTITY": "http://127.0.0.1:9/i", "CURRENCY": "http://127.0.0.1:9/c",
                                             "CHILDCARE": "http://127.0.0.1:9/cc", "SAFETY": "http://127.0.0.1:9/s"},
                                            MUNICIPAL_SUPERGRAPH))


def analyzed(query: str, operation_name: str | None = None):
    cache = DocumentCache(SUPERGRAPH.api_schema, DocumentLimits(), 8)
    return cache.get(query).operation(operation_name)


def spreads_in(node) -> int:
    count = 0

    class Count(Visitor):
        def enter_fragment_spread(self, *_args):
            nonlocal count
            count += 1

    visit(node, Count())
    return count


def test_fragments_are_inlined_and_literal_conditions_applied() -> None:
    operation = analyzed("""
      query Q { me { ...Person dropped: name @skip(if: true) kept: name @include(if: true) } }
      fragment Person on Resident { name points @include(if: false) pointAccount { balance } }
    """, "Q")
    assert spreads_in(operation.selection) == 0 and spreads_in(operation.operation) == 1
    assert print_ast(operation.selection) == (
        "{\n  me {\n    ... on Resident {\n      name\n      pointAccount {\n        balance\n      }\n    }\n"
        "    kept: name\n  }\n}"
    )
    assert [f.name.value for f in operation.root_fields] == ["me"]


def test_a_fragment_used_twice_is_inlined_once_and_shared() -> None:
    operation = analyzed("{ me { ...N children { ...N } } } fragment N on Resident { name }")
    me = operation.root_fields[0]
    first = me.selection_set.selections[0]
    second = me.selection_set.selections[1].selection_set.selections[0]
    assert first.selection_set is second.selection_set


def test_root_fragments_flatten_onto_root_fields_with_their_conditions() -> None:
    operation = analyzed("query ($x: Boolean!) { ... @include(if: $x) { me { name } } shelters { id } }")
    fields = operation.root_fields
    assert [f.name.value for f in fields] == ["me", "shelters"]
    assert [print_ast(d) for d in fields[0].directives] == ["@include(if: $x)"]
    assert operation.condition_variables == ("x",)


def test_introspection_flags() -> None:
    assert analyzed("{ __schema { queryType { name } } __typename }").only_introspection
    mixed = analyzed("{ __type(name: \"Resident\") { name } me { name } }")
    assert mixed.has_introspection and not mixed.only_introspection
    plain = analyzed("{ me { name } }")
    assert not plain.has_introspection and not plain.only_introspection


def test_one_analysis_per_document_and_operation() -> None:
    cache = DocumentCache(SUPERGRAPH.api_schema, DocumentLimits(), 8)
    text = "query A { me { name } } query B { shelters { id } }"
    assert cache.get(text).operation("A") is cache.get(text).operation("A")
    assert cache.get(text).operation("B").name == "B"
    with pytest.raises(GraphQLRequestError, match="Must provide operation name"):
        cache.get(text).operation(None)
    with pytest.raises(GraphQLRequestError, match='Unknown operation named "C"'):
        cache.get(text).operation("C")


def test_variables_are_coerced_with_their_types_and_raw_values_kept() -> None:
    operation = analyzed("query ($n: Boolean = true, $flag: Boolean!, $id: String!) "
                         "{ me @include(if: $flag) { name @skip(if: $n) } __type(name: $id) { name } }")
    prepared = prepare_operation(SUPERGRAPH.api_schema, operation, {"flag": True, "id": "Resident", "extra": 1})
    assert dict(prepared.variables) == {"n": True, "flag": True, "id": "Resident"}  # defined ones, default applied
    assert dict(prepared.raw_variables) == {"n": True, "flag": True, "id": "Resident", "extra": 1}
    with pytest.raises(GraphQLRequestError) as refused:
        prepare_operation(SUPERGRAPH.api_schema, operation, {"flag": "yes", "id": 1})
    assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_fragments_and_inline_selections_plan_the_same() -> None:
    with_fragments = analyzed("{ me { ...A } } fragment A on Resident { name ...B } fragment B on Resident { points }")
    inline = analyzed("{ me { name points } }")
    assert print_plan(build_plan(SUPERGRAPH, with_fragments)) == print_plan(build_plan(SUPERGRAPH, inline))


async def test_a_literal_skip_never_reaches_a_subgraph_and_a_fragment_answers() -> None:
    query = "{ me { ...P } } fragment P on Resident { name points @skip(if: true) children { name } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute(query)
    assert result == {"data": {"me": {"name": "Hana", "children": [{"name": "Mio"}, {"name": "Riku"}]}}}
    assert by_name(subs)["currency"].received == []


async def test_variable_conditions_read_the_coerced_default() -> None:
    query = "query ($x: Boolean = false) { me { name points @include(if: $x) } }"
    async with gateway_for(municipal_subgraphs(), MUNICIPAL_SUPERGRAPH) as gw:
        assert await gw.execute(query) == {"data": {"me": {"name": "Hana"}}}
        assert await gw.execute(query, {"x": True}) == {"data": {"me": {"name": "Hana", "points": 300}}}


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (GATEWAY / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["executor", "introspection", "authorization"])
def test_later_stages_use_the_planner_only_through_its_public_api(package: str) -> None:
    assert not {m for m in _imports(package) if m.startswith("gateway.planner.")}


@pytest.mark.parametrize("package", ["planner", "executor", "introspection", "authorization"])
def test_no_stage_reads_the_document_cache_or_normalization_directly(package: str) -> None:
    assert not {m for m in _imports(package) if m.startswith("gateway.document.")}


def test_fields_with_one_response_key_are_merged_into_the_first() -> None:
    operation = analyzed("{ me { name } shelters { id } me { points name } ... on Query { shelters { name } } }")
    assert [f.name.value for f in operation.root_fields] == ["me", "shelters"]
    me, shelters = operation.root_fields
    assert [s.name.value for s in me.selection_set.selections] == ["name", "points"]
    assert [s.name.value for s in shelters.selection_set.selections] == ["id", "name"]
