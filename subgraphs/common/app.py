"""The HTTP shell every subgraph shares: Starlette serving a strawberry federation schema at /graphql.

    def create_app() -> Starlette:
        return create_subgraph_app("identity", schema)

`/graphql` takes POST (and GET for queries); resolvers see a `RequestContext` as `info.context`.
It also takes WebSocket connections speaking graphql-transport-ws, for subscriptions only (`subscriptions`).
`/health` answers {"status": "ok"} once the database is reachable, 503 otherwise.
Errors are logged by `error_logging`: client errors as one INFO line, unexpected ones with their traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from cross_web import HTTPException
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from auth.resource_server import TrustedIssuer
from subgraphs.common.audit_keys import current_keys, is_production
from subgraphs.common.context import RequestContext, request_context
from subgraphs.common.db import Database
from subgraphs.common.error_logging import install_error_logging
from subgraphs.common.errors import AuditUnavailable
from subgraphs.common.event_backends import make_broker
from subgraphs.common.load_shedding import LoadShedding
from subgraphs.common.sandbox import Sandbox, is_trial, mark_request
from subgraphs.common.service_callers import ServiceCallers, service_issuer_from_env
from subgraphs.common.serving_settings import ServingSettings
from subgraphs.common.subscriptions import SUBSCRIPTION_PROTOCOLS, SubscriptionsOnlyHandler, refuse_bad_context
from subgraphs.common.telemetry import install_subgraph_telemetry

log = logging.getLogger("kyodo.subgraphs.app")


class SubgraphGraphQL(GraphQL):
    """strawberry's ASGI app with our context; no GraphiQL (its page loads from a CDN, useless on LGWAN)."""

    graphql_transport_ws_handler_class = SubscriptionsOnlyHandler

    def __init__(self, schema: Any, name: str, database: Database | None, keys: Any = None,
                 settings: ServingSettings | None = None, service_callers: ServiceCallers | None = None) -> None:
        settings = settings or ServingSettings()
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True,
                         subscription_protocols=SUBSCRIPTION_PROTOCOLS,
                         max_subscriptions_per_connection=settings.subscriptions_per_connection)
        self.subgraph_name = name
        self.database = database
        self.keys = keys
        self.settings = settings
        self.sandbox = Sandbox(name, database.url, self.settings) if database is not None else None
        self.service_callers = service_callers

    async def on_ws_connect(self, context):  # noqa: ANN001, ANN201 - strawberry's signature
        """graphql-transport-ws connection_init: a presented context token must verify, as for a POST."""
        refuse_bad_context(context)

    async def get_context(self, request, response):  # noqa: ANN001, ANN201 - strawberry's signature
        context = request_context(request, self.subgraph_name, database=self.database, keys=self.keys,
                                  response=response, connection_share=self.settings.request_connections,
                                  max_entities=self.settings.max_entities)
        context.extras["sandbox"] = self.sandbox   # start<Platform>Trial writes the trial there
        trial = is_trial(context.principal)
        mark_request(trial)
        if trial:
            # a trial caller's whole request runs on the sandbox: no real row is within its reach
            context.database = await self.sandbox.database() if self.sandbox is not None else None
        if self.service_callers is not None:
            context.service_principal, error = await self.service_callers.principal(
                request.headers.get("authorization"))
            if error:
                log.info("refused a direct service token on %s: %s", self.subgraph_name, error)
        return context

    async def execute_operation(self, request, request_adapter, request_data, context, root_value,  # noqa: ANN001, ANN201, PLR0917
                                sub_response):
        """Execute, then write the request's audit records in one transaction before anything is answered."""
        result = await super().execute_operation(request, request_adapter, request_data, context, root_value,
                                                 sub_response)
        if isinstance(context, RequestContext) and context.database is not None:
            try:
                await context.audit_log.flush(context.database)
            except AuditUnavailable as error:   # fail closed: unaudited personal data never leaves
                return _refused_result(result, error)
        return result

    async def execute_single(self, request, request_adapter, sub_response, context, root_value,  # noqa: ANN001, ANN201, PLR0917
                             request_data):
        """Subscriptions are served over WebSocket only: over HTTP one is a 400 (strawberry would run it once
        as if it were a query and fail on the stream it gets back)."""
        if _is_subscription(request_data.query, request_data.operation_name):
            raise HTTPException(400, "subscriptions are served over WebSocket (graphql-transport-ws) only")
        return await super().execute_single(request, request_adapter, sub_response, context, root_value,
                                            request_data)

    async def run(self, request, context=UNSET, root_value=UNSET):  # noqa: ANN001, ANN201
        """Malformed HTTP requests get a 4xx with a GraphQL error body (strawberry answers in plain text)."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            if not isinstance(request, Request):
                raise
            code = "BAD_REQUEST" if error.status_code == 400 else "NOT_FOUND" if error.status_code == 404 \
                else "METHOD_NOT_ALLOWED" if error.status_code == 405 else "BAD_REQUEST"
            return JSONResponse({"errors": [{"message": error.reason, "extensions": {"code": code}}]},
                                status_code=error.status_code)


def _is_subscription(query: Any, operation_name: str | None) -> bool:
    """Whether the operation to run is a subscription. Cheap: the text must mention one before it is parsed
    (strawberry parses it again, from its cache; a bad document is left to strawberry's own errors)."""
    if not isinstance(query, str) or "subscription" not in query:
        return False
    from graphql import GraphQLError, OperationType, parse
    from graphql.utilities import get_operation_ast

    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


def _refused_result(result: Any, error: AuditUnavailable) -> Any:
    from graphql import GraphQLError

    def refused() -> ExecutionResult:
        return ExecutionResult(data=None, errors=[GraphQLError(error.message, extensions=error.extensions)])

    return [refused() for _ in result] if isinstance(result, list) else refused()


def create_subgraph_app(name: str, schema: Any, *, database: Database | None = None, keys: Any = None,
                        database_url: str | None = None, settings: ServingSettings | None = None,
                        service_issuer: TrustedIssuer | None = None) -> Starlette:
    """A Starlette app for one subgraph. `keys`: the gateway's public keys (default `$KYODO_GATEWAY_JWKS`);
    `settings`: how much work it takes on at once (default from the environment, `serving_settings`);
    `service_issuer`: whose tokens services calling directly present (default `$KYODO_SERVICE_ISSUER`, none)."""
    settings = settings or ServingSettings.from_env()
    service_issuer = service_issuer or service_issuer_from_env()
    service_callers = ServiceCallers(service_issuer) if service_issuer else None
    if is_production():
        current_keys()   # no audit keys in production: refuse to start rather than fail at the first read
    database = database or Database.for_subgraph(name, database_url, settings=settings)
    if database.events is None:   # a database shared by several test apps keeps the broker of the first
        database.events = make_broker(name, settings, database.url)
    install_error_logging(schema)   # expected client errors: one INFO line, no traceback
    graphql_app = SubgraphGraphQL(schema, name, database, keys, settings, service_callers)

    async def health(_request: Request) -> JSONResponse:
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - report, never crash the probe
            log.warning("health check of %s failed: %s", name, error)
            return JSONResponse({"status": "unavailable", "subgraph": name}, status_code=503)
        return JSONResponse({"status": "ok", "subgraph": name})

    async def lifespan(_app: Starlette):  # noqa: ANN202
        yield
        if service_callers is not None:
            await service_callers.close()
        await database.events.close()
        await database.dispose()
        if graphql_app.sandbox is not None:
            await graphql_app.sandbox.dispose()

    app = Starlette(
        routes=[Route("/health", health), Route("/graphql", graphql_app, methods=["GET", "POST"]),
                WebSocketRoute("/graphql", graphql_app)],
        lifespan=_as_context_manager(lifespan),
    )
    # Inside the request log, so shed requests are logged too; outside the app, so nothing queues.
    app.add_middleware(LoadShedding, settings=settings, subgraph=name)
    install_subgraph_telemetry(app, name)  # request log; tracing when OTEL_* asks for it
    app.state.subgraph = name
    app.state.database = database
    app.state.schema = schema
    app.state.settings = settings
    app.state.events = database.events
    return app


def _as_context_manager(generator_function):  # noqa: ANN001, ANN202
    from contextlib import asynccontextmanager

    return asynccontextmanager(generator_function)
