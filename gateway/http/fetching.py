"""Talking to subgraphs: the pooled aiohttp session, the URL map, the per-request fetcher.

One ClientSession per app (created in the lifespan) keeps connections alive across requests.
Subgraphs receive no client header at all: only what plugins add in `subgraph_request` (the signed
Kyodo-Context token, the request id, `traceparent`, an operator plugin's header).
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Mapping

import aiohttp
import orjson

from gateway.executor import HttpSubgraphFetcher
from gateway.plugins.protocol import Hooks, RequestState, SubgraphRequest, SubgraphResponse
from gateway.settings import HttpClientSettings, Settings
from gateway.traffic.coalescing import SingleFlight, fetch_key


# Headers that differ per client request but never change a subgraph's answer: left out of the key that
# decides whether two fetches are the same (the context token and any operator header stay in it).
PER_REQUEST_HEADERS = frozenset({"x-request-id", "traceparent", "tracestate", "baggage"})


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
        url = override.url if override else info.url
        urls[graph] = url
        urls.setdefault(info.name, url)
    return urls


def subgraph_names(supergraph: Any) -> dict[str, str]:
    """join__Graph enum name or declared name -> declared subgraph name."""
    names = {info.name: info.name for info in supergraph.subgraphs.values()}
    names.update({graph: info.name for graph, info in supergraph.subgraphs.items()})
    return names


class SubgraphClient:
    """The app's way to subgraphs: one pooled session, the URL map, and the plugins' fetch hooks.

    `for_request(state)` gives the executor a fetcher for one request. Every fetch runs the plugins'
    `subgraph_request` hooks (headers to add, or an answer without the network) and, after it, their
    `subgraph_response` hooks; with neither implemented a fetch is the plain HTTP call.
    """

    def __init__(self, session: aiohttp.ClientSession, urls: dict[str, str], names: Mapping[str, str],
                 hooks: Hooks, flights: SingleFlight[dict] | None = None) -> None:
        self.session = session
        self.urls = urls
        self.names = names
        self.request_hooks = hooks.subgraph_request
        self.response_hooks = hooks.subgraph_response
        self.plain = HttpSubgraphFetcher(session, urls)
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
        if not client.request_hooks and not client.response_hooks:
            return await client.send(subgraph, query, variables, operation_name, None,
                                     lambda: client.plain.fetch(subgraph, query, variables, operation_name))
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
                fetcher = (HttpSubgraphFetcher(client.session, client.urls, lambda _name: headers) if headers
                           else client.plain)
                result = await client.send(subgraph, event.query, event.variables, event.operation_name, headers,
                                           lambda: fetcher.fetch(subgraph, event.query, event.variables,
                                                                 event.operation_name))
            return result
        except BaseException as failure:
            error = failure
            raise
        finally:
            if client.response_hooks:
                done = SubgraphResponse(event, result, error, time.perf_counter() - started)
                for hook in client.response_hooks:
                    await hook(done)
