"""The gateway's Starlette app: GraphQL over HTTP, health, playground, and the plugins' routes.

`create_app(settings, supergraph, *, authenticator=None, context_headers=None, authorizer=None, plugins=())`

Every answer to a GraphQL request is a GraphQL response body: request errors get 4xx with
`errors`, a refused token gets 401 with `WWW-Authenticate`, and an unexpected exception is logged
and answered with a GraphQL error, never a traceback.

Cross-cutting concerns are plugins (gateway/plugins): the gateway's own, chosen from the settings
(`gateway_plugins`), then the operator's `[[plugins]]`, then any given by the caller.
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
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from starlette.staticfiles import StaticFiles

from auth.errors import AuthenticationError
from gateway.document import GraphQLRequestError, graphql_error
from gateway.executor import TIMED_OUT
from gateway.http.disconnect import CancelOnDisconnect
from gateway.http.fetching import CircuitStateCollector, SubgraphClient, SubgraphConnections
from gateway.http.headers import StripKyodoHeaders
from gateway.executor.incremental import IncrementalResponse
from gateway.http.multipart import MULTIPART_MEDIA_TYPE, multipart_body
from gateway.http.negotiation import accepts_multipart, prefers_html, response_media_type
from gateway.http.playground.assets import assets_dir, missing_assets
from gateway.http.playground.page import STATIC_PREFIX, missing_assets_html, playground_html
from gateway.http.playground.sign_in import sign_in_from_environment
from gateway.http.playground_policy import playground_headers
from gateway.http.request_reader import read_body, request_from_json_body, request_from_query_string, require_query
from gateway.contracts.routes import contract_pipelines, contract_routes
from gateway.pipeline import Authorizer, GraphQLRequest, Pipeline, RequestContext
from gateway.plugins.context_token import ContextHeaders, ContextTokenPlugin
from gateway.plugins.cors import CorsPlugin
from gateway.plugins.demand_control import DemandControlPlugin
from gateway.plugins.operation_coalescing import OperationCoalescingPlugin
from gateway.plugins.rate_limits import RateLimitPlugin
from gateway.plugins.response_cache import ResponseCachePlugin
from gateway.plugins.csrf import CsrfPlugin
from gateway.plugins.loading import load_plugins
from gateway.plugins.metrics import MetricsPlugin
from gateway.plugins.protocol import Hooks, HttpResponse, RequestState
from gateway.plugins.co_use_extensions import CoUseExtensionsPlugin
from gateway.plugins.query_plan import QueryPlanPlugin
from gateway.plugins.request_id import RequestIdPlugin, request_id_from
from gateway.plugins.request_log import RequestLogPlugin
from gateway.plugins.response_headers import ResponseHeadersPlugin
from gateway.settings import Settings
from gateway.subscriptions.multipart import TRANSPORT as MULTIPART_TRANSPORT, multipart_response, \
    wants_multipart_subscription
from gateway.subscriptions.service import SubscriptionService
from gateway.subscriptions.sse import TRANSPORT as SSE_TRANSPORT, event_stream_response, wants_event_stream
from gateway.subscriptions.websocket import websocket_endpoint
from gateway.traffic.coalescing import SingleFlight

log = logging.getLogger("kyodo.gateway.http")

Authenticator = Callable[[Request], Awaitable[Any]]  # -> Principal | None; raises AuthenticationError

GRAPHQL_PATHS = ("/", "/graphql")


async def anonymous_only(request: Request) -> None:
    """The authenticator of an app given none: every caller is anonymous, and a request that
    carries credentials is refused rather than silently served as anonymous."""
    if request.headers.get("authorization") is not None:
        raise AuthenticationError("this gateway trusts no token issuer; send no Authorization header")
    return None


def gateway_plugins(settings: Settings, metrics: MetricsPlugin, *, supergraph: Any = None,
                    span_exporter: Any = None) -> list[Any]:
    """The gateway's own plugins for these settings, in hook order (the request log last, so it sees
    what the others noted). Demand control runs before the rate limit (which weighs by the estimate); the
    response cache and operation coalescing before it too (a cache hit, or a request that will follow an identical
    one in flight, is charged the minimum weight); the response cache before coalescing (a hit needs no leader)."""
    plugins: list[Any] = [RequestIdPlugin(), ResponseHeadersPlugin()]
    if settings.cors.allow_origins:
        plugins.append(CorsPlugin(settings.cors))
    if settings.csrf.enabled:
        plugins.append(CsrfPlugin(settings.csrf))
    if settings.telemetry.enabled:
        from gateway.plugins.tracing import TracingPlugin  # OpenTelemetry is imported only when tracing is on

        plugins.append(TracingPlugin(settings.telemetry, span_exporter=span_exporter))
    plugins.append(metrics)
    plugins.append(CoUseExtensionsPlugin())   # trial use is shown in every answer (issue 11 item 2)
    if supergraph is not None and settings.demand_control.enabled:
        plugins.append(DemandControlPlugin(supergraph, settings.demand_control, metrics.registry))
    if supergraph is not None and settings.response_cache.enabled:
        plugins.append(ResponseCachePlugin(supergraph, settings.response_cache, metrics.registry))
    if settings.coalescing.operations:
        plugins.append(OperationCoalescingPlugin())
    if settings.rate_limit.enabled:
        plugins.append(RateLimitPlugin(settings.rate_limit, metrics.registry))
    if settings.expose_query_plan:
        plugins.append(QueryPlanPlugin())
    if settings.persisted_documents.enabled:
        from gateway.plugins.persisted_documents import PersistedDocumentsPlugin

        plugins.append(PersistedDocumentsPlugin(settings.persisted_documents))
    if any(contract.roles for contract in settings.contracts.values()):
        from gateway.plugins.contract_roles import ContractRolesPlugin

        plugins.append(ContractRolesPlugin({name: c.roles for name, c in settings.contracts.items()}))
    return plugins


class GatewayApp:
    """The state one app holds: pipeline, plugins, the pooled session (set in the lifespan)."""

    def __init__(
        self,
        settings: Settings,
        supergraph: Any,
        *,
        authenticator: Authenticator | None,
        context_headers: ContextHeaders | None,
        authorizer: Authorizer | None,
        pipeline: Pipeline | None = None,
        plugins: Sequence[Any] = (),
        span_exporter: Any = None,
    ) -> None:
        self.settings = settings
        self.supergraph = supergraph
        self.authenticator = authenticator or anonymous_only
        self.metrics = MetricsPlugin()
        chosen = gateway_plugins(settings, self.metrics, supergraph=supergraph, span_exporter=span_exporter)
        if context_headers is not None:
            chosen.append(ContextTokenPlugin(context_headers))
        chosen += load_plugins(settings.plugins)
        chosen += plugins
        if settings.telemetry.request_log:
            chosen.append(RequestLogPlugin(settings.telemetry))
        self.plugins = chosen
        self.hooks = Hooks(chosen)
        self.pipeline = pipeline or Pipeline(supergraph, settings, authorizer=authorizer, hooks=self.hooks)
        if pipeline is not None:
            pipeline.hooks = self.hooks
        # Contract variants: a pipeline each, validating against the contract's schema (gateway/contracts).
        self.contracts = contract_pipelines(self.pipeline)
        self.metrics.watch_caches({"documents": self.pipeline.documents.stats, "plans": self.pipeline.plan_cache_stats})
        # a session and a circuit breaker per subgraph; an unknown [subgraphs.<name>] stops the app here
        self.connections = SubgraphConnections(supergraph, settings)
        self.metrics.registry.register(CircuitStateCollector(self.connections.breakers))
        self.urls = self.connections.urls
        self.names = self.connections.names
        self.subgraphs: SubgraphClient | None = None
        # bounds the GraphQL requests run at once (settings.runtime.max_concurrent_requests)
        self.admission: Any = contextlib.nullcontext()
        # requests in this process now; past settings.runtime.max_requests_in_flight new ones are shed (503)
        self.in_flight = 0
        self.fetch_flights: SingleFlight[dict] | None = SingleFlight() if settings.coalescing.subgraph_fetches else None
        self.assets = assets_dir(settings.playground_assets_dir)
        self.closers: list[Callable[[], Awaitable[Any]]] = [p.close for p in chosen if callable(getattr(p, "close", None))]
        # Turn a persisted document's id into its text before parsing (gateway/plugins/persisted_documents.py).
        self.request_resolvers = [p.resolve_request for p in chosen if callable(getattr(p, "resolve_request", None))]
        # Subscriptions over WebSocket and SSE (gateway/subscriptions); None when [subscriptions] is off.
        self.subscriptions = SubscriptionService(self) if settings.subscriptions.enabled else None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.connections.open()
        self.subgraphs = SubgraphClient(None, self.urls, self.names, self.hooks, self.fetch_flights,
                                        routes=self.connections.routes)
        if self.subscriptions is not None:
            self.subscriptions.start(self.settings.http_client)
        limit = self.settings.runtime.max_concurrent_requests
        # Created here so it belongs to the serving loop.
        self.admission = asyncio.Semaphore(limit) if limit > 0 else contextlib.nullcontext()
        try:
            yield
        finally:
            await self.connections.close()
            if self.subscriptions is not None:
                await self.subscriptions.close()
            for close in self.closers:
                try:
                    await close()
                except Exception:
                    log.exception("closing %r failed", close)

    # -- GraphQL endpoint -------------------------------------------------------------------------

    async def graphql(self, request: Request, pipeline: Pipeline | None = None) -> Response:
        headers = request.headers
        state = RequestState(request_id_from(headers), request.method, request.url.path, headers, time.perf_counter(),
                             client=request.client.host if request.client else None)
        budget = self.settings.runtime.request_timeout_seconds
        if budget:
            state.deadline = time.monotonic() + budget
        media_type = response_media_type(headers.get("accept"))
        try:
            response, outcome = await self._graphql(request, state, media_type, pipeline or self.pipeline)
        except Exception:
            # Last resort: the stages answer every expected failure themselves.
            log.exception("unhandled error answering %s %s", request.method, request.url.path)
            response = self._errors([graphql_error("Internal server error.", "INTERNAL_SERVER_ERROR")], 500, media_type)
            outcome = "internal"
        if self.hooks.http_response:
            event = HttpResponse(state, response.status_code, response.headers, outcome)
            for hook in self.hooks.http_response:
                await hook(event)
        return response

    async def _graphql(self, request: Request, state: RequestState, media_type: str,
                       pipeline: Pipeline) -> tuple[Response, str]:
        method = request.method
        if method == "GET" and "query" not in request.query_params and prefers_html(request.headers.get("accept")):
            if self.settings.playground:
                return self.playground(request), "other"
        if method not in ("GET", "POST"):
            return self._errors(
                [graphql_error(f"{method} is not supported; use GET or POST.", "METHOD_NOT_ALLOWED")],
                405, media_type, {"Allow": "GET, POST"},
            ), "request"
        try:
            for hook in self.hooks.http_request:
                await hook(state)
            graphql_request = await self._read(request)
            for resolve in self.request_resolvers:
                graphql_request = await resolve(graphql_request, state)
            require_query(graphql_request)
            state.operation_name = graphql_request.operation_name
            principal = await self.authenticator(request)
            state.principal = principal
            if self.subscriptions is not None:
                accept = request.headers.get("accept")
                chosen = self.settings.subscriptions
                if chosen.sse and wants_event_stream(accept):
                    return await self._event_stream(request, graphql_request, state, pipeline, SSE_TRANSPORT), "data"
                if chosen.multipart and wants_multipart_subscription(accept):
                    return await self._event_stream(request, graphql_request, state, pipeline,
                                                    MULTIPART_TRANSPORT), "data"
            context = RequestContext(
                fetcher=self._fetcher(state), principal=principal, http_method=method, state=state,
                accepts_multipart=accepts_multipart(request.headers.get("accept")),
            )
            limit = self.settings.runtime.max_requests_in_flight
            if limit and self.in_flight >= limit:
                # Shed at once rather than queue: a client retrying later beats every client timing out.
                retry = str(self.settings.runtime.shed_retry_after_seconds)
                raise GraphQLRequestError.single("The gateway is busy; try again shortly.", "SERVICE_UNAVAILABLE",
                                                 status=503, headers={"Retry-After": retry})
            self.in_flight += 1
            try:
                body = await self._run_within_budget(pipeline, graphql_request, context, state)
            finally:
                self.in_flight -= 1
        except AuthenticationError as error:
            return self._errors(
                [error.to_graphql_error()], error.status, media_type, {"WWW-Authenticate": error.www_authenticate}
            ), "authentication"
        except GraphQLRequestError as error:
            return self._errors(error.errors, error.status, media_type, error.headers), (
                "internal" if error.status >= 500 else "request"
            )
        outcome = "execution" if body.get("errors") else "data"
        if isinstance(body, IncrementalResponse):
            # @defer: the parts follow as they complete (gateway/http/multipart.py); never cached
            return StreamingResponse(multipart_body(body), 200, headers={"Cache-Control": "no-store"},
                                     media_type=MULTIPART_MEDIA_TYPE), outcome
        return Response(orjson.dumps(body), 200, media_type=media_type), outcome

    async def _run_within_budget(self, pipeline: Pipeline, graphql_request: GraphQLRequest, context: RequestContext,
                                 state: RequestState) -> dict[str, Any]:
        """Run the request (waiting for a slot included) until its deadline; past it, every fetch still in flight
        is cancelled (the subgraphs see the connection close and stop) and the answer is 504 GATEWAY_TIMEOUT,
        as Apollo Router answers when its router timeout fires."""
        if state.deadline is None:
            async with self.admission:
                return await pipeline.run(graphql_request, context)
        budget = asyncio.timeout(state.deadline - time.monotonic())
        try:
            async with budget:
                async with self.admission:
                    return await pipeline.run(graphql_request, context)
        except TimeoutError:
            if not budget.expired():
                raise
            seconds = self.settings.runtime.request_timeout_seconds
            log.warning("request %s ran past its %g s budget; its subgraph fetches were cancelled",
                        state.request_id, seconds)
            raise GraphQLRequestError.single(f"Request timed out after {seconds:g} s.", TIMED_OUT, status=504) from None

    async def _event_stream(self, request: Request, graphql_request: GraphQLRequest, state: RequestState,
                            pipeline: Pipeline, transport: str) -> Response:
        """A subscription streamed in an HTTP response (gateway/subscriptions/sse.py, multipart.py):
        admitted here, streamed by the response."""
        from gateway.subscriptions.credentials import token_expiry

        assert self.subscriptions is not None
        expires_at = token_expiry(request.headers.get("authorization")) if state.principal is not None else None
        subscription = await self.subscriptions.open(graphql_request, state, pipeline, transport=transport,
                                                     expires_at=expires_at)
        if transport == MULTIPART_TRANSPORT:
            return multipart_response(subscription, self.settings.subscriptions.multipart_heartbeat_seconds)
        return event_stream_response(subscription, self.settings.subscriptions.sse_keepalive_seconds)

    async def websocket(self, websocket: WebSocket) -> None:
        await websocket_endpoint(self, websocket)

    async def _read(self, request: Request) -> GraphQLRequest:
        if request.method == "GET":
            return request_from_query_string(request.query_params)
        body = await read_body(request, self.settings.limits.max_body_bytes)
        return request_from_json_body(body, request.headers.get("content-type"))

    def _fetcher(self, state: RequestState) -> Any:
        if self.subgraphs is None:
            raise RuntimeError("the app's lifespan has not started: no subgraph session")
        return self.subgraphs.for_request(state)

    @staticmethod
    def _errors(errors: list[dict], status: int, media_type: str, headers: dict[str, str] | None = None) -> Response:
        return Response(orjson.dumps({"errors": errors}), status, headers=headers or None, media_type=media_type)

    # -- other endpoints --------------------------------------------------------------------------

    def playground(self, request: Request) -> Response:
        if missing_assets(self.assets):
            page = missing_assets_html("python -m gateway.http.playground.fetch_assets")
            return HTMLResponse(page, 503, headers=playground_headers(page))
        sign_in = sign_in_from_environment()
        page = playground_html(request.url.path, sign_in=sign_in)
        return HTMLResponse(page, headers=playground_headers(page, sign_in.issuer if sign_in else None))

    async def health(self, request: Request) -> Response:
        return Response(orjson.dumps({"status": "UP"}), media_type="application/json")


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
    plugins: Sequence[Any] = (),
    extra_routes: Sequence[BaseRoute] = (),
    on_close: Sequence[Callable[[], Awaitable[Any]]] = (),
    span_exporter: Any = None,
) -> Starlette:
    """`plugins` are added after the gateway's own and the operator's; `extra_routes` are served
    beside GraphQL; `on_close` callbacks run when the app shuts down; `span_exporter` replaces the
    configured trace exporter (tests give an in-memory one). Without an `authenticator` the app is
    anonymous-only: a request carrying credentials is refused with 401."""
    gateway = GatewayApp(
        settings, supergraph, authenticator=authenticator, context_headers=context_headers, authorizer=authorizer,
        plugins=plugins, span_exporter=span_exporter,
    )
    gateway.closers.extend(on_close)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes: list[Any] = [Route(path, gateway.graphql, methods=methods) for path in GRAPHQL_PATHS]
    if settings.subscriptions.enabled and settings.subscriptions.websocket:
        routes += [WebSocketRoute(path, gateway.websocket) for path in GRAPHQL_PATHS]
    health = [
        Route("/health", gateway.health, methods=["GET"]),
        Route("/healthcheck", gateway.health, methods=["GET"]),
    ]
    # Operators' endpoints (/metrics): on the admin listener, and on the public port only if asked.
    admin_routes: list[Any] = list(health)
    for plugin in gateway.plugins:
        if callable(getattr(plugin, "admin_routes", None)):
            admin_routes += plugin.admin_routes()
    routes += [*health, *extra_routes, *contract_routes(gateway)]
    if settings.admin.metrics_on_public_port:
        routes += admin_routes[len(health):]
    for plugin in gateway.plugins:
        if callable(getattr(plugin, "routes", None)):
            routes += plugin.routes()
    if settings.playground and gateway.assets.is_dir():
        routes.append(Mount(STATIC_PREFIX.rstrip("/"), StaticFiles(directory=gateway.assets)))
    app = Starlette(routes=routes, lifespan=gateway.lifespan, exception_handlers={Exception: _last_resort})
    app.state.gateway = gateway
    app.state.admin_app = Starlette(routes=admin_routes)
    # A client that goes away has its request cancelled, and with it the request's subgraph fetches.
    app.add_middleware(CancelOnDisconnect, paths=GRAPHQL_PATHS + tuple(f"/contracts/{name}/graphql" for name in gateway.contracts))
    # Client-sent kyodo-* headers are dropped before anything (authenticator included) sees them.
    app.add_middleware(StripKyodoHeaders)
    for plugin in gateway.plugins:
        if callable(getattr(plugin, "install", None)):
            plugin.install(app)  # e.g. tracing: the server span wraps everything
    return app
