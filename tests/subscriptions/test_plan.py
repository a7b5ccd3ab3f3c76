"""A subscription's plan: the primary fetch to the subgraph owning the root field, the rest run per
event; immutable plain data that `kyodo plan` prints and that survives to_dict/from_dict."""

from __future__ import annotations

import argparse

from gateway.document import DocumentCache
from gateway.planner import Flatten, QueryPlan, SubscriptionNode, build_plan, print_plan
from gateway.planner.command import plan_command
from gateway.settings import Settings
from gateway.supergraph import load_supergraph
from tests.subscriptions.conftest import supergraph_sdl
from tests.subscriptions.test_websocket import LEVELS

SDL = supergraph_sdl("http://127.0.0.1:1", "http://127.0.0.1:2")


def _plan(text: str) -> QueryPlan:
    supergraph = load_supergraph(SDL)
    documents = DocumentCache(supergraph.api_schema, Settings().limits, 8)
    return build_plan(supergraph, documents.get(text).operation(None))


def test_primary_fetch_opens_the_subscription_and_entity_fetches_run_per_event() -> None:
    plan = _plan(LEVELS)
    node = plan.node
    assert isinstance(node, SubscriptionNode)
    assert node.primary.subgraph == "GAUGES" and node.primary.operation_kind == "subscription"
    assert node.primary.operation.startswith("subscription(")
    assert isinstance(node.rest, Flatten)
    assert node.rest.path == ("levelChanged", "station")
    assert node.rest.node.subgraph == "STATIONS" and node.rest.node.entity_type == "Station"
    assert QueryPlan.from_dict(plan.to_dict()) == plan
    assert [f.subgraph for f in plan.fetches()] == ["GAUGES", "STATIONS"]


def test_a_subscription_served_by_one_subgraph_has_no_rest() -> None:
    node = _plan('subscription { seenHeader(name: "x") }').node
    assert isinstance(node, SubscriptionNode) and node.rest is None
    assert "Rest" not in print_plan(_plan('subscription { seenHeader(name: "x") }'))


def test_kyodo_plan_prints_primary_and_rest(tmp_path, capsys) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SDL, encoding="utf-8")
    args = argparse.Namespace(supergraph=str(supergraph), query=LEVELS, operation_name=None, json=False)
    assert plan_command(args) == 0
    printed = capsys.readouterr().out
    lines = [line.strip() for line in printed.splitlines()]
    assert lines[:3] == ["QueryPlan {", "Subscription {", "Primary: {"]
    assert 'Fetch(service: "GAUGES") {' in lines
    rest = lines.index("Rest: {")
    assert lines[rest + 1] == 'Flatten(path: "levelChanged.station") {'
    assert lines[rest + 2] == 'Fetch(service: "STATIONS") {'
