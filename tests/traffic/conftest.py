"""A small composed supergraph with every @cost / @listSize form, for the demand-control tests."""

from __future__ import annotations

import pytest

from gateway.composition import SubgraphSource, compose
from gateway.supergraph import load_supergraph

SUBGRAPH = '''
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])

type Query {
  shelter(id: ID!): Shelter
  shelters(limit: Int! = 100, offset: Int! = 0): [Shelter!]! @listSize(slicingArguments: ["limit"])
  pages(first: Int, last: Int): [Shelter!]! @listSize(slicingArguments: ["first", "last"])
  loosePages(first: Int, last: Int): [Shelter!]!
    @listSize(slicingArguments: ["first", "last"], assumedSize: 7, requireOneSlicingArgument: false)
  search(input: SearchInput!): [Shelter!]! @listSize(slicingArguments: ["input.first"])
  connection(first: Int!): ShelterConnection! @listSize(slicingArguments: ["first"], sizedFields: ["nodes"])
  tags: [String!]!
  gauges: [Gauge!]! @listSize(assumedSize: 3)
  places: [Place!]!
  expensive(note: String @cost(weight: 4)): Int @cost(weight: 50)
}

type Mutation {
  checkIn(input: CheckInInput!): Shelter
}

input SearchInput { first: Int, text: String }
input CheckInInput { shelterId: ID!, notes: [String!] @cost(weight: 2) }

type ShelterConnection { total: Int!  nodes: [Shelter!]! }

type Shelter @key(fields: "id") {
  id: ID!
  name: String!
  occupancy: Occupancy! @cost(weight: 5)
  hazards: Hazards!
}

type Occupancy { persons: Int! }
type Hazards { flood: Boolean! }

type Gauge @key(fields: "id") @cost(weight: 20) {
  id: ID!
  level: Float
}

union Place = Shelter | Gauge
'''


@pytest.fixture(scope="module")
def supergraph():
    return load_supergraph(compose([SubgraphSource("safety", "http://127.0.0.1/safety", SUBGRAPH)]))
