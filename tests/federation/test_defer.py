"""@defer: the planner's Defer node and the executor's parts, against subgraphs served over real HTTP.

The answers are compared with the deferSpec=20220824 shape Apollo Router documents: an initial
`{"data", "hasNext": true}`, then payloads `{"incremental": [{"data", "path", "label"?, "errors"?}],
"hasNext"}`, one entry per object the fragment applies to.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import parse, validate

from engine_kit import Subgraph, gateway_for, plan_shape
from gateway.executor.incremental import IncrementalResponse
from gateway.planner import Defer, QueryPlan, print_plan

USERS = {"u1": {"id": "u1", "name": "Aiko"}, "u2": {"id": "u2", "name": "Ren"}}
PRODUCTS = [{"upc": "p1", "name": "Futon", "details": {"color": "white", "weight": 3}},
            {"upc": "p2", "name": "Kotatsu", "details": {"color": "brown", "weight": 12}},
            {"upc": "p3", "name": "Noren", "details": None}]
REVIEWS = {"p1": [{"id": "r1", "body": "soft", "author": {"id": "u1"}}],
           "p2": [{"id": "r2", "body": "warm", "author": {"id": "u1"}}, {"id": "r3", "body": "big", "author": {"id": "u2"}}],
           "p3": []}
STOCK = {"p1": True, "p2": False, "p3": None}  # p3: a null in a non-null field


def subgraphs() -> list[Subgraph]:
    return [
        Subgraph("accounts", """
            type Query { me: User }
            type User @key(fields: "id") { id: ID! name: String }
        """, root={"me": lambda: dict(USERS["u1"])},
            entities={"User": lambda rep: {"__typename": "User", **USERS[rep["id"]]}}),
        Subgraph("products", """
            type Query { topProducts: [Product!]! }
            type Mutation { renameProduct(upc: String!, name: String!): Product }
            type Product @key(fields: "upc") { upc: String! name: String details: Details }
            type Details { color: String weight: Int }
        """, root={"topProducts": lambda: [dict(p) for p in PRODUCTS]},
            mutation={"renameProduct": lambda upc, name: {**next(p for p in PRODUCTS if p["upc"] == upc), "name": name}},
            entities={"Product": lambda rep: {"__typename": "Product",
                                              **next(p for p in PRODUCTS if p["upc"] == rep["upc"])}}),
        Subgraph("reviews", """
            type Review { id: ID! body: String author: User }
            type User @key(fields: "id") { id: ID! }
            type Product @key(fields: "upc") { upc: String! reviews: [Review!]! }
        """, entities={"Product": lambda rep: {"__typename": "Product", "upc": rep["upc"],
                                               "reviews": REVIEWS[rep["upc"]]}}),
        Subgraph("inventory", """
            type Product @key(fields: "upc") { upc: String! inStock: Boolean! }
        """, entities={"Product": lambda rep: {"__typename": "Product", "upc": rep["upc"],
                                               "inStock": STOCK[rep["upc"]]}}),
    ]


SUPERGRAPH = """
type Query @join__type(graph: ACCOUNTS) @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) @join__type(graph: INVENTORY) {
  me: User @join__field(graph: ACCOUNTS)
  topProducts: [Product!]! @join__field(graph: PRODUCTS)
}
type Mutation @join__type(graph: PRODUCTS) {
  renameProduct(upc: String!, name: String!): Product @join__field(graph: PRODUCTS)
}
type User @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  name: String @join__field(graph: ACCOUNTS)
}
type Product @join__type(graph: PRODUCTS, key: "upc") @join__type(graph: REVIEWS, key: "upc") @join__type(graph: INVENTORY, key: "upc") {
  upc: String!
  name: String @join__field(graph: PRODUCTS)
  details: Details @join__field(graph: PRODUCTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
  inStock: Boolean! @join__field(graph: INVENTORY)
}
type Details @join__type(graph: PRODUCTS) {
  color: String
  weight: Int
}
type Review @join__type(graph: REVIEWS) {
  id: ID!
  body: String
  author: User
}
"""

DEFERRED_REVIEWS = """
{ topProducts { name ... @defer(label: "reviews") { reviews { body author { name } } } } }
"""


async def collect(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The initial payload, then every later one, in the order they came."""
    out = [dict(result)]
    if isinstance(result, IncrementalResponse):
        async for payload in result.subsequent.payloads():
            out.append(payload)
    return out


def entries(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for p in payloads[1:] for e in p.get("incremental", ())]


# -- the API schema -----------------------------------------------------------------------------------

async def test_api_schema_declares_defer_as_the_routers_expose_it() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        schema = gw.supergraph.api_schema
        directive = schema.get_directive("defer")
        assert directive is not None
        assert {loc.name for loc in directive.locations} == {"FRAGMENT_SPREAD", "INLINE_FRAGMENT"}
        assert str(directive.args["if"].type) == "Boolean!" and str(directive.args["label"].type) == "String"
        introspected = await gw.execute('{ __schema { directives { name args { name defaultValue } } } }')
        (defer,) = [d for d in introspected["data"]["__schema"]["directives"] if d["name"] == "defer"]
        assert {a["name"]: a["defaultValue"] for a in defer["args"]} == {"label": None, "if": "true"}
        assert not validate(schema, parse("query($d: Boolean!) { me { ...F @defer(if: $d, label: \"f\") } } "
                                          "fragment F on User { name }"))
        # only on fragments
        refused = validate(schema, parse("{ me { name @defer } }"))
        assert refused and "defer" in refused[0].message


# -- the planner ----------------------------------------------------------------------------------------

async def test_plan_is_a_defer_node_with_the_deferred_fetch_chain() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan(DEFERRED_REVIEWS)
    node = plan.node
    assert isinstance(node, Defer)
    # the primary part fetches only the client's non-deferred fields and the key to come back with
    assert plan_shape(node.primary) == "products"
    assert "_kyodo_defer_upc: upc" in node.primary.operation and "reviews" not in node.primary.operation
    (deferred,) = node.deferred
    assert (deferred.label, deferred.path) == ("reviews", ("topProducts", "@"))
    # its own chain: reviews from the key the primary fetched, then the authors' names
    assert plan_shape(deferred.node) == "Sequence{reviews, accounts}"
    text = print_plan(plan)
    assert 'Deferred(path: "topProducts.@", label: "reviews")' in text and "Primary {" in text
    as_dict = plan.to_dict()
    assert as_dict["node"]["kind"] == "Defer"
    assert as_dict["node"]["deferred"][0]["queryPath"] == ["topProducts", "@"]
    assert QueryPlan.from_dict(as_dict) == plan


async def test_defer_if_false_is_no_defer_at_all() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan('{ topProducts { name ... @defer(if: false) { reviews { body } } } }')
    assert not isinstance(plan.node, Defer)
    assert plan_shape(plan.node) == "Sequence{products, reviews}"


async def test_a_fragment_the_primary_subgraph_resolves_is_still_fetched_apart() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan('{ me { id ... @defer { name } } }')
    assert isinstance(plan.node, Defer)
    assert plan_shape(plan.node.primary) == "accounts"
    assert "name" not in plan.node.primary.operation
    assert plan_shape(plan.node.deferred[0].node) == "accounts"
    assert "_entities" in plan.node.deferred[0].node.node.operation


async def test_fields_of_a_type_without_key_come_with_the_part_before() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan('{ topProducts { details { weight ... @defer(label: "d") { color } } } }')
        result = await collect(await gw.execute('{ topProducts { details { weight ... @defer(label: "d") { color } } } }'))
    assert isinstance(plan.node, Defer)
    assert plan.node.deferred[0].node is None  # nothing to fetch apart: Details has no key
    assert "color" in plan.node.primary.operation
    assert result[0]["data"] == {"topProducts": [{"details": {"weight": 3}}, {"details": {"weight": 12}},
                                                 {"details": None}]}
    assert entries(result) == [{"data": {"color": "white"}, "path": ["topProducts", 0, "details"], "label": "d"},
                               {"data": {"color": "brown"}, "path": ["topProducts", 1, "details"], "label": "d"}]


# -- execution -------------------------------------------------------------------------------------------

async def test_primary_first_then_one_entry_per_list_item() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        payloads = await collect(await gw.execute(DEFERRED_REVIEWS))
    assert payloads[0] == {"data": {"topProducts": [{"name": "Futon"}, {"name": "Kotatsu"}, {"name": "Noren"}]},
                           "hasNext": True}
    assert payloads[-1]["hasNext"] is False
    assert entries(payloads) == [
        {"data": {"reviews": [{"body": "soft", "author": {"name": "Aiko"}}]}, "path": ["topProducts", 0],
         "label": "reviews"},
        {"data": {"reviews": [{"body": "warm", "author": {"name": "Aiko"}}, {"body": "big", "author": {"name": "Ren"}}]},
         "path": ["topProducts", 1], "label": "reviews"},
        {"data": {"reviews": []}, "path": ["topProducts", 2], "label": "reviews"},
    ]


async def test_the_deferred_fetches_run_only_after_the_primary_key_is_there() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        await collect(await gw.execute(DEFERRED_REVIEWS))
    reviews = subs[2]
    (call,) = reviews.entity_calls()
    assert call["variables"]["representations"] == [{"__typename": "Product", "upc": u} for u in ("p1", "p2", "p3")]


async def test_nested_defer_follows_its_parent() -> None:
    query = """
    { topProducts { name ... @defer(label: "outer") {
        reviews { body author { id ... @defer(label: "inner") { name } } } } } }
    """
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan(query)
        payloads = await collect(await gw.execute(query))
    assert isinstance(plan.node, Defer)
    (outer,) = plan.node.deferred
    (inner,) = outer.deferred
    assert inner.path == ("topProducts", "@", "reviews", "@", "author")
    labels = [e["label"] for e in entries(payloads)]
    assert labels == ["outer"] * 3 + ["inner"] * 3
    assert entries(payloads)[0]["data"] == {"reviews": [{"body": "soft", "author": {"id": "u1"}}]}
    assert [(e["path"], e["data"]) for e in entries(payloads)[3:]] == [
        (["topProducts", 0, "reviews", 0, "author"], {"name": "Aiko"}),
        (["topProducts", 1, "reviews", 0, "author"], {"name": "Aiko"}),
        (["topProducts", 1, "reviews", 1, "author"], {"name": "Ren"}),
    ]
    assert payloads[-1]["hasNext"] is False


async def test_if_variable_decides_per_request() -> None:
    query = 'query($d: Boolean!) { topProducts { name ... @defer(if: $d) { reviews { body } } } }'
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        off = await gw.execute(query, {"d": False})
        on = await collect(await gw.execute(query, {"d": True}))
    assert not isinstance(off, IncrementalResponse) and "hasNext" not in off
    assert off["data"]["topProducts"][1] == {"name": "Kotatsu", "reviews": [{"body": "warm"}, {"body": "big"}]}
    assert on[0]["data"]["topProducts"][1] == {"name": "Kotatsu"}
    assert entries(on)[1] == {"data": {"reviews": [{"body": "warm"}, {"body": "big"}]}, "path": ["topProducts", 1]}


async def test_an_error_stays_in_its_entry() -> None:
    query = '{ topProducts { name ... @defer(label: "stock") { inStock } } }'
    async with gateway_for(subgraphs(), SUPERGRAPH, value_completion="strict") as gw:
        payloads = await collect(await gw.execute(query))
    assert "errors" not in payloads[0]
    got = entries(payloads)
    assert got[0] == {"data": {"inStock": True}, "path": ["topProducts", 0], "label": "stock"}
    assert got[1] == {"data": {"inStock": False}, "path": ["topProducts", 1], "label": "stock"}
    # p3's non-null inStock is null: that entry's data is null, with its error; nothing else changes
    assert got[2]["data"] is None and got[2]["path"] == ["topProducts", 2]
    assert [e["path"] for e in got[2]["errors"]] == [["topProducts", 2, "inStock"]]


async def test_a_failing_subgraph_fails_only_its_part() -> None:
    subs = subgraphs()
    subs[2].fail = True  # reviews down
    query = '{ me { name } topProducts { name ... @defer(label: "r") { reviews { body } } } }'
    async with gateway_for(subs, SUPERGRAPH) as gw:
        payloads = await collect(await gw.execute(query))
    assert "errors" not in payloads[0] and payloads[0]["data"]["me"] == {"name": "Aiko"}
    got = entries(payloads)
    assert all(e["data"] is None for e in got)
    assert [e["path"] for e in got] == [["topProducts", 0], ["topProducts", 1], ["topProducts", 2]]
    errors = [err for e in got for err in e.get("errors", ())]
    assert [err["extensions"]["code"] for err in errors] == ["SUBREQUEST_HTTP_ERROR"]


async def test_parts_come_as_they_complete_not_in_plan_order() -> None:
    release = asyncio.Event()
    subs = subgraphs()

    async def slow_stock(rep: dict) -> dict:
        await release.wait()
        return {"__typename": "Product", "upc": rep["upc"], "inStock": True}

    # the inventory subgraph answers only when the test says so
    subs[3].entities["Product"] = slow_stock  # type: ignore[assignment]
    query = '{ topProducts { name ... @defer(label: "slow") { inStock } ... @defer(label: "fast") { reviews { id } } } }'
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute(query)
        assert isinstance(result, IncrementalResponse)
        stream = result.subsequent.payloads()
        first = await stream.__anext__()
        assert {e["label"] for e in first["incremental"]} == {"fast"} and first["hasNext"] is True
        release.set()
        second = await stream.__anext__()
        assert {e["label"] for e in second["incremental"]} == {"slow"} and second["hasNext"] is False


async def test_defer_at_the_root_and_on_an_abstract_parent() -> None:
    query = '{ ... @defer(label: "me") { me { name } } topProducts { ... on Product @defer { name } } }'
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan(query)
        payloads = await collect(await gw.execute(query))
    assert isinstance(plan.node, Defer)
    assert [d.path for d in plan.node.deferred] == [(), ("topProducts", "@")]
    assert payloads[0]["data"] == {"topProducts": [{}, {}, {}]}
    got = entries(payloads)
    assert {"data": {"me": {"name": "Aiko"}}, "path": [], "label": "me"} in got
    assert {"data": {"name": "Noren"}, "path": ["topProducts", 2]} in got


async def test_mutation_root_fields_are_never_deferred_and_nested_defer_comes_in_place() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        refused = validate(gw.supergraph.api_schema,
                           parse('mutation { ... @defer { renameProduct(upc: "p1", name: "x") { name } } }'))
        assert [e.message for e in refused] == ["Defer directive cannot be used on root mutation type 'Mutation'."]
        query = 'mutation { renameProduct(upc: "p2", name: "Big kotatsu") { name ... @defer { reviews { body } } } }'
        plan = gw.plan(query)
        result = await gw.execute(query)
    assert not isinstance(plan.node, Defer)
    assert not isinstance(result, IncrementalResponse) and "hasNext" not in result
    assert result["data"] == {"renameProduct": {"name": "Big kotatsu", "reviews": [{"body": "warm"}, {"body": "big"}]}}


async def test_skip_and_include_on_a_deferred_fragment() -> None:
    query = 'query($on: Boolean!) { topProducts { name ... @defer(label: "r") @include(if: $on) { reviews { id } } } }'
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        excluded = await gw.execute(query, {"on": False})
        included_ = await collect(await gw.execute(query, {"on": True}))
    # excluded: no part and no fetch of it; a plain answer
    assert not isinstance(excluded, IncrementalResponse)
    assert excluded["data"]["topProducts"][0] == {"name": "Futon"}
    assert len(subs[2].entity_calls()) == 1  # (the included request's only)
    assert [e["data"] for e in entries(included_)][1] == {"reviews": [{"id": "r2"}, {"id": "r3"}]}
