"""@skip/@include below the root: a fetch needed only under an excluded selection is never sent.

Call counts are taken at the subgraphs themselves (what they received over HTTP)."""

from __future__ import annotations

from engine_kit import gateway_for, plan_shape
from municipal_kit import MUNICIPAL_SUPERGRAPH, by_name, municipal_subgraphs

from gateway.planner import print_plan

KIDS = "query ($withKids: Boolean!) { me { name children @include(if: $withKids) { name } } }"


async def test_include_on_a_field_that_jumps_becomes_a_condition() -> None:
    subs = municipal_subgraphs()
    calls = by_name(subs)
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(KIDS)
        without = await gw.execute(KIDS, {"withKids": False})
        counts_without = {s.name: len(s.received) for s in subs}
        with_kids = await gw.execute(KIDS, {"withKids": True})
    assert plan_shape(plan.node) == "Sequence{identity, Include($withKids){Sequence{childcare, identity}}}"
    assert "Include(if: $withKids)" in print_plan(plan)
    assert without == {"data": {"me": {"name": "Hana"}}}
    assert counts_without == {"identity": 1, "currency": 0, "childcare": 0, "safety": 0}
    assert with_kids == {"data": {"me": {"name": "Hana", "children": [{"name": "Mio"}, {"name": "Riku"}]}}}
    assert len(calls["childcare"].received) == 1 and len(calls["identity"].received) == 3


async def test_skip_on_an_inline_fragment() -> None:
    query = "query ($lite: Boolean!) { me { name ... @skip(if: $lite) { pointAccount { balance } } } }"
    subs = municipal_subgraphs()
    currency = by_name(subs)["currency"]
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(query)
        lite = await gw.execute(query, {"lite": True})
        after_lite = len(currency.received)
        full = await gw.execute(query, {"lite": False})
    assert plan_shape(plan.node) == "Sequence{identity, Skip($lite){currency}}"
    assert "Skip(if: $lite)" in print_plan(plan)
    assert lite == {"data": {"me": {"name": "Hana"}}}
    assert after_lite == 0
    assert full == {"data": {"me": {"name": "Hana", "pointAccount": {"balance": 300}}}}
    assert len(currency.received) == 1


async def test_nested_conditions_are_both_checked() -> None:
    query = """query ($kids: Boolean!, $tags: Boolean!) {
      me { children @include(if: $kids) { name watchTags @include(if: $tags) { id } } }
    }"""
    subs = municipal_subgraphs()
    safety = by_name(subs)["safety"]
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(query)
        kids_only = await gw.execute(query, {"kids": True, "tags": False})
        safety_calls = len(safety.received)
        both = await gw.execute(query, {"kids": True, "tags": True})
    assert plan_shape(plan.node) == (
        "Sequence{identity, Include($kids){Sequence{childcare, Parallel{identity, Include($tags){safety}}}}}")
    assert kids_only == {"data": {"me": {"children": [{"name": "Mio"}, {"name": "Riku"}]}}}
    assert safety_calls == 0
    assert both["data"]["me"]["children"][0] == {"name": "Mio", "watchTags": [{"id": "t2"}]}
    assert len(safety.received) == 1


async def test_variable_default_decides_the_condition() -> None:
    query = "query ($withKids: Boolean = false) { me { name children @include(if: $withKids) { name } } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute(query)
    assert result == {"data": {"me": {"name": "Hana"}}}
    assert len(by_name(subs)["childcare"].received) == 0


async def test_literal_exclusion_plans_nothing_below_it() -> None:
    query = "{ me { name children @include(if: false) { name } pointAccount @skip(if: true) { balance } } }"
    subs = municipal_subgraphs()
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(query)
        result = await gw.execute(query)
    assert plan_shape(plan.node) == "identity"
    assert result == {"data": {"me": {"name": "Hana"}}}


async def test_conditional_and_unconditional_fields_of_one_subgraph_share_a_fetch() -> None:
    # both need only identity's key: one currency fetch, the condition left to currency itself
    query = "query ($x: Boolean!) { me { points pointAccount @include(if: $x) { balance } } }"
    subs = municipal_subgraphs()
    currency = by_name(subs)["currency"]
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(query)
        off = await gw.execute(query, {"x": False})
        on = await gw.execute(query, {"x": True})
    assert plan_shape(plan.node) == "Sequence{identity, currency}"
    assert "@include(if: $x)" in plan.fetches()[1].operation
    assert off == {"data": {"me": {"points": 300}}}
    assert on == {"data": {"me": {"points": 300, "pointAccount": {"balance": 300}}}}
    assert len(currency.received) == 2


async def test_root_field_condition_with_entity_chain() -> None:
    query = "query ($s: Boolean!) { me { name } shelters @include(if: $s) { name } }"
    subs = municipal_subgraphs()
    safety = by_name(subs)["safety"]
    async with gateway_for(subs, MUNICIPAL_SUPERGRAPH) as gw:
        plan = gw.plan(query)
        off = await gw.execute(query, {"s": False})
    assert plan_shape(plan.node) == "Parallel{identity, Include($s){safety}}"
    assert off == {"data": {"me": {"name": "Hana"}}}
    assert len(safety.received) == 0


def test_kyodo_plan_prints_the_refined_tree_with_conditions(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from engine_kit import supergraph_sdl

    path = tmp_path / "municipal.graphql"
    path.write_text(supergraph_sdl({g: f"http://{g.lower()}.example" for g in
                                    ("IDENTITY", "CURRENCY", "CHILDCARE", "SAFETY")}, MUNICIPAL_SUPERGRAPH))
    query = "query ($x: Boolean!) { me { points pointAccount @include(if: $x) { balance } children @include(if: $x) { name } } }"
    out = subprocess.run([sys.executable, "-m", "kyodo.cli", "plan", "--supergraph", str(path), query],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # currency's two selections were merged into one fetch; childcare's runs only under $x
    assert text.count('Fetch(service: "CURRENCY")') == 1
    assert text.index("Include(if: $x)") < text.index('Fetch(service: "CHILDCARE")')
    assert text.index('Fetch(service: "CURRENCY")') < text.index("Include(if: $x)")


async def test_shared_root_field_under_a_condition_joins_the_subgraph_already_called() -> None:
    from engine_kit import Subgraph

    subs = [
        Subgraph("a", "type Query { shared: String }", root={"shared": lambda: "from a"}),
        Subgraph("b", "type Query { shared: String onlyB: String }",
                 root={"shared": lambda: "from b", "onlyB": lambda: "b"}),
    ]
    body = """
    type Query @join__type(graph: A) @join__type(graph: B) {
      shared: String
      onlyB: String @join__field(graph: B)
    }
    """
    query = "query ($x: Boolean!) { onlyB shared @include(if: $x) }"
    async with gateway_for(subs, body) as gw:
        plan = gw.plan(query)
        result = await gw.execute(query, {"x": True})
    assert plan_shape(plan.node) == "b"  # one fetch; b answers the condition itself
    assert result == {"data": {"onlyB": "b", "shared": "from b"}}
    assert len(subs[0].received) == 0
