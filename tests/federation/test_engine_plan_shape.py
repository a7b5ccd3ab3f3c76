"""Plan shape by dependency (as Apollo emits it): independent fetches side by side, each fetch right
after the fetches it needs; the executor starts a fetch as soon as its own dependencies are done."""

from __future__ import annotations

import asyncio

from engine_kit import gateway_for, plan_shape
from municipal_kit import MUNICIPAL_SUPERGRAPH, by_name, municipal_subgraphs

from gateway.planner import print_plan

# Two independent root fetches (identity's `me`, safety's `shelters`); below `me`, three entity fetches
# that need only identity's key, one of which (childcare's children) leads on to identity again.
QUERY = """
{
  me { name pointAccount { balance } children { name } watchTags { id } }
  shelters { name }
}
"""


async def test_plan_is_a_dependency_tree_like_apollo() -> None:
    async with gateway_for(municipal_subgraphs(), MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(QUERY)
    assert plan_shape(plan.node) == (
        "Parallel{Sequence{identity, Parallel{currency, Sequence{childcare, identity}, safety}}, safety}")
    # the same tree as plain data and as printed text
    top = plan.to_dict()["node"]
    assert top["kind"] == "Parallel"
    assert [n["kind"] for n in top["nodes"]] == ["Sequence", "Fetch"]
    assert [n["kind"] for n in top["nodes"][0]["nodes"][1]["nodes"]] == ["Flatten", "Sequence", "Flatten"]
    assert top["nodes"][0]["nodes"][1]["nodes"][1]["nodes"][1]["path"] == ["me", "children", "@"]
    text = print_plan(plan)
    assert text.index("Parallel {") < text.index("Sequence {") < text.index('Flatten(path: "me.children.@")')


async def test_plan_answers_the_query() -> None:
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute(QUERY)
    assert result == {"data": {
        "me": {"name": "Hana", "pointAccount": {"balance": 300}, "children": [{"name": "Mio"}, {"name": "Riku"}],
               "watchTags": [{"id": "t1"}]},
        "shelters": [{"name": "Kakogawa Gym"}, {"name": "Hioka Hall"}]}}
    calls = {s.name: len(s.received) for s in subs}
    assert calls == {"identity": 2, "currency": 1, "childcare": 1, "safety": 2}


async def test_a_nested_fetch_does_not_wait_for_unrelated_fetches() -> None:
    # currency answers only once identity has been asked for the children's names. That call needs
    # childcare's answer, not currency's: run by dependency it comes; run level by level (everything
    # at depth 1 before anything at depth 2) it would wait for currency, and currency would give up.
    subs = municipal_subgraphs()
    identity = by_name(subs)["identity"]

    async def currency_after_identity_children(rep: dict) -> dict | None:
        for _ in range(500):
            if identity.entity_calls():
                return {"__typename": "Resident", "id": rep["id"], "pointAccount": {"balance": 300}}
            await asyncio.sleep(0.01)
        return None  # gave up: pointAccount stays null

    subs[1].entities["Resident"] = currency_after_identity_children
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute("{ me { pointAccount { balance } children { name } } }")
    assert result["data"]["me"] == {"pointAccount": {"balance": 300}, "children": [{"name": "Mio"}, {"name": "Riku"}]}


async def test_requires_diamond_and_chain() -> None:
    # identity root -> (currency, childcare) side by side -> identity for the children's names
    async with gateway_for(municipal_subgraphs(), MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan("{ me { points children { name points } } }")
    assert plan_shape(plan.node) == "Sequence{identity, Parallel{currency, Sequence{childcare, Parallel{identity, currency}}}}"
