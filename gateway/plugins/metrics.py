"""Prometheus metrics of one gateway app, in a registry of its own (so several apps, e.g. in
tests, never collide in the global registry). Cache counters are read from the caches themselves
when Prometheus scrapes, so the hot path does no extra bookkeeping for them."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.document.lru import CacheStats
from gateway.plugins.protocol import HttpResponse, SubgraphResponse

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_PATH = "/metrics"

# Subgraph fetches inside one data centre: most are milliseconds.
_FETCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# HttpResponse.outcome values counted as errors, by stage.
_ERROR_OUTCOMES = frozenset({"request", "authentication", "execution", "internal"})


class _CacheCollector(Collector):
    def __init__(self, caches: dict[str, Callable[[], CacheStats]]) -> None:
        self.caches = caches

    def collect(self) -> Iterable:
        hits = CounterMetricFamily("kyodo_gateway_cache_hits", "Cache lookups answered from the cache", labels=["cache"])
        misses = CounterMetricFamily("kyodo_gateway_cache_misses", "Cache lookups that had to compute", labels=["cache"])
        evictions = CounterMetricFamily("kyodo_gateway_cache_evictions", "Entries evicted to stay bounded", labels=["cache"])
        size = GaugeMetricFamily("kyodo_gateway_cache_entries", "Entries held now", labels=["cache"])
        for name, read in self.caches.items():
            stats = read()
            hits.add_metric([name], stats.hits)
            misses.add_metric([name], stats.misses)
            evictions.add_metric([name], stats.evictions)
            size.add_metric([name], stats.size)
        return [hits, misses, evictions, size]


class MetricsPlugin:
    name = "metrics"

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "kyodo_gateway_requests", "GraphQL requests answered", ["method", "status"], registry=self.registry
        )
        self.errors = Counter(
            "kyodo_gateway_request_errors",
            "GraphQL responses carrying errors, by stage: request (4xx), authentication, execution, internal",
            ["kind"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "kyodo_gateway_request_duration_seconds", "Time to answer a GraphQL request", registry=self.registry
        )
        self.fetch_seconds = Histogram(
            "kyodo_gateway_subgraph_fetch_duration_seconds",
            "Latency of one subgraph fetch",
            ["subgraph"],
            buckets=_FETCH_BUCKETS,
            registry=self.registry,
        )
        self.fetch_errors = Counter(
            "kyodo_gateway_subgraph_fetch_errors", "Subgraph fetches that raised", ["subgraph"], registry=self.registry
        )

    def watch_caches(self, caches: dict[str, Callable[[], CacheStats]]) -> None:
        """Read at scrape time from the caches themselves (the pipeline's documents and plans)."""
        self.registry.register(_CacheCollector(caches))

    async def subgraph_response(self, event: SubgraphResponse) -> None:
        subgraph = event.request.subgraph
        if event.error is not None:
            self.fetch_errors.labels(subgraph).inc()
        self.fetch_seconds.labels(subgraph).observe(event.seconds)

    async def http_response(self, event: HttpResponse) -> None:
        if event.outcome == "other":
            return
        self.requests.labels(event.state.method, str(event.status)).inc()
        self.request_seconds.observe(time.perf_counter() - event.state.started)
        if event.outcome in _ERROR_OUTCOMES:
            self.errors.labels(event.outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Any) -> Any:
        from starlette.responses import Response

        return Response(self.render(), media_type=CONTENT_TYPE)

    def admin_routes(self) -> list[Any]:
        """Served on the admin listener ([admin] port), and on the public port only if
        `[admin] metrics_on_public_port = true`."""
        from starlette.routing import Route

        return [Route(METRICS_PATH, self.endpoint, methods=["GET"])]
