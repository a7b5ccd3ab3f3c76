"""Serving contracts: one pipeline per contract (its own document cache, so validation and introspection
see only the contract's schema; same planner, executor, authorizer and plugins), and the routes

    /contracts/<name>/graphql          GraphQL over HTTP against the contract's schema
    /contracts/<name>/schema.graphql   the contract's SDL (what a vendor builds against)
    /schema.graphql                    the full API schema's SDL, only when `introspection = true`
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from graphql import GraphQLSchema, print_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.contracts.filter import ContractError, contract_supergraph
from gateway.pipeline import Pipeline
from gateway.settings import SettingsError

SDL_MEDIA_TYPE = "text/plain; charset=utf-8"   # readable in a browser; `curl -o schema.graphql` works


def contract_pipelines(base: Pipeline) -> dict[str, Pipeline]:
    pipelines = {}
    for name, contract in base.settings.contracts.items():
        try:
            supergraph = contract_supergraph(base.supergraph, contract.include, contract.exclude)
        except ContractError as error:
            raise SettingsError(f"contracts.{name}: {error}") from None
        # The base pipeline's engine entry points (tests give their own), hooks and authorizer.
        pipelines[name] = Pipeline(supergraph, base.settings, authorizer=base.authorizer,
                                   build_plan=base._build_plan, execute_plan=base._execute_plan,
                                   print_plan=base._print_plan, hooks=base.hooks)
    return pipelines


def sdl_endpoint(schema: GraphQLSchema) -> Callable[[Request], Awaitable[Response]]:
    sdl = print_schema(schema) + "\n"

    async def sdl_download(request: Request) -> Response:
        return Response(sdl, media_type=SDL_MEDIA_TYPE)

    return sdl_download


def graphql_endpoint(gateway: Any, pipeline: Pipeline) -> Callable[[Request], Awaitable[Response]]:
    async def contract_graphql(request: Request) -> Response:
        response: Response = await gateway.graphql(request, pipeline)
        return response

    return contract_graphql


def contract_routes(gateway: Any) -> list[Route]:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = []
    for name, pipeline in gateway.contracts.items():
        routes.append(Route(f"/contracts/{name}/graphql", graphql_endpoint(gateway, pipeline), methods=methods))
        routes.append(Route(f"/contracts/{name}/schema.graphql", sdl_endpoint(pipeline.supergraph.api_schema),
                            methods=["GET"]))
    if gateway.settings.introspection:
        routes.append(Route("/schema.graphql", sdl_endpoint(gateway.supergraph.api_schema), methods=["GET"]))
    return routes
