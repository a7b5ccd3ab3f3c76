"""A client alias may reuse the name of a field the gateway needs for itself (an entity key, a field a
@requires reads, the parent of a nested entity call). The two are kept apart: the gateway's own field
never shows through the alias, and the aliased field still gets its value."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

# Three subgraphs around one facility: registry owns it, zoning knows its district, districts names it.
FACILITY_SUBGRAPHS = [
    ("registry", """
        type Query { facility(id: ID!): Facility }
        type Facility @key(fields: "id") { id: ID name: String }
    """),
    ("zoning", """
        type Facility @key(fields: "id") { id: ID @external district: District @shareable }
        type District { id: ID @shareable }
    """),
    ("inspections", """
        type Facility @key(fields: "id") { id: ID @external district: District @shareable }
        type District { details: String }
    """),
    ("districts", """
        type District @key(fields: "id") { id: ID name: String }
    """),
]

FACILITY_SUPERGRAPH = """
type Query @join__type(graph: REGISTRY) @join__type(graph: ZONING) @join__type(graph: INSPECTIONS) @join__type(graph: DISTRICTS) {
  facility(id: ID!): Facility @join__field(graph: REGISTRY)
}
type Facility @join__type(graph: REGISTRY, key: "id") @join__type(graph: ZONING, key: "id")
    @join__type(graph: INSPECTIONS, key: "id") {
  id: ID @join__field(graph: REGISTRY) @join__field(graph: ZONING, external: true)
    @join__field(graph: INSPECTIONS, external: true)
  name: String @join__field(graph: REGISTRY)
  district: District @join__field(graph: ZONING) @join__field(graph: INSPECTIONS)
}
type District @join__type(graph: ZONING) @join__type(graph: INSPECTIONS) @join__type(graph: DISTRICTS, key: "id") {
  id: ID @join__field(graph: ZONING) @join__field(graph: DISTRICTS)
  details: String @join__field(graph: INSPECTIONS)
  name: String @join__field(graph: DISTRICTS)
}
"""


def _facility_subgraphs() -> list[Subgraph]:
    registry, zoning, inspections, districts = FACILITY_SUBGRAPHS
    return [
        Subgraph(registry[0], registry[1],
                 root={"facility": lambda id: {"id": id, "name": f"Facility#{id}"}},
                 entities={"Facility": lambda rep: {"__typename": "Facility", "id": rep["id"],
                                                    "name": f"Facility#{rep['id']}"}}),
        Subgraph(zoning[0], zoning[1],
                 entities={"Facility": lambda rep: {"__typename": "Facility", "id": rep["id"],
                                                    "district": {"id": "3"}}}),
        Subgraph(inspections[0], inspections[1],
                 entities={"Facility": lambda rep: {"__typename": "Facility", "id": rep["id"],
                                                    "district": {"details": f"Details#{rep['id']}"}}}),
        Subgraph(districts[0], districts[1],
                 entities={"District": lambda rep: {"__typename": "District", "id": rep["id"],
                                                    "name": f"District#{rep['id']}"}}),
    ]


async def test_an_alias_named_like_the_entity_key_keeps_apart_from_the_key() -> None:
    async with gateway_for(_facility_subgraphs(), FACILITY_SUPERGRAPH) as gw:
        result = await gw.execute('{ facility(id: "1") { id: district { other: id details name } } }')
    assert result == {"data": {"facility": {"id": {"other": "3", "details": "Details#1", "name": "District#3"}}}}


async def test_a_key_aliased_away_and_an_alias_named_like_it_both_resolve() -> None:
    async with gateway_for(_facility_subgraphs(), FACILITY_SUPERGRAPH) as gw:
        result = await gw.execute('{ facility(id: "1") { key: id name: district { id: name details: id name: details } } }')
    assert result == {"data": {"facility": {"key": "1", "name": {"id": "District#3", "details": "3", "name": "Details#1"}}}}


# A chain of @requires: notices.urgent requires level (from grading), which requires author { years }.
def _notice_subgraphs() -> list[Subgraph]:
    posts = {"p1": {"author": "a1"}, "p2": {"author": "a2"}}
    years = {"a1": 3, "a2": 20}
    return [
        Subgraph("notices", """
            type Query { feed: [Post] }
            type Post @key(fields: "id") { id: ID! novice: Boolean! @external expert: Boolean! @requires(fields: "novice") }
            type Author @key(fields: "id") { id: ID! name: String! years: Int! }
        """, root={"feed": lambda: [{"id": p} for p in posts]},
            entities={
                "Post": lambda rep: {"__typename": "Post", "id": rep["id"],
                                     "expert": (None if rep.get("novice") is None else not rep["novice"])},
                "Author": lambda rep: {"__typename": "Author", "id": rep["id"], "name": rep["id"].upper(),
                                       "years": years[rep["id"]]},
            }),
        Subgraph("grading", """
            type Post @key(fields: "id") { id: ID! author: Author! novice: Boolean! @requires(fields: "author { years }") }
            type Author @key(fields: "id") { id: ID! years: Int! @external }
        """, entities={
            "Post": lambda rep: {"__typename": "Post", "id": rep["id"],
                                 "author": {"id": posts[rep["id"]]["author"], **(rep.get("author") or {})},
                                 "novice": (None if "author" not in rep else rep["author"]["years"] < 10)},
        }),
    ]


NOTICE_SUPERGRAPH = """
type Query @join__type(graph: NOTICES) @join__type(graph: GRADING) {
  feed: [Post] @join__field(graph: NOTICES)
}
type Post @join__type(graph: NOTICES, key: "id") @join__type(graph: GRADING, key: "id") {
  id: ID!
  novice: Boolean! @join__field(graph: NOTICES, external: true) @join__field(graph: GRADING, requires: "author { years }")
  expert: Boolean! @join__field(graph: NOTICES, requires: "novice")
  author: Author! @join__field(graph: GRADING)
}
type Author @join__type(graph: NOTICES, key: "id") @join__type(graph: GRADING, key: "id") {
  id: ID!
  name: String! @join__field(graph: NOTICES)
  years: Int! @join__field(graph: NOTICES) @join__field(graph: GRADING, external: true)
}
"""


async def test_an_alias_named_like_a_field_that_requires_reads_gets_its_own_value() -> None:
    async with gateway_for(_notice_subgraphs(), NOTICE_SUPERGRAPH) as gw:
        result = await gw.execute("{ feed { author: expert } }")
    assert result == {"data": {"feed": [{"author": False}, {"author": True}]}}


async def test_a_requires_input_aliased_by_the_client_and_the_alias_reused() -> None:
    async with gateway_for(_notice_subgraphs(), NOTICE_SUPERGRAPH) as gw:
        result = await gw.execute("{ feed { novice: expert expert: novice author { years: name } } }")
    assert result == {"data": {"feed": [{"novice": False, "expert": True, "author": {"years": "A1"}},
                                        {"novice": True, "expert": False, "author": {"years": "A2"}}]}}
