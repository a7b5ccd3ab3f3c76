"""Federation 1 supergraphs (`join` v0.1, linked with `@core`): fields without `@join__field` belong to the
type's `@join__owner`; the other subgraphs that know the entity return only its key fields. A supergraph
linking a `join` version kyodo does not read is refused with one line saying how to recompose it."""

from __future__ import annotations

import contextlib

import aiohttp
import pytest
from engine_kit import Gateway, Subgraph, serve

from gateway.supergraph import SupergraphError, load_supergraph

PEOPLE = {"r1": "Hana", "r2": "Riku"}
POINTS = {"r1": 300, "r2": 120}


def _subgraphs() -> list[Subgraph]:
    return [
        Subgraph("residents", """
            type Query { me: Resident }
            type Resident @key(fields: "id") { id: ID! name: String }
        """, root={"me": lambda: {"id": "r1", "name": PEOPLE["r1"]}},
            entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"], "name": PEOPLE[rep["id"]]}}),
        Subgraph("points", """
            type Query { leaders: [Resident] }
            type Badge { label: String }
            type Resident @key(fields: "id") { id: ID! points: Int badge: Badge }
        """, root={"leaders": lambda: [{"id": r, "points": p, "badge": {"label": f"{p}pt"}} for r, p in POINTS.items()]},
            entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"], "points": POINTS[rep["id"]],
                                               "badge": {"label": f"{POINTS[rep['id']]}pt"}}}),
    ]


def fed1_supergraph(urls: dict[str, str], join_version: str = "v0.1") -> str:
    return f"""
schema @core(feature: "https://specs.apollo.dev/core/v0.1") @core(feature: "https://specs.apollo.dev/join/{join_version}") {{
  query: Query
}}
directive @core(feature: String!) repeatable on SCHEMA
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet) on FIELD_DEFINITION
directive @join__type(graph: join__Graph!, key: join__FieldSet) repeatable on OBJECT | INTERFACE
directive @join__owner(graph: join__Graph!) on OBJECT | INTERFACE
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
scalar join__FieldSet
enum join__Graph {{
  POINTS @join__graph(name: "points" url: "{urls['points']}")
  RESIDENTS @join__graph(name: "residents" url: "{urls['residents']}")
}}
type Badge {{ label: String }}
type Query {{
  leaders: [Resident] @join__field(graph: POINTS)
  me: Resident @join__field(graph: RESIDENTS)
}}
type Resident @join__owner(graph: RESIDENTS) @join__type(graph: RESIDENTS, key: "id") @join__type(graph: POINTS, key: "id") {{
  id: ID!
  name: String
  points: Int @join__field(graph: POINTS)
  badge: Badge @join__field(graph: POINTS)
}}
"""


@contextlib.asynccontextmanager
async def _fed1_gateway():
    subs = _subgraphs()
    async with serve(subs) as urls:
        supergraph = load_supergraph(fed1_supergraph(urls))
        async with aiohttp.ClientSession() as session:
            yield Gateway(supergraph, session)


async def test_a_federation_1_supergraph_loads_and_answers_across_subgraphs() -> None:
    async with _fed1_gateway() as gw:
        me = await gw.execute("{ me { name points badge { label } } }")
        leaders = await gw.execute("{ leaders { id name points } }")
    assert me == {"data": {"me": {"name": "Hana", "points": 300, "badge": {"label": "300pt"}}}}
    assert leaders == {"data": {"leaders": [{"id": "r1", "name": "Hana", "points": 300},
                                            {"id": "r2", "name": "Riku", "points": 120}]}}


def test_fields_without_join_field_belong_to_the_owner_and_keys_to_every_graph_with_the_key() -> None:
    supergraph = load_supergraph(fed1_supergraph({"points": "http://127.0.0.1:9/p", "residents": "http://127.0.0.1:9/r"}))
    resident = supergraph.types["Resident"]
    assert resident.fields["name"].resolvers() == ["RESIDENTS"]
    assert sorted(resident.fields["id"].resolvers()) == ["POINTS", "RESIDENTS"]
    assert sorted(supergraph.types["Badge"].graphs) == ["POINTS", "RESIDENTS"]  # a value type: everywhere


def test_an_unknown_join_version_is_refused_with_how_to_recompose() -> None:
    with pytest.raises(SupergraphError) as raised:
        load_supergraph(fed1_supergraph({"points": "http://127.0.0.1:9/p", "residents": "http://127.0.0.1:9/r"},
                                        join_version="v0.0"))
    message = str(raised.value)
    assert "\n" not in message
    assert "join v0.0" in message and "kyodo compose" in message and "rover supergraph compose" in message
