"""Prometheus metrics of one gateway app, in a registry of its own (so several apps, e.g. in
tests, never collide in the global registry). Cache counters are read from the caches themselves
when Prometheus scrapes, so the hot path does no extra bookkeeping for them."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.document.lru import CacheStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Subgraph fetches inside one data centre: most are milliseconds.
_FETCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


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


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "kyodo_gateway_requests", "GraphQL requests answered", ["method", "status"], registry=self.registry
        )
        self.errors = Counter(
            "kyodo_gateway_request_errors",
            "GraphQL responses carrying errors, by stage: request (4xx), authentication, execution",
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
        self.registry.register(_CacheCollector(caches))

    def render(self) -> bytes:
        return generate_latest(self.registry)
