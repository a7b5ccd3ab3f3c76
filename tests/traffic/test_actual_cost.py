"""Actual cost counts what came back, with the estimate's weights."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from gateway.traffic.actual_cost import actual_cost


def count(supergraph, query: str, data) -> int:
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return actual_cost(supergraph, operation, fragments, data)


def test_lists_count_their_real_length(supergraph) -> None:
    data = {"shelters": [{"id": "a", "occupancy": {"persons": 3}}, {"id": "b", "occupancy": {"persons": 0}}]}
    assert count(supergraph, "{ shelters(limit: 1000) { id occupancy { persons } } }", data) == 2 * (1 + 5)
    assert count(supergraph, "{ shelters(limit: 1000) { id } }", {"shelters": []}) == 0


def test_nulls_and_missing_data_cost_nothing(supergraph) -> None:
    assert count(supergraph, '{ shelter(id: "a") { id } }', {"shelter": None}) == 0
    assert count(supergraph, '{ shelter(id: "a") { id } }', None) == 0


def test_type_weights_aliases_fragments_and_abstract_members(supergraph) -> None:
    assert count(supergraph, "{ gauges { level } }", {"gauges": [{"level": 1.0}]}) == 20
    query = """{ a: shelter(id: "a") { ...S } b: shelter(id: "b") { ...S } }
               fragment S on Shelter { occupancy { persons } }"""
    data = {"a": {"occupancy": {"persons": 1}}, "b": {"occupancy": {"persons": 2}}}
    assert count(supergraph, query, data) == 2 * (1 + 5)
    query = "{ places { __typename ... on Shelter { occupancy { persons } } ... on Gauge { level } } }"
    data = {"places": [{"__typename": "Shelter", "occupancy": {"persons": 1}}, {"__typename": "Gauge", "level": 2.0}]}
    assert count(supergraph, query, data) == (1 + 5) + 1


def test_mutations_add_their_base(supergraph) -> None:
    assert count(supergraph, 'mutation { checkIn(input: {shelterId: "a"}) { id } }', {"checkIn": {"id": "a"}}) == 11
