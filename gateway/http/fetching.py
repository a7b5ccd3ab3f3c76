"""Talking to subgraphs: a pooled aiohttp session and a circuit breaker per subgraph, the per-request fetcher.

One ClientSession per subgraph (created in the lifespan) keeps connections alive across requests, with that
subgraph's pool size and timeouts (`[http_client]`, overridden by `[subgraphs.<name>]`). Each fetch is sent
what is left of the client request's time budget.
Subgraphs receive no client header at all: only what plugins add in `subgraph_request` (the signed
Kyodo-Context token, the request id, `traceparent`, an operator plugin's header).
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Iterable, Mapping

import aiohttp
import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.executor import DEADLINE_HEADER, BreakerSettings, CircuitBreaker, HttpSubgraphFetcher, SubgraphRoute
from gateway.executor.circuit_breaker import STATE_VALUES
from gateway.plugins.protocol import Hooks, RequestState, SubgraphRequest, SubgraphResponse
from gateway.settings import HttpClientSettings, Settings, SettingsError
from gateway.traffic.coalescing import SingleFlight, fetch_key


# Headers that differ per client request but never change a subgraph's answer: left out of the key that
# decides whether two fetches are the same (the context token and any operator header stay in it).
PER_REQUEST_HEADERS = frozenset({"x-request-id", "traceparent", "tracestate", "baggage", DEADLINE_HEADER})


def create_client_session(settings: HttpClientSettings) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=settings.max_connections,
        limit_per_host=settings.max_connections_per_host,
        keepalive_timeout=settings.keepalive_seconds,
        ttl_dns_cache=300,
    )
    timeout = aiohttp.ClientTimeout(
        total=settings.request_timeout_seconds,
        connect=settings.connect_timeout_seconds,
        sock_connect=settings.connect_timeout_seconds,
        sock_read=settings.read_timeout_seconds or None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        json_serialize=lambda value: orjson.dumps(value).decode(),
        # Subgraphs need no cookies from each other, and a shared jar would leak between clients.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def subgraph_urls(supergraph: Any, settings: Settings) -> dict[str, str]:
    """URL per subgraph, under both its join__Graph enum name and its declared name (the planner
    may use either), with the settings' overrides (keyed by either name) applied."""
    urls: dict[str, str] = {}
    for graph, info in supergraph.subgraphs.items():
        override = settings.subgraphs.get(graph) or settings.subgraphs.get(info.name)
        url = override.url if override and override.url else info.url
        urls[graph] = url
        urls.setdefault(info.name, url)
    return urls


def subgraph_names(supergraph: Any) -> dict[str, str]:
    """join__Graph enum name or declared name -> declared subgraph name."""
    names = {info.name: info.name for info in supergraph.subgraphs.values()}
    names.update({graph: info.name for graph, info in supergraph.subgraphs.items()})
    return names


def check_subgraph_settings(supergraph: Any, settings: Settings) -> None:
    """A `[subgraphs.<name>]` table naming no subgraph of the supergraph is a typo that would silently leave a
    subgraph on the defaults: refuse to start (one line)."""
    known = subgraph_names(supergraph)
    for name in settings.subgraphs:
        if name not in known:
            choices = ", ".join(sorted(set(known.values())))
            raise SettingsError(f"subgraphs.{name}: no subgraph of that name in the supergraph (it has: {choices})")


def subgraph_client_settings(supergraph: Any, settings: Settings) -> dict[str, HttpClientSettings]:
    """Declared subgraph name -> its client settings (`[http_client]` with its `[subgraphs.<name>]` applied)."""
    return {info.name: settings.subgraph_client(info.name, graph) for graph, info in supergraph.subgraphs.items()}


class SubgraphConnections:
    """Per subgraph: a circuit breaker (made with the app, so its state outlives nothing but the process) and,
    once `open()` runs in the serving loop, a pooled session. `routes` maps both of a subgraph's names."""

    def __init__(self, supergraph: Any, settings: Settings) -> None:
        check_subgraph_settings(supergraph, settings)
        self.urls = subgraph_urls(supergraph, settings)
        self.names = subgraph_names(supergraph)
        self.client_settings = subgraph_client_settings(supergraph, settings)
        self.breakers: dict[str, CircuitBreaker] = {}
        for name, client in self.client_settings.items():
            breaker = client.circuit_breaker
            if breaker.enabled:
                self.breakers[name] = CircuitBreaker(name, BreakerSettings(
                    breaker.failure_threshold, breaker.window_seconds, breaker.cooldown_seconds))
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.routes: dict[str, SubgraphRoute] = {}

    def open(self) -> None:
        for name, client in self.client_settings.items():
            self.sessions[name] = create_client_session(client)
        for key, name in self.names.items():
            client = self.client_settings[name]
            self.routes[key] = SubgraphRoute(self.urls[key], self.sessions[name], client.retry_closed_connections,
                                             self.breakers.get(name))

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
        self.routes.clear()


class CircuitStateCollector(Collector):
    """`kyodo_gateway_subgraph_circuit_state{subgraph}` (0 closed, 1 half-open, 2 open) and the fetches each
    circuit failed at once, read from the breakers when Prometheus scrapes."""

    def __init__(self, breakers: Mapping[str, CircuitBreaker]) -> None:
        self.breakers = breakers

    def collect(self) -> Iterable[Any]:
        state = GaugeMetricFamily("kyodo_gateway_subgraph_circuit_state",
                                  "Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open", labels=["subgraph"])
        rejected = CounterMetricFamily("kyodo_gateway_subgraph_circuit_rejected",
                                       "Subgraph fetches failed at once because the circuit was open",
                                       labels=["subgraph"])
        for name, breaker in sorted(self.breakers.items()):
            state.add_metric([name], STATE_VALUES[breaker.state])
            rejected.add_metric([name], breaker.rejected)
        return [state, rejected]


class SubgraphClient:
    """The app's way to subgraphs: one pooled session, the URL map, and the plugins' fetch hooks.

    `for_request(state)` gives the executor a fetcher for one request. Every fetch runs the plugins'
    `subgraph_request` hooks (headers to add, or an answer without the network) and, after it, their
    `subgraph_response` hooks; with neither implemented a fetch is the plain HTTP call.
    """

    def __init__(self, session: aiohttp.ClientSession | None, urls: dict[str, str], names: Mapping[str, str],
                 hooks: Hooks, flights: SingleFlight[dict] | None = None,
                 routes: Mapping[str, SubgraphRoute] | None = None) -> None:
        self.session = session
        self.urls = urls
        self.names = names
        self.routes = routes
        self.request_hooks = hooks.subgraph_request
        self.response_hooks = hooks.subgraph_response
        self.plain = HttpSubgraphFetcher(session, urls, routes=routes)
        # Identical query fetches in flight at once (same subgraph, query, variables and headers, so the
        # same caller's context token) share one HTTP request; None: every fetch is sent.
        self.flights = flights

    async def send(self, subgraph: str, query: str, variables: dict | None, operation_name: str | None,
                   headers: Mapping[str, str] | None, work: Callable[[], Awaitable[dict]]) -> dict:
        if self.flights is None:
            return await work()
        identity = "\n".join(f"{name.lower()}:{value}" for name, value in sorted(headers.items())
                             if name.lower() not in PER_REQUEST_HEADERS) if headers else None
        return await self.flights.run(fetch_key(subgraph, query, variables, operation_name, identity), work)

    def for_request(self, state: RequestState) -> RequestFetcher:
        return RequestFetcher(self, state)


class RequestFetcher:
    __slots__ = ("client", "state")

    def __init__(self, client: SubgraphClient, state: RequestState) -> None:
        self.client = client
        self.state = state

    async def fetch(self, subgraph: str, query: str, variables: dict | None, operation_name: str | None) -> dict:
        client = self.client
        self.state.subgraph_calls += 1
        deadline = self.state.deadline
        if not client.request_hooks and not client.response_hooks:
            return await client.send(subgraph, query, variables, operation_name, None,
                                     lambda: client.plain.fetch(subgraph, query, variables, operation_name,
                                                                deadline=deadline))
        event = SubgraphRequest(self.state, client.names.get(subgraph, subgraph), query, variables, operation_name)
        for hook in client.request_hooks:
            await hook(event)
        started = time.perf_counter()
        result: dict | None = None
        error: BaseException | None = None
        try:
            if event.response is not None:
                result = event.response
            else:
                headers = event.headers
                fetcher = (HttpSubgraphFetcher(client.session, client.urls, lambda _name: headers,
                                               routes=client.routes) if headers else client.plain)
                result = await client.send(subgraph, event.query, event.variables, event.operation_name, headers,
                                           lambda: fetcher.fetch(subgraph, event.query, event.variables,
                                                                 event.operation_name, deadline=deadline))
            return result
        except BaseException as failure:
            error = failure
            raise
        finally:
            if client.response_hooks:
                done = SubgraphResponse(event, result, error, time.perf_counter() - started)
                for hook in client.response_hooks:
                    await hook(done)
