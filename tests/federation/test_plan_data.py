"""The plan is immutable plain data: frozen nodes, a lossless `to_dict`/`from_dict`, full printed
snapshots; refinement runs named passes to a fixed point; planning has a deadline with typed errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import test_engine_entities as entities
import test_engine_requires_provides as pricing
from engine_kit import gateway_for, supergraph_sdl
from graphql import parse
from municipal_kit import MUNICIPAL_SUPERGRAPH

from gateway.document import GraphQLRequestError, analyze_document, prepare_operation
from gateway.executor import execute_plan
from gateway.pipeline import GraphQLRequest, Pipeline, RequestContext
from gateway.planner import (
    Fetch,
    PlanField,
    PlanFragment,
    PlanningTimeout,
    PlanSelection,
    QueryPlan,
    RefinementError,
    build_plan,
    print_plan,
)
from gateway.planner.fetch_selection import FetchSelection
from gateway.planner.groups import FetchGroup
from gateway.planner.refine import prune_empty_fetches, refine
from gateway.settings import Settings
from gateway.supergraph import load_supergraph

SNAPSHOTS = Path(__file__).parent / "plan_snapshots"


def supergraph(body: str, graphs: list[str]):
    return load_supergraph(supergraph_sdl({g: f"http://127.0.0.1:9/{g.lower()}" for g in graphs}, body))


MUNICIPAL = supergraph(MUNICIPAL_SUPERGRAPH, ["IDENTITY", "CURRENCY", "CHILDCARE", "SAFETY"])
SHOP = supergraph(entities.SUPERGRAPH, ["ACCOUNTS", "PRODUCTS", "REVIEWS"])
PRICING = supergraph(pricing.PRICING, ["CATALOG", "SHIPPING", "LABELS"])

CASES = {
    "entity_chain": (SHOP, entities.QUERY),
    "include_condition": (MUNICIPAL, "query ($withKids: Boolean!) { me { name children @include(if: $withKids) { name } } }"),
    "parallel_branches": (MUNICIPAL, "{ me { name points children { name watchTags { id } } } shelters { name } }"),
    "chained_requires": (PRICING, "{ products { id label usdNote } }"),
    "skip_on_inline_fragment": (MUNICIPAL, "query ($lite: Boolean!) { me { name ... @skip(if: $lite) { pointAccount { balance } } } }"),
}


def plan_of(graph, query: str) -> QueryPlan:
    return build_plan(graph, analyze_document(parse(query), None, query))


@pytest.mark.parametrize("name", sorted(CASES))
def test_printed_plan_matches_its_snapshot(name: str) -> None:
    graph, query = CASES[name]
    expected = (SNAPSHOTS / f"{name}.plan").read_text(encoding="utf-8")
    assert print_plan(plan_of(graph, query)) + "\n" == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_dict_and_from_dict_give_an_equal_plan_through_json(name: str) -> None:
    graph, query = CASES[name]
    plan = plan_of(graph, query)
    rebuilt = QueryPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert rebuilt == plan and rebuilt is not plan
    assert print_plan(rebuilt) == print_plan(plan)


def test_a_fetch_with_renames_and_nested_requires_survives_the_round_trip() -> None:
    nested = PlanSelection((PlanField("dims", "dimensions", None, PlanSelection((PlanField("size", "size"),))),),
                           (PlanFragment("Box", PlanSelection((PlanField("__typename", "__typename"),))),))
    fetch = Fetch("A", "query { x }", ("v",), "query", "Product", nested, "Node", frozenset({"Product", "Box"}),
                  frozenset({"id"}), PlanSelection((PlanField("size", "size", "size__kyodo_Box"),)), 7)
    assert Fetch.from_dict(json.loads(json.dumps(fetch.to_dict()))) == fetch


def test_plan_nodes_are_frozen_and_share_nothing_mutable_with_the_planner() -> None:
    plan = plan_of(PRICING, "{ products { id label } }")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.node = None  # type: ignore[misc]
    assert not hasattr(plan, "cache")
    for fetch in plan.fetches():
        assert isinstance(fetch.variable_usages, tuple)
        assert fetch.requires is None or isinstance(fetch.requires, PlanSelection)
        assert not isinstance(fetch.requires, FetchSelection)


async def test_a_rebuilt_plan_executes_like_the_original() -> None:
    query = "{ products { id shipping label usdNote } }"
    async with gateway_for(pricing.pricing_subgraphs(), pricing.PRICING) as gw:
        analysis = analyze_document(parse(query), None, query)
        plan = build_plan(gw.supergraph, analysis)
        rebuilt = QueryPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
        prepared = prepare_operation(gw.supergraph.api_schema, analysis, {})
        original = await execute_plan(plan, gw.supergraph, prepared, gw.fetcher)
        again = await execute_plan(rebuilt, gw.supergraph, prepared, gw.fetcher)
    assert original == again
    assert again["data"]["products"][0] == {"id": "p1", "shipping": 0, "label": "free", "usdNote": "about 0 USD"}


def _group(gid: int, *fields: str) -> FetchGroup:
    group = FetchGroup(id=gid, subgraph="A", path=(), entity_type=None, tag="root")
    for name in fields:
        group.selection.add_field(name, name)
    return group


def test_refinement_runs_its_passes_to_a_fixed_point() -> None:
    calls: list[int] = []

    def empty_the_first_and_drop_the_last(groups: list[FetchGroup]) -> list[FetchGroup]:
        calls.append(len(groups))
        if len(groups) < 3:
            return groups
        groups[0].selection = FetchSelection()  # leaves work for the pass before it, next round
        return groups[:-1]

    groups = [_group(0, "a"), _group(1, "b"), _group(2, "c")]
    kept = refine(groups, passes=(prune_empty_fetches, empty_the_first_and_drop_the_last))
    assert [g.id for g in kept] == [1]
    # round 1: the second pass dropped group 2; round 2: pruning removed the emptied group 0;
    # round 3: nothing changed, so refinement stopped there
    assert calls == [3, 1, 1]


def test_a_pass_that_never_settles_is_a_refinement_error() -> None:
    def reshuffle(groups: list[FetchGroup]) -> list[FetchGroup]:
        return list(reversed(groups))

    with pytest.raises(RefinementError):
        refine([_group(0, "a"), _group(1, "b")], passes=(reshuffle,))


def test_planning_past_its_deadline_is_a_typed_error() -> None:
    analysis = analyze_document(parse(entities.QUERY), None, entities.QUERY)
    with pytest.raises(PlanningTimeout) as timeout:
        build_plan(SHOP, analysis, deadline_seconds=-1)
    assert timeout.value.phase == "deadline"


async def test_the_pipeline_answers_a_planning_timeout_with_a_clear_error() -> None:
    pipeline = Pipeline(SHOP, Settings(), build_plan=lambda graph, operation: build_plan(
        graph, operation, deadline_seconds=-1))
    with pytest.raises(GraphQLRequestError) as refused:
        await pipeline.run(GraphQLRequest(entities.QUERY), RequestContext(fetcher=None))  # type: ignore[arg-type]
    assert refused.value.status == 400
    assert refused.value.errors[0]["extensions"]["code"] == "QUERY_PLANNING_TIMEOUT"
    assert "could not be planned within" in refused.value.errors[0]["message"]
