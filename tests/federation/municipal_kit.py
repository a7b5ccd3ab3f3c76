"""Four small municipal subgraphs (identity, currency, childcare, safety) for plan-shape and condition tests.

identity owns `me` and `Resident.name`; currency adds `pointAccount` and `points`, childcare adds
`children` (residents themselves), safety adds `watchTags` and owns the root field `shelters`.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from engine_kit import Subgraph

PEOPLE = {
    "r1": {"id": "r1", "name": "Hana", "children": ["c1", "c2"], "points": 300, "tags": ["t1"]},
    "c1": {"id": "c1", "name": "Mio", "children": [], "points": 0, "tags": ["t2"]},
    "c2": {"id": "c2", "name": "Riku", "children": [], "points": 0, "tags": []},
}
SHELTERS = [{"id": "282103:1", "name": "Kakogawa Gym"}, {"id": "282103:2", "name": "Hioka Hall"}]


def municipal_subgraphs(currency_entity: Callable[[dict], Any | Awaitable[Any]] | None = None) -> list[Subgraph]:
    """The four subgraphs; `currency_entity` replaces currency's Resident resolver (it may be async)."""

    def currency(rep: dict) -> dict:
        person = PEOPLE[rep["id"]]
        return {"__typename": "Resident", "id": rep["id"], "points": person["points"],
                "pointAccount": {"balance": person["points"]}}

    return [
        Subgraph("identity", """
            type Query { me: Resident }
            type Resident @key(fields: "id") { id: ID! name: String! }
        """, root={"me": lambda: {"id": "r1", "name": PEOPLE["r1"]["name"]}},
            entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"],
                                               "name": PEOPLE[rep["id"]]["name"]}}),
        Subgraph("currency", """
            type Resident @key(fields: "id") { id: ID! points: Int pointAccount: PointAccount }
            type PointAccount { balance: Int! }
        """, entities={"Resident": currency_entity or currency}),
        Subgraph("childcare", """
            type Resident @key(fields: "id") { id: ID! children: [Resident!]! }
        """, entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"],
                                                "children": [{"id": c} for c in PEOPLE[rep["id"]]["children"]]}}),
        Subgraph("safety", """
            type Query { shelters: [Shelter!]! }
            type Shelter { id: ID! name: String! }
            type Resident @key(fields: "id") { id: ID! watchTags: [WatchTag!]! }
            type WatchTag { id: ID! }
        """, root={"shelters": lambda: [dict(s) for s in SHELTERS]},
            entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"],
                                               "watchTags": [{"id": t} for t in PEOPLE[rep["id"]]["tags"]]}}),
    ]


MUNICIPAL_SUPERGRAPH = """
type Query @join__type(graph: IDENTITY) @join__type(graph: CURRENCY) @join__type(graph: CHILDCARE) @join__type(graph: SAFETY) {
  me: Resident @join__field(graph: IDENTITY)
  shelters: [Shelter!]! @join__field(graph: SAFETY)
}
type Resident @join__type(graph: IDENTITY, key: "id") @join__type(graph: CURRENCY, key: "id")
    @join__type(graph: CHILDCARE, key: "id") @join__type(graph: SAFETY, key: "id") {
  id: ID!
  name: String! @join__field(graph: IDENTITY)
  points: Int @join__field(graph: CURRENCY)
  pointAccount: PointAccount @join__field(graph: CURRENCY)
  children: [Resident!]! @join__field(graph: CHILDCARE)
  watchTags: [WatchTag!]! @join__field(graph: SAFETY)
}
type PointAccount @join__type(graph: CURRENCY) { balance: Int! }
type Shelter @join__type(graph: SAFETY) { id: ID! name: String! }
type WatchTag @join__type(graph: SAFETY) { id: ID! }
"""


def by_name(subgraphs: list[Subgraph]) -> dict[str, Subgraph]:
    return {s.name: s for s in subgraphs}
