"""Talking to subgraphs: the pooled aiohttp session, the URL map, the per-request fetcher.

One ClientSession per app (created in the lifespan) keeps connections alive across requests.
Subgraphs receive no client header at all: only the `context_headers(principal, subgraph)`
result (the signed Kyodo-Context token) is added to each fetch.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import aiohttp
import orjson

from gateway.http.metrics import GatewayMetrics
from gateway.pipeline import SubgraphFetcher
from gateway.settings import HttpClientSettings, Settings

# context_headers(principal, subgraph_name) -> headers added to that subgraph's fetches
ContextHeaders = Callable[[Any, str], Mapping[str, str]]


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


class MeteredFetcher:
    """Wraps a fetcher to time each subgraph fetch for /metrics."""

    def __init__(self, inner: SubgraphFetcher, metrics: GatewayMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def fetch(self, subgraph: str, query: str, variables: dict | None, operation_name: str | None) -> dict:
        started = time.perf_counter()
        try:
            return await self.inner.fetch(subgraph, query, variables, operation_name)
        except BaseException:
            self.metrics.fetch_errors.labels(subgraph).inc()
            raise
        finally:
            self.metrics.fetch_seconds.labels(subgraph).observe(time.perf_counter() - started)
