"""A tiny real Federation 2 subgraph (strawberry) for round trips, and its supergraph SDL.

`receivedHeaders` echoes the HTTP headers the subgraph got, so tests can check at the subgraph
itself what the gateway forwarded.
"""

from __future__ import annotations

import strawberry
import strawberry.federation
from strawberry.asgi import GraphQL
from strawberry.types import Info


@strawberry.type
class Header:
    name: str
    value: str


@strawberry.federation.type(keys=["id"])
class Thing:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: object) -> "Thing":
        return Thing(id=id, name=f"thing {id}")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def received_headers(self, info: Info) -> list[Header]:
        request = info.context["request"]
        return [Header(name=name, value=value) for name, value in request.headers.items()]

    @strawberry.field
    def thing(self, id: strawberry.ID) -> Thing | None:
        return Thing(id=id, name=f"thing {id}")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def set_greeting(self, text: str) -> str:
        return f"greeting set to {text}"


def things_app() -> GraphQL:
    schema = strawberry.federation.Schema(query=Query, mutation=Mutation)
    return GraphQL(schema, graphql_ide=None)


def things_supergraph(url: str) -> str:
    """The supergraph Apollo composition would give for this one subgraph."""
    return f'''schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{{
  query: Query
  mutation: Mutation
}}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

type Header
  @join__type(graph: THINGS)
{{
  name: String!
  value: String!
}}

scalar join__FieldSet

enum join__Graph {{
  THINGS @join__graph(name: "things", url: "{url}")
}}

scalar link__Import

enum link__Purpose {{
  SECURITY
  EXECUTION
}}

type Mutation
  @join__type(graph: THINGS)
{{
  setGreeting(text: String!): String!
}}

type Query
  @join__type(graph: THINGS)
{{
  hello(name: String! = "world"): String!
  receivedHeaders: [Header!]!
  thing(id: ID!): Thing
}}

type Thing
  @join__type(graph: THINGS, key: "id")
{{
  id: ID!
  name: String!
}}
'''
