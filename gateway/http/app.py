"""The gateway's Starlette app: GraphQL over HTTP, health, metrics, playground.

`create_app(settings, supergraph, *, authenticator=None, context_headers=None, authorizer=None)`

Every answer to a GraphQL request is a GraphQL response body: request errors get 4xx with
`errors`, a refused token gets 401 with `WWW-Authenticate`, and an unexpected exception is logged
and answered with a GraphQL error, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from auth.errors import AuthenticationError
from gateway.document import GraphQLRequestError, graphql_error
from gateway.http.csrf import CSRF_MESSAGE, is_preflighted
from gateway.http.fetching import (
    ContextHeaders,
    MeteredFetcher,
    create_client_session,
    subgraph_names,
    subgraph_urls,
)
from gateway.http.headers import StripKyodoHeaders
from gateway.http.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.http.metrics import GatewayMetrics
from gateway.http.negotiation import prefers_html, response_media_type
from gateway.http.playground.assets import assets_dir, missing_assets
from gateway.http.playground.page import STATIC_PREFIX, missing_assets_html, playground_html
from gateway.http.request_reader import read_body, request_from_json_body, request_from_query_string
from gateway.http.telemetry import GatewayTelemetry
from gateway.pipeline import Authorizer, GraphQLRequest, Pipeline, RequestContext
from gateway.settings import Settings

log = logging.getLogger("kyodo.gateway.http")

Authenticator = Callable[[Request], Awaitable[Any]]  # -> Principal | None; raises AuthenticationError

GRAPHQL_PATHS = ("/", "/graphql")
EXPOSE_PLAN_HEADER = "apollo-expose-query-plan"


class GatewayApp:
    """The state one app holds: pipeline, metrics, the pooled session (set in the lifespan)."""

    def __init__(
        self,
        settings: Settings,
        supergraph: Any,
        *,
        authenticator: Authenticator | None,
        context_headers: ContextHeaders | None,
        authorizer: Authorizer | None,
        pipeline: Pipeline | None = None,
        telemetry: GatewayTelemetry | None = None,
    ) -> None:
        self.settings = settings
        self.supergraph = supergraph
        self.authenticator = authenticator
        self.context_headers = context_headers
        self.telemetry = telemetry or GatewayTelemetry(settings.telemetry)
        self.pipeline = pipeline or Pipeline(supergraph, settings, **self.telemetry.pipeline_options(authorizer))
        self.telemetry.instrument_documents(self.pipeline.documents)
        self.metrics = GatewayMetrics()
        self.metrics.watch_caches(
            {"documents": self.pipeline.documents.stats, "plans": self.pipeline.plan_cache_stats}
        )
        self.urls = subgraph_urls(supergraph, settings)
        self.names = subgraph_names(supergraph)
        self.session: Any = None
        # bounds the GraphQL requests run at once (settings.runtime.max_concurrent_requests)
        self.admission: Any = contextlib.nullcontext()
        self.fetcher_class: Any = None
        self.assets = assets_dir(settings.playground_assets_dir)
        self.closers: list[Callable[[], Awaitable[Any]]] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.session = create_client_session(self.settings.http_client)
        limit = self.settings.runtime.max_concurrent_requests
        # Created here so it belongs to the serving loop.
        self.admission = asyncio.Semaphore(limit) if limit > 0 else contextlib.nullcontext()
        try:
            yield
        finally:
            await self.session.close()
            for close in self.closers:
                try:
                    await close()
                except Exception:
                    log.exception("closing %r failed", close)

    # -- GraphQL endpoint -------------------------------------------------------------------------

    async def graphql(self, request: Request) -> Response:
        started = time.perf_counter()
        record = self.telemetry.begin(request.headers)
        media_type = response_media_type(request.headers.get("accept"))
        try:
            response = await self._graphql(request, media_type)
        except Exception:
            # Last resort: the stages answer every expected failure themselves.
            log.exception("unhandled error answering %s %s", request.method, request.url.path)
            self.metrics.errors.labels("internal").inc()
            response = self._errors(
                [graphql_error("Internal server error.", "INTERNAL_SERVER_ERROR")], 500, media_type
            )
        self.metrics.requests.labels(request.method, str(response.status_code)).inc()
        self.metrics.request_seconds.observe(time.perf_counter() - started)
        self.telemetry.finish(record, response)
        return response

    async def _graphql(self, request: Request, media_type: str) -> Response:
        method = request.method
        if method == "GET" and "query" not in request.query_params and prefers_html(request.headers.get("accept")):
            if self.settings.playground:
                return self.playground(request)
        if method not in ("GET", "POST"):
            return self._errors(
                [graphql_error(f"{method} is not supported; use GET or POST.", "METHOD_NOT_ALLOWED")],
                405, media_type, {"Allow": "GET, POST"},
            )
        try:
            csrf = self.settings.csrf
            if csrf.enabled and not is_preflighted(request.headers, csrf.required_headers):
                raise GraphQLRequestError.single(
                    CSRF_MESSAGE.format(headers=", ".join(csrf.required_headers)), "CSRF_PREVENTED"
                )
            graphql_request = await self._read(request)
            self.telemetry.note_request(graphql_request.operation_name)
            principal = await self.authenticator(request) if self.authenticator else None
            context = RequestContext(
                fetcher=self._fetcher(principal),
                principal=principal,
                http_method=method,
                expose_plan=self.settings.expose_query_plan
                and request.headers.get(EXPOSE_PLAN_HEADER, "").strip().lower() == "true",
            )
            async with self.admission:
                body = await self.pipeline.run(graphql_request, context)
        except AuthenticationError as error:
            self.metrics.errors.labels("authentication").inc()
            return self._errors(
                [error.to_graphql_error()], error.status, media_type, {"WWW-Authenticate": error.www_authenticate}
            )
        except GraphQLRequestError as error:
            self.metrics.errors.labels("request").inc()
            return self._errors(error.errors, error.status, media_type, error.headers)
        if body.get("errors"):
            self.metrics.errors.labels("execution").inc()
        return Response(orjson.dumps(body), 200, media_type=media_type)

    async def _read(self, request: Request) -> GraphQLRequest:
        if request.method == "GET":
            return request_from_query_string(request.query_params)
        body = await read_body(request, self.settings.limits.max_body_bytes)
        return request_from_json_body(body, request.headers.get("content-type"))

    def _fetcher(self, principal: Any) -> Any:
        if self.session is None:
            raise RuntimeError("the app's lifespan has not started: no subgraph session")
        if self.fetcher_class is None:
            from gateway.executor import HttpSubgraphFetcher

            self.fetcher_class = HttpSubgraphFetcher
        context_headers = self.context_headers
        names = self.names
        telemetry = self.telemetry

        def headers_for(subgraph: str) -> dict[str, str]:
            headers = telemetry.subgraph_headers()  # x-request-id, traceparent
            if context_headers is not None:
                headers.update(context_headers(principal, names.get(subgraph, subgraph)))
            return headers

        fetcher = MeteredFetcher(self.fetcher_class(self.session, self.urls, headers_for), self.metrics)
        return telemetry.wrap_fetcher(fetcher, names)

    @staticmethod
    def _errors(errors: list[dict], status: int, media_type: str, headers: dict[str, str] | None = None) -> Response:
        return Response(orjson.dumps({"errors": errors}), status, headers=headers or None, media_type=media_type)

    # -- other endpoints --------------------------------------------------------------------------

    def playground(self, request: Request) -> Response:
        if missing_assets(self.assets):
            return HTMLResponse(missing_assets_html("python -m gateway.http.playground.fetch_assets"), 503)
        return HTMLResponse(playground_html(request.url.path))

    async def health(self, request: Request) -> Response:
        return Response(orjson.dumps({"status": "UP"}), media_type="application/json")

    async def metrics_endpoint(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=METRICS_CONTENT_TYPE)


async def _last_resort(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    body = {"errors": [graphql_error("Internal server error.", "INTERNAL_SERVER_ERROR")]}
    return Response(orjson.dumps(body), 500, media_type="application/json")


def create_app(
    settings: Settings,
    supergraph: Any,
    *,
    authenticator: Authenticator | None = None,
    context_headers: ContextHeaders | None = None,
    authorizer: Authorizer | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    on_close: Sequence[Callable[[], Awaitable[Any]]] = (),
    telemetry: GatewayTelemetry | None = None,
) -> Starlette:
    """`extra_routes` (e.g. the context-token JWKS) are served beside GraphQL; `on_close`
    callbacks run when the app shuts down (e.g. closing the authenticator's JWKS session);
    `telemetry` replaces the one built from `settings.telemetry` (tests give an in-memory exporter)."""
    gateway = GatewayApp(
        settings, supergraph, authenticator=authenticator, context_headers=context_headers, authorizer=authorizer,
        telemetry=telemetry,
    )
    gateway.closers.extend(on_close)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes: list[Any] = [Route(path, gateway.graphql, methods=methods) for path in GRAPHQL_PATHS]
    routes += [
        Route("/health", gateway.health, methods=["GET"]),
        Route("/healthcheck", gateway.health, methods=["GET"]),
        Route("/metrics", gateway.metrics_endpoint, methods=["GET"]),
        *extra_routes,
    ]
    if settings.playground and gateway.assets.is_dir():
        routes.append(Mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=gateway.assets)))
    app = Starlette(routes=routes, lifespan=gateway.lifespan, exception_handlers={Exception: _last_resort})
    app.state.gateway = gateway
    # Client-sent kyodo-* headers are dropped before anything (authenticator included) sees them.
    app.add_middleware(StripKyodoHeaders)
    gateway.telemetry.install(app)  # tracing on: the server span wraps everything
    return app
