"""What the gateway sends a subgraph is a valid operation: it declares exactly the variables it uses,
carries each directive once per location, and a response key selected twice runs once (so a
mutation is never executed twice). Each subgraph here validates what it receives as graphql-js does."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for
from graphql import parse
from graphql.validation import NoUnusedVariablesRule, UniqueDirectivesPerLocationRule, validate
from municipal_kit import MUNICIPAL_SUPERGRAPH, by_name, municipal_subgraphs


def _refusals(sub: Subgraph) -> list[str]:
    """What the subgraph's validation says about every operation it received (empty: all valid)."""
    assert sub.schema is not None
    messages: list[str] = []
    for body in sub.received:
        errors = validate(sub.schema, parse(body["query"]), [NoUnusedVariablesRule, UniqueDirectivesPerLocationRule])
        messages.extend(e.message for e in errors)
    return messages


async def test_a_variable_only_read_by_an_empty_fragment_is_not_declared() -> None:
    query = "query ($v0: Boolean = false) { me { __typename ... @skip(if: $v0) { __typename } } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute(query)
        skipped = await gw.execute(query, {"v0": True})
    assert result == {"data": {"me": {"__typename": "Resident"}}}
    assert skipped == {"data": {"me": {"__typename": "Resident"}}}
    assert _refusals(by_name(subs)["identity"]) == []


async def test_a_key_field_under_a_condition_declares_no_variable_it_does_not_print() -> None:
    query = "query ($x: Boolean!) { me { name points @include(if: $x) } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        shown = await gw.execute(query, {"x": True})
        hidden = await gw.execute(query, {"x": False})
    assert shown == {"data": {"me": {"name": "Hana", "points": 300}}}
    assert hidden == {"data": {"me": {"name": "Hana"}}}
    assert all(_refusals(s) == [] for s in subs)


async def test_conditions_from_a_root_fragment_and_its_field_are_sent_once_each() -> None:
    query = "query ($a: Boolean!, $b: Boolean!) { ... @skip(if: $a) { me @skip(if: $b) { name } } shelters { id } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        both = await gw.execute(query, {"a": False, "b": False})
        outer_skipped = await gw.execute(query, {"a": True, "b": False})
        inner_skipped = await gw.execute(query, {"a": False, "b": True})
    shelters = [{"id": "282103:1"}, {"id": "282103:2"}]
    assert both == {"data": {"me": {"name": "Hana"}, "shelters": shelters}}
    assert outer_skipped == {"data": {"shelters": shelters}}
    assert inner_skipped == {"data": {"shelters": shelters}}
    assert all(_refusals(s) == [] for s in subs)


CALCULATOR = """
type Query @join__type(graph: CALC) { total: Int! @join__field(graph: CALC) }
type Mutation @join__type(graph: CALC) { add(num: Int!): Int! @join__field(graph: CALC) }
"""


def calculator() -> Subgraph:
    state = {"total": 0}

    def add(num: int) -> int:
        state["total"] += num
        return state["total"]

    return Subgraph("calc", "type Query { total: Int! } type Mutation { add(num: Int!): Int! }",
                    root={"total": lambda: state["total"]}, mutation={"add": add})


async def test_a_mutation_selected_twice_under_one_response_key_runs_once() -> None:
    calc = calculator()
    async with gateway_for([calc], CALCULATOR) as gw:
        result = await gw.execute("mutation { add(num: 2) add(num: 2) }")
        total = await gw.execute("{ total }")
    assert result == {"data": {"add": 2}}
    assert total == {"data": {"total": 2}}


async def test_fields_merged_through_root_fragments_still_run_in_order() -> None:
    calc = calculator()
    async with gateway_for([calc], CALCULATOR) as gw:
        result = await gw.execute("mutation { first: add(num: 1) ... on Mutation { first: add(num: 1) } second: add(num: 2) }")
    assert result == {"data": {"first": 1, "second": 3}}
