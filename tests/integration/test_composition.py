"""Issue 3: the four live SDLs compose into one supergraph, with no error and no warning, by our composition.

(Apollo's @apollo/composition was also run on these SDLs outside the test suite; see the integration report.
This suite needs no Node and no audit checkout.)
"""

from __future__ import annotations

import logging
import warnings

from graphql import build_client_schema, get_introspection_query, parse, print_schema

from gateway.composition import SubgraphSource, compose
from gateway.supergraph import load_supergraph
from tests.integration.gateway_client import post_graphql

# Which subgraph owns what the cross-city query reads: (type, field) -> subgraph (join__Graph name).
OWNERS = {
    ("Resident", "name"): "IDENTITY",
    ("Resident", "currentShelterStay"): "IDENTITY",
    ("Resident", "children"): "CHILDCARE",
    ("Resident", "pointAccount"): "CURRENCY",
    ("Resident", "watchTags"): "SAFETY",
    ("Shelter", "hazards"): "SAFETY",
    ("Shelter", "occupancy"): "IDENTITY",
    ("Municipality", "name"): "IDENTITY",
    ("Municipality", "childcareJoined"): "CHILDCARE",
    ("Municipality", "currencyJoined"): "CURRENCY",
    ("Municipality", "safetyJoined"): "SAFETY",
    ("Subscription", "riverAlertChanged"): "SAFETY",          # issue 11 item 6: the subscription root composes
    ("Subscription", "floodSensorTriggered"): "SAFETY",
    ("Subscription", "shelterOccupancyChanged"): "IDENTITY",
    ("RiverAlertChange", "gauge"): "SAFETY",
}


def _sources(stack) -> list[SubgraphSource]:  # noqa: ANN001
    return [SubgraphSource(name, stack.subgraphs[name].url, sdl) for name, sdl in stack.sdls.items()]


def test_each_live_sdl_is_a_federation_2_subgraph(stack):
    assert set(stack.sdls) == {"childcare", "currency", "identity", "safety"}
    for name, sdl in stack.sdls.items():
        schema_definition = next(d for d in parse(sdl).definitions if d.kind == "schema_definition")
        links = [d for d in schema_definition.directives if d.name.value == "link"]
        assert any("specs.apollo.dev/federation/v2." in a.value.value for link in links for a in link.arguments
                   if a.name.value == "url"), name


def test_four_sdls_compose_without_errors_or_warnings(stack, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # any warning raised while composing fails the test
        supergraph_sdl = compose(_sources(stack))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    # the order the subgraphs are listed in changes nothing
    assert compose(list(reversed(_sources(stack)))) == supergraph_sdl


async def test_the_gateway_serves_the_composed_api_schema(stack):
    # what a client discovers through the running gateway is the supergraph's API schema, nothing more or less
    response = await post_graphql(stack.graphql_url, get_introspection_query(), {})
    assert response.status_code == 200, response.text
    served = build_client_schema(response.json()["data"])
    assert print_schema(served) == print_schema(load_supergraph(stack.supergraph_sdl).api_schema)


def test_supergraph_joins_the_four_platforms_on_shared_entities(stack):
    supergraph = load_supergraph(stack.supergraph_sdl)
    assert {name: info.url for name, info in supergraph.subgraphs.items()} == {
        name.upper(): sub.url for name, sub in stack.subgraphs.items()}
    for (type_name, field_name), owner in OWNERS.items():
        assert supergraph.resolves(type_name, field_name, owner), (type_name, field_name, owner)
        assert field_name in supergraph.api_schema.get_type(type_name).fields, (type_name, field_name)
    # every subgraph can be reached from the others through the Resident key
    resident = supergraph.types["Resident"]
    assert {key.graph for key in resident.keys if key.fields == "id" and key.resolvable} == {
        "CHILDCARE", "CURRENCY", "IDENTITY", "SAFETY"}
    # no federation machinery leaks into what clients see
    api_types = set(supergraph.api_schema.type_map)
    assert not {name for name in api_types if name.startswith("join__") or name.startswith("link__")}
    assert "_entities" not in supergraph.api_schema.query_type.fields
    assert "_service" not in supergraph.api_schema.query_type.fields
