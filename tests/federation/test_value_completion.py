"""Value completion as the routers answer it: a null the subgraph data explains by itself (an enum value
the API schema hides, a null in a non-null entity key) nulls the data and is reported under
`extensions.valueCompletion`, not in `errors`; a value no subgraph declares is still an error; the strict
setting puts every one of them in `errors`."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

NOTICES = [
    {"id": "n1", "level": "LOW"},
    {"id": "n2", "level": "SECRET"},  # @inaccessible in the supergraph
    {"id": "n3", "level": "SEVERE"},  # declared by the subgraph only (deployed ahead of the supergraph)
]
SHELTERS = [{"code": "s1"}, {"code": None}]  # the second one lost its key
NAMES = {"s1": "Kakogawa Gym"}


def _subgraphs() -> list[Subgraph]:
    return [
        Subgraph("alerts", """
            type Query { notices: [Notice!]! notice(id: ID!): Notice shelters: [Shelter] }
            enum Level { LOW HIGH SECRET SEVERE }
            type Notice { id: ID! level: Level }
            type Shelter @key(fields: "code") { code: ID }
        """, root={"notices": lambda: [dict(n) for n in NOTICES],
                   "notice": lambda id: next((dict(n) for n in NOTICES if n["id"] == id), None),
                   "shelters": lambda: [dict(s) for s in SHELTERS]}),
        Subgraph("places", """
            type Shelter @key(fields: "code") { code: ID! name: String }
        """, entities={"Shelter": lambda rep: {"__typename": "Shelter", "code": rep["code"],
                                               "name": NAMES.get(rep["code"])}}),
    ]


SUPERGRAPH = """
type Query @join__type(graph: ALERTS) @join__type(graph: PLACES) {
  notices: [Notice!]! @join__field(graph: ALERTS)
  notice(id: ID!): Notice @join__field(graph: ALERTS)
  shelters: [Shelter] @join__field(graph: ALERTS)
}
enum Level @join__type(graph: ALERTS) {
  LOW @join__enumValue(graph: ALERTS)
  HIGH @join__enumValue(graph: ALERTS)
  SECRET @inaccessible @join__enumValue(graph: ALERTS)
}
type Notice @join__type(graph: ALERTS) { id: ID! level: Level }
type Shelter @join__type(graph: ALERTS, key: "code") @join__type(graph: PLACES, key: "code") {
  code: ID! @join__field(graph: ALERTS, type: "ID") @join__field(graph: PLACES)
  name: String @join__field(graph: PLACES)
}
"""


async def test_a_hidden_enum_value_is_nulled_and_reported_under_value_completion() -> None:
    async with gateway_for(_subgraphs(), SUPERGRAPH) as gw:
        result = await gw.execute('{ notice(id: "n2") { id level } }')
    assert result == {
        "data": {"notice": {"id": "n2", "level": None}},
        "extensions": {"valueCompletion": [
            {"message": 'Enum "Level" cannot represent value: "SECRET"', "path": ["notice", "level"]}]},
    }


async def test_a_null_entity_key_nulls_its_object_without_an_error() -> None:
    async with gateway_for(_subgraphs(), SUPERGRAPH) as gw:
        result = await gw.execute("{ shelters { code name } }")
    assert result == {
        "data": {"shelters": [{"code": "s1", "name": "Kakogawa Gym"}, None]},
        "extensions": {"valueCompletion": [
            {"message": "Cannot return null for non-nullable field Shelter.code.", "path": ["shelters", 1, "code"]}]},
    }


async def test_an_enum_value_no_subgraph_declares_is_still_an_error() -> None:
    async with gateway_for(_subgraphs(), SUPERGRAPH) as gw:
        result = await gw.execute('{ notice(id: "n3") { level } }')
    assert result == {
        "data": {"notice": {"level": None}},
        "errors": [{"message": 'Enum "Level" cannot represent value: "SEVERE"', "path": ["notice", "level"]}],
    }


async def test_strict_value_completion_reports_every_nullification_in_errors() -> None:
    async with gateway_for(_subgraphs(), SUPERGRAPH, value_completion="strict") as gw:
        hidden = await gw.execute("{ notices { id level } }")
        keyless = await gw.execute("{ shelters { code } }")
    assert hidden == {
        "data": {"notices": [{"id": "n1", "level": "LOW"}, {"id": "n2", "level": None}, {"id": "n3", "level": None}]},
        "errors": [{"message": 'Enum "Level" cannot represent value: "SECRET"', "path": ["notices", 1, "level"]},
                   {"message": 'Enum "Level" cannot represent value: "SEVERE"', "path": ["notices", 2, "level"]}],
    }
    assert keyless == {
        "data": {"shelters": [{"code": "s1"}, None]},
        "errors": [{"message": "Cannot return null for non-nullable field Shelter.code.", "path": ["shelters", 1, "code"]}],
    }


class _OneAnswer:
    """A fetcher answering every subgraph request with one hidden enum value."""

    async def fetch(self, subgraph: str, query: str, variables: dict | None, headers: object = None) -> dict:
        return {"data": {"notice": {"id": "n2", "level": "SECRET"}}}


async def test_the_pipeline_answers_by_the_value_completion_setting() -> None:
    from engine_kit import supergraph_sdl

    from gateway.pipeline import GraphQLRequest, Pipeline, RequestContext
    from gateway.settings import Settings
    from gateway.supergraph import load_supergraph

    supergraph = load_supergraph(supergraph_sdl({"ALERTS": "http://127.0.0.1:9/a", "PLACES": "http://127.0.0.1:9/p"},
                                                SUPERGRAPH))
    request = GraphQLRequest('{ notice(id: "n2") { id level } }')
    context = RequestContext(fetcher=_OneAnswer())
    routers = await Pipeline(supergraph, Settings()).run(request, context)
    strict = await Pipeline(supergraph, Settings(value_completion="strict")).run(request, context)
    message = {"message": 'Enum "Level" cannot represent value: "SECRET"', "path": ["notice", "level"]}
    assert routers == {"data": {"notice": {"id": "n2", "level": None}}, "extensions": {"valueCompletion": [message]}}
    assert strict == {"data": {"notice": {"id": "n2", "level": None}}, "errors": [message]}
