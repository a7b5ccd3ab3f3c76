"""Subscriptions, whatever the transport: admit, plan, open the subgraph stream, run each event.

`SubscriptionService.open(request, state, pipeline)` runs the same stages as a query (parse/validate,
prepare with the plugins' `operation` hooks: demand control and rate limits; authorize; plan) and
takes a slot in the limits; what the client did wrong is raised as `GraphQLRequestError` before any
event. It gives back an `OpenSubscription`, whose `run(send)` calls `send(body)` for each event
until the subgraph completes, the subgraph's stream fails (an error body, then the end), or the
token expires (an error body, then the end). Cancelling `run` (the client went away) closes the
subgraph's socket. Queries and mutations sent over a streaming transport answer with one body.

Per event the rest of the plan runs with the event as the root data (executor's
`execute_subscription_event`), with the headers a query's fetches carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncGenerator, Awaitable, Callable, Hashable

import aiohttp
import orjson
from prometheus_client import Counter, Gauge

from gateway.document import graphql_error
from gateway.executor import execute_subscription_event
from gateway.pipeline import GraphQLRequest, Pipeline, PlannedOperation, RequestContext
from gateway.planner import SubscriptionNode
from gateway.plugins.protocol import RequestState, SubgraphRequest
from gateway.subscriptions.sharing import SharedStream, follow_shared
from gateway.subscriptions.limits import SubscriptionLimits, principal_key
from gateway.subscriptions.subgraph_stream import SubgraphStreamError, open_subgraph_stream

log = logging.getLogger("kyodo.gateway.subscriptions")

Send = Callable[[dict[str, Any]], Awaitable[None]]

# extensions.code of the body that ends a subscription whose subgraph stream failed (as for a fetch)
SUBGRAPH_FAILED = "SUBREQUEST_HTTP_ERROR"
TOKEN_EXPIRED = "TOKEN_EXPIRED"
# the codes of a last body that ends the stream itself (not one event's execution)
STREAM_ENDING_CODES = frozenset({SUBGRAPH_FAILED, TOKEN_EXPIRED, "SUBSCRIPTION_TOO_SLOW"})


class SubscriptionService:
    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway  # gateway.http.app.GatewayApp: settings, pipeline, subgraph client
        self.settings = gateway.settings.subscriptions
        self.limits = SubscriptionLimits(self.settings)
        self.session: aiohttp.ClientSession | None = None  # for subgraph streams: start() makes it
        self.shared: dict[Hashable, SharedStream] = {}  # identical subscriptions' one stream (sharing.py)
        registry = gateway.metrics.registry
        self.active = Gauge("kyodo_gateway_subscriptions_active", "Subscriptions open now", ["transport"],
                            registry=registry)
        self.events = Counter("kyodo_gateway_subscription_events", "Subscription events delivered to clients",
                              ["transport"], registry=registry)

    def start(self, http_client: Any) -> None:
        """The session for subgraph streams (in the app's lifespan, so it belongs to the serving loop).
        Its own: a stream holds its connection for as long as the subscription lives, so streams must not
        take the query fetches' pooled connections (nor be bounded by their per-host cap); `max_total`
        bounds them instead."""
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=None, connect=http_client.connect_timeout_seconds,
                                        sock_connect=http_client.connect_timeout_seconds)
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             cookie_jar=aiohttp.DummyCookieJar())

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def open(self, request: GraphQLRequest, state: RequestState, pipeline: Pipeline | None = None, *,
                   transport: str, expires_at: float | None = None) -> OpenSubscription:
        """Admit and plan one subscription (or a query/mutation sent on a streaming transport)."""
        gateway = self.gateway
        key = principal_key(state.principal, state.client)
        self.limits.acquire(key)
        try:
            context = RequestContext(fetcher=gateway._fetcher(state), principal=state.principal,
                                     http_method=state.method, state=state)
            pipeline = pipeline or gateway.pipeline
            planned = await pipeline.plan_operation(request, context, streaming=True)
        except BaseException:
            self.limits.release(key)
            raise
        return OpenSubscription(self, key, planned, context, pipeline, transport, expires_at)


class OpenSubscription:
    def __init__(self, service: SubscriptionService, key: str, planned: PlannedOperation | dict[str, Any],
                 context: RequestContext, pipeline: Pipeline, transport: str, expires_at: float | None) -> None:
        self.service = service
        self.pipeline = pipeline  # the one that planned it (a contract's, on a contract's path)
        self.key = key
        self.planned = planned
        self.context = context
        self.transport = transport
        self.expires_at = expires_at
        self._released = False

    async def run(self, send: Send) -> None:
        """Deliver every event through `send`; returns when the subscription is over."""
        service = self.service
        gauge = service.active.labels(self.transport)
        delivered = service.events.labels(self.transport)
        gauge.inc()
        try:
            if isinstance(self.planned, dict):  # every root field refused: that answer, once
                await send(self.planned)
                return
            if not isinstance(self.planned.plan.node, SubscriptionNode):  # a query or mutation
                await send(await self.pipeline.execute(self.planned, self.context))
                return
            remaining = None if self.expires_at is None else self.expires_at - time.time()
            if remaining is not None and remaining <= 0:
                await send(_expired())
                return
            expired = False
            async with contextlib.aclosing(self._shared_events() if service.settings.deduplicate
                                           else self._events()) as events:
                try:
                    async with asyncio.timeout(remaining):
                        async for body in events:
                            await send(body)
                            delivered.inc()
                except TimeoutError:
                    expired = True
            if expired:
                await send(_expired())
        finally:
            gauge.dec()
            self.release()

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.service.limits.release(self.key)

    def _shared_events(self) -> AsyncGenerator[dict[str, Any], None]:
        """The events of an identical subscription already running, or of a new one (sharing.py): the
        same plan, the same variable values, the same caller."""
        assert isinstance(self.planned, PlannedOperation)
        variables = orjson.dumps(self.planned.prepared.raw_variables, option=orjson.OPT_SORT_KEYS)
        key = (id(self.planned.plan), variables, self.context.principal)
        return follow_shared(self.service.shared, key, self._events)

    async def _events(self) -> AsyncGenerator[dict[str, Any], None]:
        assert isinstance(self.planned, PlannedOperation)
        planned = self.planned
        node = planned.plan.node
        assert isinstance(node, SubscriptionNode)
        gateway = self.service.gateway
        primary = node.primary
        subgraph_name = gateway.names.get(primary.subgraph, primary.subgraph)
        raw = planned.prepared.raw_variables
        variables = {v: raw[v] for v in primary.variable_usages if v in raw}
        headers = await self._headers(subgraph_name, primary.operation, variables)
        session = self.service.session
        assert session is not None, "the app's lifespan has not started"
        value_completion = gateway.settings.value_completion
        stream = open_subgraph_stream(session, gateway.urls[primary.subgraph], primary.operation, variables, headers,
                                      ack_timeout=self.service.settings.subgraph_ack_timeout_seconds)
        async with contextlib.aclosing(stream):
            try:
                async for event in stream:
                    result = await execute_subscription_event(planned.plan, gateway.supergraph, planned.prepared,
                                                              self.context.fetcher, event,
                                                              value_completion=value_completion)
                    yield planned.answer(result)
            except SubgraphStreamError as error:
                log.info("subscription to subgraph %s ended: %s", subgraph_name, error.reason)
                errors = [graphql_error(f'Subscription to subgraph "{subgraph_name}" ended: {error.reason}',
                                        SUBGRAPH_FAILED, service=subgraph_name)]
                for refused in error.errors:  # what the subgraph said, attributed to it
                    extensions = dict(refused.get("extensions") or {})
                    extensions.setdefault("service", subgraph_name)
                    errors.append({**refused, "extensions": extensions})
                yield {"data": None, "errors": errors}

    async def _headers(self, subgraph: str, query: str, variables: dict[str, Any]) -> dict[str, str]:
        """The headers a fetch to this subgraph would carry: the plugins' subgraph_request hooks decide."""
        state = self.context.state
        assert state is not None
        event = SubgraphRequest(state, subgraph, query, variables or None, None)
        for hook in self.service.gateway.hooks.subgraph_request:
            await hook(event)
        return dict(event.headers)


def _expired() -> dict[str, Any]:
    return {"data": None, "errors": [graphql_error(
        "The access token this subscription was opened with has expired; subscribe again with a fresh token.",
        TOKEN_EXPIRED)]}
