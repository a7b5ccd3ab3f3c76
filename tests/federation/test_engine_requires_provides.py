"""@requires (chained, with arguments) and @provides (no needless fetch)."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

PRODUCTS = {"p1": {"id": "p1", "price": 120, "weight": 3}, "p2": {"id": "p2", "price": 20, "weight": 10}}


def _rate(currency: str) -> int:
    return {"JPY": 1, "USD": 150}[currency]


def pricing_subgraphs() -> list[Subgraph]:
    def product(rep):
        p = PRODUCTS[rep["id"]]
        return {"__typename": "Product", **p, "priceIn": lambda _info, currency: p["price"] // _rate(currency) if currency != "JPY" else p["price"]}

    def shipping(rep):
        out = {"__typename": "Product", "id": rep["id"]}
        if "weight" in rep and "price" in rep:
            out["shipping"] = 0 if rep["price"] > 100 else rep["weight"] * 2
        if "shipping" in rep:
            out["label"] = "free" if rep["shipping"] == 0 else f"{rep['shipping']} yen"
        if "_priceUsd" in rep or "priceIn" in rep:
            out["usdNote"] = f"about {rep['priceIn']} USD"
        return out

    return [
        Subgraph("catalog", """
            type Query { products: [Product!]! }
            type Product @key(fields: "id") { id: ID! price: Int weight: Int priceIn(currency: String!): Int }
        """, root={"products": lambda: [product({"id": k}) for k in PRODUCTS]}, entities={"Product": product}),
        Subgraph("shipping", """
            type Product @key(fields: "id") {
              id: ID!
              price: Int @external
              weight: Int @external
              priceIn(currency: String!): Int @external
              shipping: Int @requires(fields: "price weight")
              usdNote: String @requires(fields: "priceIn(currency: \\"USD\\")")
            }
        """, entities={"Product": shipping}),
        Subgraph("labels", """
            type Product @key(fields: "id") {
              id: ID!
              shipping: Int @external
              label: String @requires(fields: "shipping")
            }
        """, entities={"Product": shipping}),
    ]


PRICING = """
type Query @join__type(graph: CATALOG) @join__type(graph: SHIPPING) @join__type(graph: LABELS) {
  products: [Product!]! @join__field(graph: CATALOG)
}
type Product @join__type(graph: CATALOG, key: "id") @join__type(graph: SHIPPING, key: "id") @join__type(graph: LABELS, key: "id") {
  id: ID!
  price: Int @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
  weight: Int @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
  priceIn(currency: String!): Int @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
  shipping: Int @join__field(graph: SHIPPING, requires: "price weight") @join__field(graph: LABELS, external: true)
  usdNote: String @join__field(graph: SHIPPING, requires: "priceIn(currency: \\"USD\\")")
  label: String @join__field(graph: LABELS, requires: "shipping")
}
"""


async def test_requires_fields_travel_in_the_representation() -> None:
    subs = pricing_subgraphs()
    async with gateway_for(subs, PRICING) as gw:
        result = await gw.execute("{ products { id shipping } }")
    assert result == {"data": {"products": [{"id": "p1", "shipping": 0}, {"id": "p2", "shipping": 20}]}}
    reps = subs[1].entity_calls()[0]["variables"]["representations"]
    assert reps == [{"__typename": "Product", "id": "p1", "price": 120, "weight": 3},
                    {"__typename": "Product", "id": "p2", "price": 20, "weight": 10}]


async def test_chained_requires_runs_in_order() -> None:
    subs = pricing_subgraphs()
    async with gateway_for(subs, PRICING) as gw:
        plan = gw.plan("{ products { label } }")
        result = await gw.execute("{ products { label } }")
    assert result == {"data": {"products": [{"label": "free"}, {"label": "20 yen"}]}}
    assert [f.subgraph for f in plan.fetches()] == ["CATALOG", "SHIPPING", "LABELS"]


async def test_requires_with_arguments_does_not_clash_with_client_field() -> None:
    subs = pricing_subgraphs()
    async with gateway_for(subs, PRICING) as gw:
        result = await gw.execute('{ products { priceIn(currency: "JPY") usdNote } }')
    # the client's priceIn(JPY) and the required priceIn(USD) are fetched under different keys
    assert result == {"data": {"products": [{"priceIn": 120, "usdNote": "about 0 USD"},
                                            {"priceIn": 20, "usdNote": "about 0 USD"}]}}
    rep = subs[1].entity_calls()[0]["variables"]["representations"][0]
    assert rep["priceIn"] == 0 and "_kyodo" not in str(rep)


def provides_subgraphs() -> list[Subgraph]:
    shelters = [{"id": "s1", "name": "Himeji Castle Park", "capacity": 500}]
    return [
        Subgraph("safety", """
            type Query { openShelters: [Shelter!]! nearest: Shelter @provides(fields: "name") }
            type Shelter @key(fields: "id") { id: ID! name: String @external capacity: Int }
        """,
            root={"openShelters": lambda: [dict(s) for s in shelters], "nearest": lambda: dict(shelters[0])},
            entities={"Shelter": lambda rep: {"__typename": "Shelter", **next(s for s in shelters if s["id"] == rep["id"])}}),
        Subgraph("places", """
            type Shelter @key(fields: "id") { id: ID! name: String }
        """, entities={"Shelter": lambda rep: {"__typename": "Shelter", "id": rep["id"], "name": "from places"}}),
    ]


PROVIDES = """
type Query @join__type(graph: SAFETY) @join__type(graph: PLACES) {
  openShelters: [Shelter!]! @join__field(graph: SAFETY)
  nearest: Shelter @join__field(graph: SAFETY, provides: "name")
}
type Shelter @join__type(graph: SAFETY, key: "id") @join__type(graph: PLACES, key: "id") {
  id: ID!
  name: String @join__field(graph: SAFETY, external: true) @join__field(graph: PLACES)
  capacity: Int @join__field(graph: SAFETY)
}
"""


async def test_provides_saves_the_entity_fetch() -> None:
    subs = provides_subgraphs()
    async with gateway_for(subs, PROVIDES) as gw:
        plan = gw.plan("{ nearest { name capacity } }")
        result = await gw.execute("{ nearest { name capacity } }")
    assert [f.subgraph for f in plan.fetches()] == ["SAFETY"]
    assert result == {"data": {"nearest": {"name": "Himeji Castle Park", "capacity": 500}}}
    assert subs[1].received == []


async def test_external_without_provides_is_fetched_from_owner() -> None:
    subs = provides_subgraphs()
    async with gateway_for(subs, PROVIDES) as gw:
        plan = gw.plan("{ openShelters { name } }")
        result = await gw.execute("{ openShelters { name } }")
    assert [f.subgraph for f in plan.fetches()] == ["SAFETY", "PLACES"]
    assert result == {"data": {"openShelters": [{"name": "from places"}]}}
