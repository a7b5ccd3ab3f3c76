"""The static cost rules (Apollo's demand control shape) on a small composed supergraph."""

from __future__ import annotations

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, validate

from gateway.traffic.cost import (
    CostEstimationError,
    DemandControlSettings,
    cost_estimation_error,
    cost_extensions,
    cost_refusal_error,
    describe_estimate,
    estimate_cost,
)



def cost(supergraph, query: str, variables: dict | None = None, **settings) -> int:
    return estimate(supergraph, query, variables, **settings).total


def estimate(supergraph, query: str, variables: dict | None = None, **settings):
    document = parse(query)
    assert validate(supergraph.api_schema, document) == []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return estimate_cost(supergraph, operation, fragments, variables, DemandControlSettings(**settings))


def test_objects_cost_one_and_scalars_nothing(supergraph) -> None:
    assert cost(supergraph, '{ shelter(id: "a") { id name hazards { flood } } }') == 2
    assert cost(supergraph, '{ shelter(id: "a") { __typename } }') == 1


def test_field_and_type_weights_replace_the_default(supergraph) -> None:
    assert cost(supergraph, '{ shelter(id: "a") { occupancy { persons } } }') == 1 + 5
    assert cost(supergraph, "{ gauges { level } }") == 3 * 20


def test_a_list_without_list_size_uses_the_configured_size(supergraph) -> None:
    assert cost(supergraph, "{ places { ... on Shelter { id } } }") == 10 * 1
    assert cost(supergraph, "{ places { ... on Shelter { id } } }", list_size=4) == 4
    assert cost(supergraph, "{ tags }") == 0


def test_slicing_argument_from_literal_variable_or_default(supergraph) -> None:
    assert cost(supergraph, "{ shelters(limit: 3) { id } }") == 3
    assert cost(supergraph, "query($n: Int!) { shelters(limit: $n) { id } }", {"n": 40}) == 40
    assert cost(supergraph, "query($n: Int! = 6) { shelters(limit: $n) { id } }") == 6
    assert cost(supergraph, "{ shelters { id } }") == 100
    assert cost(supergraph, "{ shelters(limit: 1000) { occupancy { persons } } }") == 1000 * (1 + 5)


def test_nested_slicing_argument_reads_the_input_object(supergraph) -> None:
    # 12 shelters, plus 1 for the input object argument
    assert cost(supergraph, '{ search(input: {first: 12, text: "x"}) { id } }') == 12 + 1


def test_exactly_one_slicing_argument_is_required_unless_relaxed(supergraph) -> None:
    with pytest.raises(CostEstimationError) as refused:
        cost(supergraph, "{ pages(first: 2, last: 3) { id } }")
    assert refused.value.path == ["pages"]
    error = cost_estimation_error(refused.value)
    assert error["extensions"]["code"] == "COST_QUERY_PARSE_FAILURE" and '"first"' in error["message"]
    with pytest.raises(CostEstimationError):
        cost(supergraph, "{ pages { id } }")
    assert cost(supergraph, "{ pages(last: 3) { id } }") == 3
    assert cost(supergraph, "{ loosePages(first: 2, last: 9) { id } }") == 9   # the largest
    assert cost(supergraph, "{ loosePages { id } }") == 7                       # assumedSize


def test_sized_fields_carry_the_size_to_the_child_list(supergraph) -> None:
    assert cost(supergraph, "{ connection(first: 8) { total nodes { id } } }") == 1 + 8 * 1
    assert cost(supergraph, "{ connection(first: 8) { total } }") == 1


def test_mutations_start_at_ten_and_arguments_add_their_weights(supergraph) -> None:
    # base 10 + Shelter 1 + input object 1 + the @cost(weight: 2) of its `notes` field
    assert cost(supergraph, 'mutation { checkIn(input: {shelterId: "a", notes: ["x"]}) { id } }') == 10 + 1 + 1 + 2
    assert cost(supergraph, 'mutation { checkIn(input: {shelterId: "a"}) { id } }', mutation_base_cost=0) == 2
    assert cost(supergraph, '{ expensive(note: "x") }') == 50 + 4
    assert cost(supergraph, "{ expensive }") == 50


def test_abstract_selections_cost_the_dearest_branch(supergraph) -> None:
    # a union costs 1 per item plus its dearest member's selections
    assert cost(supergraph, "{ places { ... on Shelter { occupancy { persons } } ... on Gauge { level } } }",
                list_size=2) == 2 * (1 + 5)
    assert cost(supergraph, "{ places { __typename } }", list_size=2) == 2


def test_fragments_and_aliases_count_each_time_they_are_asked(supergraph) -> None:
    query = """
      query { a: shelter(id: "a") { ...S } b: shelter(id: "b") { ...S } }
      fragment S on Shelter { occupancy { persons } }
    """
    assert cost(supergraph, query) == 2 * (1 + 5)


def test_skip_and_include_are_honoured(supergraph) -> None:
    query = 'query($on: Boolean!) { shelter(id: "a") { occupancy @include(if: $on) { persons } } }'
    assert cost(supergraph, query, {"on": False}) == 1
    assert cost(supergraph, query, {"on": True}) == 6
    assert cost(supergraph, '{ shelter(id: "a") { occupancy @skip(if: true) { persons } } }') == 1


def test_introspection_is_a_flat_price_per_root_field(supergraph) -> None:
    assert cost(supergraph, "{ __schema { types { name fields { name } } } }") == 100
    assert cost(supergraph, "{ a: __schema { types { name } } b: __type(name: \"Shelter\") { name } }") == 200
    assert cost(supergraph, "{ __typename }") == 0


def test_the_breakdown_names_response_paths_with_their_share(supergraph) -> None:
    result = estimate(supergraph, "{ big: shelters(limit: 50) { occupancy { persons } } one: shelter(id: \"a\") { id } }")
    assert result.total == 50 * 6 + 1
    assert result.by_path["big"] == 300
    assert result.by_path["big.occupancy"] == 250
    assert result.by_path["one"] == 1
    assert result.most_expensive(1) == [("big", 300)]
    assert "big.occupancy: 250" in describe_estimate(result)


def test_deep_reuse_is_walked_once_per_fragment_and_type(supergraph) -> None:
    # 2^20 paths if walked naively; memoised below the breakdown depth
    fragments = "\n".join(f"fragment F{i} on Shelter {{ a: hazards {{ flood }} ...F{i + 1} b: hazards {{ flood }} }}"
                          for i in range(20)) + "\nfragment F20 on Shelter { id }"
    query = '{ shelter(id: "a") { ...F0 } }\n' + fragments
    assert cost(supergraph, query) == 1 + 20 * 2


def test_refusal_error_carries_estimate_and_limit(supergraph) -> None:
    result = estimate(supergraph, "{ shelters(limit: 1000) { occupancy { persons } } }", max_cost=1000)
    assert result.too_expensive
    error = cost_refusal_error(result)
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"]["estimated"] == 6000
    assert error["extensions"]["cost"]["max"] == 1000
    assert error["extensions"]["cost"]["mostExpensive"][0] == {"path": "shelters", "cost": 6000}
    assert cost_extensions(result, actual=12) == {"cost": {"estimated": 6000, "max": 1000, "actual": 12}}
    assert not estimate(supergraph, "{ shelters(limit: 100) { id } }", max_cost=100).too_expensive
