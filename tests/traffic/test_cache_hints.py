"""Cache policy on the real four-subgraph supergraph: public data cached for its shortest hint, anything
personal, access-controlled, unhinted or not a query never."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, build_ast_schema, parse, validate

from gateway.traffic.cache_hints import (
    CacheHint,
    CacheHintSettings,
    CachePolicy,
    _Rules,
    cache_control_header,
    cache_policy,
)
from tests.traffic.kyodo_supergraph import kyodo_supergraph


def policy(query: str, settings: CacheHintSettings = CacheHintSettings()) -> CachePolicy:
    supergraph = kyodo_supergraph()
    document = parse(query)
    assert validate(supergraph.api_schema, document) == []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return cache_policy(supergraph, operation, fragments, settings)


def test_shelter_occupancy_and_gauge_levels_are_short_and_the_shortest_wins() -> None:
    readme = ('{ shelters(municipalityCode: "282103", openOnly: true) { id name hazards { flood earthquake } '
              "occupancy { persons } } }")
    assert policy(readme).max_age == 5
    assert policy("{ shelters { id name hazards { flood } } }").max_age == 300
    assert policy("{ shelters { id name isOpen } }").max_age == 15
    assert policy("{ riverGauges { stationName latest { level observedAt } } }").max_age == 10
    assert policy("{ riverGauges { stationName thresholds { danger } } }").max_age == 300
    assert policy("{ aeds { id name } evacuationSpaces { id } }").max_age == 3600
    assert policy("{ kakogawaBasin { code floodSensors { id wet } } }").max_age == 10


def test_fragments_and_typename_follow_the_same_rules() -> None:
    query = "query { shelters { __typename ...S } } fragment S on Shelter { name occupancy { persons } }"
    assert policy(query).max_age == 5
    assert not policy("{ __typename }").cacheable


def test_personal_access_controlled_or_unhinted_data_is_never_cached() -> None:
    me = policy("{ me { name } }")
    assert not me.cacheable and "access-controlled" in me.reason          # @authenticated
    child = policy('{ child(id: "x") { id } }')
    assert not child.cacheable and "no cache hint" in child.reason         # Child is nobody's public type
    mixed = policy('{ shelters { id } pointAccount(residentId: "x") { balance } }')
    assert not mixed.cacheable
    assert not policy("{ __schema { types { name } } }").cacheable
    assert not policy('mutation { openShelter(id: "282103:0001") { id } }').cacheable


def test_settings_override_and_private_scope() -> None:
    hints = dict(CacheHintSettings().hints)
    hints["Shelter.occupancy"] = CacheHint(60)
    hints["ShelterOccupancy"] = CacheHint(60)
    assert policy("{ shelters { occupancy { persons } } }", CacheHintSettings(hints=hints)).max_age == 60
    hints["Aed"] = CacheHint(600, "PRIVATE")
    private = policy("{ aeds { id } }", CacheHintSettings(hints=hints))
    assert not private.cacheable and "private" in private.reason


def test_cache_control_directives_in_the_schema_are_read() -> None:
    schema = build_ast_schema(parse('''
      directive @cacheControl(maxAge: Int, scope: String) on FIELD_DEFINITION | OBJECT
      type Query { gauges: [Gauge!]! news: String @cacheControl(maxAge: 30) }
      type Gauge @cacheControl(maxAge: 120) { id: ID! level: Float @cacheControl(maxAge: 7) }
    '''))
    rules = _Rules.from_schema(schema, CacheHintSettings(hints={}))
    assert rules.hints == {"Gauge": CacheHint(120), "Gauge.level": CacheHint(7), "Query.news": CacheHint(30)}


def test_the_header_is_public_with_max_age_or_no_store() -> None:
    assert cache_control_header(CachePolicy(5)) == "public, max-age=5"
    assert cache_control_header(CachePolicy(300), remaining=42) == "public, max-age=42"
    assert cache_control_header(CachePolicy(0, "personal")) == "no-store"
    assert cache_control_header(None) == "no-store"
    assert cache_control_header(CachePolicy(300), remaining=0) == "no-store"
