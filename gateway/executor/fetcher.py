"""How the executor talks to subgraphs: the `SubgraphFetcher` protocol and its aiohttp implementation."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

import aiohttp
import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

from gateway.executor.circuit_breaker import CircuitBreaker

logger = logging.getLogger(__name__)

_QUERY_START = re.compile(r"\s*(\{|query\b)")

# extensions.code of the error added when a subgraph cannot be reached or answers with no GraphQL body
SUBGRAPH_FAILED = "SUBREQUEST_HTTP_ERROR"
# ... when a fetch ran out of time (its own timeout, or the request's budget): Apollo Router's code for both
TIMED_OUT = "GATEWAY_TIMEOUT"
# ... when the subgraph's circuit is open and the fetch failed at once (Hive Router's code for the same refusal)
CIRCUIT_OPEN = "SUBGRAPH_CIRCUIT_BREAKER_REJECTED"
# What is left of the client request's time budget, in whole milliseconds, sent with every fetch. Relative, not a
# timestamp, so the two hosts' clocks need not agree (as gRPC's grpc-timeout); `kyodo-*`, so the gateway strips it
# from clients (a client cannot send it through). A subgraph stops the request's work when it runs out.
DEADLINE_HEADER = "kyodo-request-timeout-ms"


# sent with every subgraph request (aiohttp copies them, so one dict serves all requests)
_BASE_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class SubgraphFetcher(Protocol):
    async def fetch(self, subgraph: str, query: str, variables: dict[str, Any] | None,
                    operation_name: str | None) -> dict[str, Any]: ...


class SubgraphRequestError(Exception):
    """A subgraph could not be reached, did not answer in time or without a GraphQL JSON body, or its circuit is
    open. `code` is the GraphQL error's extensions.code."""

    def __init__(self, subgraph: str, reason: str, code: str = SUBGRAPH_FAILED) -> None:
        super().__init__(f"{subgraph}: {reason}")
        self.subgraph = subgraph
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class SubgraphRoute:
    """How to reach one subgraph: its URL, its own pooled session (pool size and timeouts), whether a query on a
    pooled connection found closed is sent again, and its circuit breaker (None: none)."""

    url: str
    session: aiohttp.ClientSession
    retry_closed: bool = True
    breaker: CircuitBreaker | None = None


class HttpSubgraphFetcher:
    """POSTs GraphQL over pooled aiohttp sessions; bodies are (de)serialised with orjson.

    `routes` gives each subgraph its own session and breaker; a subgraph without a route is sent over `session`
    to `urls[subgraph]`. `fetch(..., deadline=t)` (a `time.monotonic()` instant) sends the subgraph what is left
    of the budget (`Kyodo-Request-Timeout-Ms`) and waits no longer than that.
    """

    def __init__(self, session: aiohttp.ClientSession | None, urls: Mapping[str, str],
                 headers_for: Callable[[str], dict[str, str]] | None = None, *,
                 routes: Mapping[str, SubgraphRoute] | None = None) -> None:
        self.session = session
        self.urls = urls
        self.headers_for = headers_for
        self.routes: Mapping[str, SubgraphRoute] = routes or {}

    def route(self, subgraph: str) -> SubgraphRoute:
        route = self.routes.get(subgraph)
        if route is not None:
            return route
        url = self.urls.get(subgraph)
        if not url or self.session is None:
            raise SubgraphRequestError(subgraph, "no URL configured")
        return SubgraphRoute(url, self.session)

    async def fetch(self, subgraph: str, query: str, variables: dict[str, Any] | None,
                    operation_name: str | None, *, deadline: float | None = None) -> dict[str, Any]:
        route = self.route(subgraph)
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        if operation_name:
            payload["operationName"] = operation_name
        headers = _BASE_HEADERS
        if self.headers_for is not None:
            extra = self.headers_for(subgraph)
            if extra:
                headers = {**_BASE_HEADERS, **extra}
        timeout: aiohttp.ClientTimeout | None = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SubgraphRequestError(subgraph, "the request's time budget is spent", TIMED_OUT)
            headers = {**headers, DEADLINE_HEADER: str(max(1, int(remaining * 1000)))}
            timeout = _within(route.session.timeout, remaining)
        breaker = route.breaker
        permit = None
        if breaker is not None:
            permit = breaker.acquire()
            if permit is None:
                raise SubgraphRequestError(
                    subgraph, f"circuit open after repeated failures; next try in {breaker.retry_after():.1f} s",
                    CIRCUIT_OPEN)
        outcome = "abandoned"
        cause = ""
        try:
            status, body = await self._post(subgraph, route, query, operation_name, orjson.dumps(payload), headers,
                                            timeout)
            if status >= 500:
                outcome, cause = "failed", f"HTTP {status}"
            else:
                outcome = "succeeded"
        except SubgraphRequestError as error:
            outcome, cause = "failed", error.reason
            raise
        finally:
            if breaker is not None and permit is not None:
                if outcome == "succeeded":
                    breaker.succeeded(permit)
                elif outcome == "failed":
                    breaker.failed(permit, cause)
                else:
                    breaker.abandoned(permit)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not JSON") from error
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not a GraphQL response")
        return parsed

    async def _post(self, subgraph: str, route: SubgraphRoute, query: str, operation_name: str | None, data: bytes,
                    headers: Mapping[str, str], timeout: aiohttp.ClientTimeout | None) -> tuple[int, bytes]:
        retry = route.retry_closed and _is_query(query)
        while True:
            try:
                async with route.session.post(route.url, data=data, headers=headers,
                                              timeout=timeout or route.session.timeout) as response:
                    return response.status, await response.read()
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                retry = retry and _closed_under_us(error)
                logger.log(logging.INFO if retry else logging.WARNING,
                           "subgraph %s fetch failed (%s at %s): %s: %s%s", subgraph,
                           _describe(query, operation_name), route.url, error.__class__.__name__, error,
                           "; retrying once on a new connection" if retry else "")
                if not retry:
                    if isinstance(error, TimeoutError):
                        raise SubgraphRequestError(subgraph, f"timed out: {error.__class__.__name__}",
                                                   TIMED_OUT) from error
                    raise SubgraphRequestError(subgraph, f"request failed: {error.__class__.__name__}") from error
                retry = False


def _within(base: aiohttp.ClientTimeout, remaining: float) -> aiohttp.ClientTimeout:
    """The session's timeouts, with the total cut to the request's remaining budget when that is shorter."""
    total = remaining if base.total is None else min(base.total, remaining)
    return aiohttp.ClientTimeout(total=total, connect=base.connect, sock_read=base.sock_read,
                                 sock_connect=base.sock_connect, ceil_threshold=base.ceil_threshold)


def _closed_under_us(error: BaseException) -> bool:
    """The connection died after it was handed to us: a pooled one the subgraph closed while idle (its close and
    our write crossed), or one dropped before any answer. Connecting (ClientConnectorError) and timeouts are not
    such errors. aiohttp does not tell us cheaply whether the connection came from the pool; for a read-only
    query one more attempt is harmless either way."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return False
    return isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                              aiohttp.ClientConnectionResetError))


def _is_query(operation: str) -> bool:
    """Only queries are retried: a mutation may have run before its connection went, so resending could run it
    twice. The planner writes the operation keyword first (or the `{` shorthand of a query)."""
    return _QUERY_START.match(operation) is not None


def _describe(operation: str, operation_name: str | None) -> str:
    """`query thing,_entities` for the log: the operation kind and root fields, never arguments or values."""
    try:
        document = parse(operation, no_location=True)
    except GraphQLError:
        return "unparsable operation"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            fields = ",".join(selection.name.value for selection in definition.selection_set.selections
                              if isinstance(selection, FieldNode))
            name = f" {operation_name}" if operation_name else ""
            return f"{definition.operation.value}{name} {fields or '(fragments)'}"
    return "no operation"
