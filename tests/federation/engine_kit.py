"""Small Federation 2 subgraphs for the engine tests: exact SDL, dict data, served over real HTTP.

Each subgraph is a graphql-core schema built from its SDL plus the federation machinery
(`_Any`, `_Entity`, `Query._entities`, `Query._service`). One Starlette app serves them all at
`/<name>` on an ephemeral loopback port; it records every query it receives so tests can assert
on what the gateway actually sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp
import orjson
import uvicorn
from graphql import (
    GraphQLSchema,
    build_ast_schema,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.document import analyze_document, prepare_operation
from gateway.executor import HttpSubgraphFetcher, execute_plan
from gateway.planner import build_plan
from gateway.supergraph import Supergraph, load_supergraph
from deploy.free_port import free_port as _free_port

_FEDERATION_PRELUDE = """
scalar _Any
scalar FieldSet
type _Service { sdl: String }
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @external on FIELD_DEFINITION | OBJECT
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @override(from: String!) on FIELD_DEFINITION
directive @interfaceObject on OBJECT
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
"""

EntityResolver = Callable[[dict], dict | None]


@dataclass
class Subgraph:
    """One test subgraph: SDL, root resolvers (field -> function(args) -> value), entity resolvers."""

    name: str
    sdl: str
    root: dict[str, Callable[..., Any]] = field(default_factory=dict)
    mutation: dict[str, Callable[..., Any]] = field(default_factory=dict)
    entities: dict[str, EntityResolver] = field(default_factory=dict)
    fail: bool = False  # answer every request with HTTP 500
    received: list[dict] = field(default_factory=list)
    schema: GraphQLSchema | None = None

    def build(self) -> None:
        from graphql import GraphQLObjectType

        base = build_ast_schema(parse(_FEDERATION_PRELUDE + self.sdl + ("" if "type Query" in self.sdl
                                                                         else "type Query { _unused: Int }")))
        # interface entities resolve to their object types, which the union must list instead
        entity_types = [n for n, t in base.type_map.items()
                        if isinstance(t, GraphQLObjectType) and (n in self.entities or any(
                            i.name in self.entities for i in t.interfaces))] or ["_Placeholder"]
        extra = f"union _Entity = {' | '.join(entity_types)}\n"
        if entity_types == ["_Placeholder"]:
            extra += "type _Placeholder { _unused: Boolean }\n"
        verb = "extend type" if "type Query" in self.sdl else "type"
        extra += f"{verb} Query {{ _entities(representations: [_Any!]!): [_Entity]! _service: _Service! }}\n"
        self.schema = build_ast_schema(parse(_FEDERATION_PRELUDE + self.sdl + extra))

    def entity_calls(self) -> list[dict]:
        return [r for r in self.received if "_entities" in r["query"]]


def _root_value(sub: Subgraph, mutation: bool) -> dict:
    resolvers = sub.mutation if mutation else sub.root
    value: dict[str, Any] = {
        name: (lambda fn: (lambda _info=None, **kwargs: fn(**kwargs)))(fn) for name, fn in resolvers.items()
    }

    def entities(_info=None, representations=()):
        out = []
        for rep in representations:
            resolver = sub.entities.get(rep.get("__typename"))
            out.append(resolver(rep) if resolver is not None else None)
        return out

    value["_entities"] = entities
    value["_service"] = lambda _info=None: {"sdl": sub.sdl}
    return value


def _field_resolver(source, info, **args):
    """Dict data; a callable value is called with the field's arguments (for fields with arguments)."""
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    if callable(value):
        return value(info, **args)
    return value


def make_app(subgraphs: dict[str, Subgraph]) -> Starlette:
    async def handle(request: Request) -> Response:
        sub = subgraphs.get(request.path_params["name"])
        if sub is None:
            return Response(status_code=404)
        body = orjson.loads(await request.body())
        sub.received.append(body)
        if sub.fail:
            return Response(b"down", status_code=500)
        document = parse(body["query"])
        assert sub.schema is not None
        errors = validate(sub.schema, document)
        if errors:
            return Response(orjson.dumps({"errors": [e.formatted for e in errors]}), media_type="application/json")
        is_mutation = body["query"].lstrip().startswith("mutation")
        result = execute(sub.schema, document, root_value=_root_value(sub, is_mutation),
                         variable_values=body.get("variables"), field_resolver=_field_resolver)
        if asyncio.iscoroutine(result):
            result = await result
        payload: dict = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return Response(orjson.dumps(payload), media_type="application/json")

    return Starlette(routes=[Route("/{name}", handle, methods=["POST"])])



@contextlib.asynccontextmanager
async def serve(subgraphs: list[Subgraph]):
    """Serve the subgraphs on an ephemeral loopback port; yields {name: url}."""
    by_name = {s.name: s for s in subgraphs}
    for s in subgraphs:
        s.build()
    port = _free_port()
    config = uvicorn.Config(make_app(by_name), host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    try:
        yield {s.name: f"http://127.0.0.1:{port}/{s.name}" for s in subgraphs}
    finally:
        server.should_exit = True
        await task


def supergraph_sdl(graphs: dict[str, str], body: str) -> str:
    """A supergraph document: the join/link machinery plus `body` (types with join__ directives).

    `graphs` maps join__Graph enum values to subgraph URLs, e.g. {"A": "http://…/a"}.
    """
    enum_values = "\n".join(f'  {g} @join__graph(name: "{g.lower()}", url: "{url}")' for g, url in graphs.items())
    return f"""
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
{{
  query: Query
  {"mutation: Mutation" if "type Mutation" in body else ""}
}}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import

enum join__Graph {{
{enum_values}
}}

enum link__Purpose {{
  SECURITY
  EXECUTION
}}
{body}
"""


class Gateway:
    """Plans and executes operations against served subgraphs, as the HTTP stage would."""

    def __init__(self, supergraph: Supergraph, session: aiohttp.ClientSession, value_completion: str = "routers") -> None:
        self.supergraph = supergraph
        self.value_completion = value_completion
        self.fetcher = HttpSubgraphFetcher(session, {k: v.url for k, v in supergraph.subgraphs.items()})

    def plan(self, query: str, operation_name: str | None = None):
        document = parse(query)
        errors = validate(self.supergraph.api_schema, document)
        assert not errors, errors
        return build_plan(self.supergraph, analyze_document(document, operation_name, query))

    async def execute(self, query: str, variables: dict | None = None, operation_name: str | None = None) -> dict:
        document = parse(query)
        errors = validate(self.supergraph.api_schema, document)
        assert not errors, errors
        analysis = analyze_document(document, operation_name, query)
        plan = build_plan(self.supergraph, analysis)
        prepared = prepare_operation(self.supergraph.api_schema, analysis, variables)
        return await execute_plan(plan, self.supergraph, prepared, self.fetcher, value_completion=self.value_completion)


@contextlib.asynccontextmanager
async def gateway_for(subgraphs: list[Subgraph], supergraph_body: str, value_completion: str = "routers"):
    """Serve the subgraphs, load a supergraph pointing at them, yield a Gateway."""
    async with serve(subgraphs) as urls:
        graphs = {s.name.upper(): urls[s.name] for s in subgraphs}
        supergraph = load_supergraph(supergraph_sdl(graphs, supergraph_body))
        async with aiohttp.ClientSession() as session:
            yield Gateway(supergraph, session, value_completion)


def plan_shape(node) -> str:
    """A plan's tree in one line, fetches named by subgraph: `Sequence{identity, Parallel{currency, safety}}`.

    Conditions read `Include($v){…}` / `Skip($v){…}`.
    """
    from gateway.planner import Condition, Fetch, Flatten, Parallel, Sequence

    if node is None:
        return "None"
    if isinstance(node, Fetch):
        return node.subgraph.lower()
    if isinstance(node, Flatten):
        return plan_shape(node.node)
    if isinstance(node, (Sequence, Parallel)):
        name = "Sequence" if isinstance(node, Sequence) else "Parallel"
        return name + "{" + ", ".join(plan_shape(n) for n in node.nodes) + "}"
    if isinstance(node, Condition):
        parts = []
        if node.if_clause is not None:
            parts.append(f"Include(${node.variable}){{{plan_shape(node.if_clause)}}}")
        if node.else_clause is not None:
            parts.append(f"Skip(${node.variable}){{{plan_shape(node.else_clause)}}}")
        return " ".join(parts)
    raise TypeError(f"not a plan node: {node!r}")
