"""`kyodo compose` carries @cost and @listSize into the supergraph (the cost/v0.1 link), merges differing
applications (highest weight, largest size), and the gateway's cost model reads them back."""

from __future__ import annotations

from graphql import build_ast_schema, parse

from gateway.composition import SubgraphSource, compose
from gateway.supergraph import load_supergraph
from gateway.traffic.cost_model import CostModel, cost_directive_names

HEADER = ('extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", '
          'import: ["@key", "@shareable", "@cost", "@listSize"])\n')

SAFETY = HEADER + '''
type Query {
  shelters(limit: Int! = 100): [Shelter!]! @listSize(slicingArguments: ["limit"])
  gauges: [Gauge!]! @shareable @listSize(assumedSize: 5)
}
type Shelter @key(fields: "id") { id: ID! name: String! }
type Gauge @key(fields: "id") @cost(weight: 3) { id: ID! level(unit: String @cost(weight: 2)): Float @shareable }
'''

IDENTITY = HEADER + '''
type Query {
  gauges: [Gauge!]! @shareable @listSize(assumedSize: 40, requireOneSlicingArgument: false)
}
type Shelter @key(fields: "id") { id: ID! occupancy: Int! @cost(weight: 5) }
type Gauge @key(fields: "id") @cost(weight: 7) { id: ID! level(unit: String @cost(weight: 2)): Float @shareable }
'''


def composed() -> str:
    return compose([SubgraphSource("safety", "http://s", SAFETY), SubgraphSource("identity", "http://i", IDENTITY)])


def test_the_supergraph_links_the_cost_spec_and_keeps_the_directives() -> None:
    sdl = composed()
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1"' in sdl
    assert "directive @cost(weight: Int!)" in sdl and "directive @listSize(" in sdl
    build_ast_schema(parse(sdl))


def test_differing_applications_merge_to_the_highest_weight_and_largest_size() -> None:
    model = CostModel.of(load_supergraph(composed()))
    assert model.type_weights["Gauge"] == 7
    assert model.field_weights[("Shelter", "occupancy")] == 5
    assert model.argument_weights[("Gauge", "level", "unit")] == 2
    assert model.list_sizes[("Query", "shelters")].slicing_arguments == ("limit",)
    gauges = model.list_sizes[("Query", "gauges")]
    assert gauges.assumed_size == 40
    assert gauges.require_one_slicing_argument is False  # required only if every subgraph requires it


def test_renamed_cost_directives_are_found_through_the_link() -> None:
    schema = build_ast_schema(parse('''
      schema @link(url: "https://specs.apollo.dev/link/v1.0")
             @link(url: "https://specs.apollo.dev/cost/v0.1", as: "price", import: [{name: "@listSize", as: "@size"}])
      { query: Query }
      directive @link(url: String, as: String, import: [link__Import]) repeatable on SCHEMA
      scalar link__Import
      directive @price(weight: Int!) on FIELD_DEFINITION | OBJECT
      directive @size(assumedSize: Int) on FIELD_DEFINITION
      type Query { items: [Item!]! @size(assumedSize: 3) }
      type Item @price(weight: 4) { id: ID! }
    '''))
    assert cost_directive_names(schema) == ("price", "size")
    model = CostModel.from_schema(schema)
    assert model.type_weights == {"Item": 4}
    assert model.list_sizes[("Query", "items")].assumed_size == 3
