"""Entity jumps through @key: one `_entities` call per Flatten, duplicates sent once, results mapped back."""

from __future__ import annotations

from gateway.planner import Fetch, Flatten, print_plan
from engine_kit import Subgraph, gateway_for

USERS = {"u1": {"id": "u1", "name": "Aiko"}, "u2": {"id": "u2", "name": "Ren"}}
PRODUCTS = [{"upc": "p1", "name": "Futon", "price": 100}, {"upc": "p2", "name": "Kotatsu", "price": 200},
            {"upc": "p3", "name": "Noren", "price": 30}]
REVIEWS = {"p1": [{"id": "r1", "body": "soft", "author": {"id": "u1"}}],
           "p2": [{"id": "r2", "body": "warm", "author": {"id": "u1"}}, {"id": "r3", "body": "big", "author": {"id": "u2"}}],
           "p3": []}


def subgraphs() -> list[Subgraph]:
    return [
        Subgraph("accounts", """
            type Query { me: User }
            type User @key(fields: "id") { id: ID! name: String }
        """, root={"me": lambda: dict(USERS["u1"])},
            entities={"User": lambda rep: {"__typename": "User", **USERS[rep["id"]]} if rep["id"] in USERS else None}),
        Subgraph("products", """
            type Query { topProducts: [Product!]! }
            type Product @key(fields: "upc") { upc: String! name: String price: Int }
        """, root={"topProducts": lambda: [dict(p) for p in PRODUCTS]},
            entities={"Product": lambda rep: {"__typename": "Product",
                                              **next(p for p in PRODUCTS if p["upc"] == rep["upc"])}}),
        Subgraph("reviews", """
            type Review { id: ID! body: String author: User }
            type User @key(fields: "id") { id: ID! }
            type Product @key(fields: "upc") { upc: String! reviews: [Review!]! }
        """, entities={"Product": lambda rep: {"__typename": "Product", "upc": rep["upc"],
                                               "reviews": REVIEWS[rep["upc"]]}}),
    ]


SUPERGRAPH = """
type Query @join__type(graph: ACCOUNTS) @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) {
  me: User @join__field(graph: ACCOUNTS)
  topProducts: [Product!]! @join__field(graph: PRODUCTS)
}
type User @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  name: String @join__field(graph: ACCOUNTS)
}
type Product @join__type(graph: PRODUCTS, key: "upc") @join__type(graph: REVIEWS, key: "upc") {
  upc: String!
  name: String @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: PRODUCTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}
type Review @join__type(graph: REVIEWS) {
  id: ID!
  body: String
  author: User
}
"""

QUERY = """
query Top {
  topProducts {
    name
    reviews { body author { name } }
  }
}
"""


async def test_nested_entity_jumps_give_merged_result() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute(QUERY)
    assert "errors" not in result
    products = result["data"]["topProducts"]
    assert [p["name"] for p in products] == ["Futon", "Kotatsu", "Noren"]
    assert products[0]["reviews"] == [{"body": "soft", "author": {"name": "Aiko"}}]
    assert products[1]["reviews"] == [{"body": "warm", "author": {"name": "Aiko"}},
                                      {"body": "big", "author": {"name": "Ren"}}]
    assert products[2]["reviews"] == []
    # internal key fields (upc, id, __typename) never reach the client
    assert set(products[0]) == {"name", "reviews"}


async def test_one_entities_call_per_flatten_without_duplicates() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        await gw.execute(QUERY)
    accounts, products, reviews = subs
    assert len(reviews.entity_calls()) == 1
    assert len(reviews.entity_calls()[0]["variables"]["representations"]) == 3
    user_calls = accounts.entity_calls()
    assert len(user_calls) == 1
    # u1 wrote two reviews: its representation is sent once
    assert sorted(r["id"] for r in user_calls[0]["variables"]["representations"]) == ["u1", "u2"]


async def test_plan_shape_is_products_then_reviews_then_accounts() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        plan = gw.plan(QUERY)
    fetches = plan.fetches()
    assert [f.subgraph for f in fetches] == ["PRODUCTS", "REVIEWS", "ACCOUNTS"]
    flattens = [n for n in plan.node.nodes if isinstance(n, Flatten)]
    assert [f.path for f in flattens] == [("topProducts", "@"), ("topProducts", "@", "reviews", "@", "author")]
    assert isinstance(plan.node.nodes[0], Fetch)
    assert "_entities" in fetches[1].operation and "upc" in fetches[0].operation
    assert "Flatten(path: \"topProducts.@\")" in print_plan(plan)
    assert plan.to_dict()["node"]["kind"] == "Sequence"


async def test_aliases_typename_and_fragments() -> None:
    query = """
    query {
      best: topProducts { title: name kind: __typename ...Rev }
      me { __typename who: name }
    }
    fragment Rev on Product { reviews { text: body } }
    """
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        result = await gw.execute(query)
    assert result["data"]["best"][0] == {"title": "Futon", "kind": "Product", "reviews": [{"text": "soft"}]}
    assert result["data"]["me"] == {"__typename": "User", "who": "Aiko"}


async def test_missing_entity_gives_null_not_crash() -> None:
    subs = subgraphs()
    subs[0].root["me"] = lambda: {"id": "ghost"}
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ me { id name } }")
    assert result["data"] == {"me": {"id": "ghost", "name": None}}


async def test_client_alias_never_collides_with_a_key_field() -> None:
    # `upc` is the key the planner needs for the reviews jump; the client uses `upc` for the name
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ topProducts { upc: name reviews { id: body } } }")
    assert "errors" not in result, result
    assert result["data"]["topProducts"][1] == {"upc": "Kotatsu", "reviews": [{"id": "warm"}, {"id": "big"}]}
    reps = subs[2].entity_calls()[0]["variables"]["representations"]
    assert reps[0] == {"__typename": "Product", "upc": "p1"}
