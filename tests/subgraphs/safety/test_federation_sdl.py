from __future__ import annotations

import re

from graphql import ObjectTypeDefinitionNode, parse, print_ast

from subgraphs.safety.schema import schema


async def _sdl() -> str:
    result = await schema.execute("{ _service { sdl } }")
    assert result.errors is None
    return result.data["_service"]["sdl"]


def _types(sdl: str) -> dict[str, ObjectTypeDefinitionNode]:
    return {d.name.value: d for d in parse(sdl).definitions if isinstance(d, ObjectTypeDefinitionNode)}


async def test_entities_and_extensions_carry_their_keys():
    types = _types(await _sdl())
    for type_name, key in (("Shelter", "id"), ("EvacuationSpace", "id"), ("Aed", "id"), ("FloodSensor", "id"),
                           ("RiverGauge", "id"), ("Resident", "id"), ("Municipality", "code")):
        directives = [print_ast(d) for d in types[type_name].directives or ()]
        assert directives == [f'@key(fields: "{key}")'], type_name
    # safety adds only its own fields to the entities identity owns
    assert [f.name.value for f in types["Resident"].fields] == ["id", "watchTags"]
    assert [f.name.value for f in types["Municipality"].fields] == [
        "code", "safetyJoined", "inKakogawaBasin", "floodSensors"]
    # and keeps no description on them, so composing with identity gives no inconsistent-description hint
    assert types["Resident"].description is None and types["Shelter"].description is None


async def test_the_sdl_composes_into_a_supergraph():
    from gateway.composition.compose import compose
    from gateway.composition.source import SubgraphSource

    supergraph = compose([SubgraphSource("safety", "http://127.0.0.1:4102/graphql", await _sdl())])
    assert re.search(r'type Shelter\s+@join__type\(graph: SAFETY, key: "id"\)', supergraph)
