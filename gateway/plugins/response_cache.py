"""The public response cache as a plugin (gateway/traffic/response_cache.py holds the store).

Only anonymous queries are considered: an answer given to nobody in particular cannot carry anybody's
personal data. Of those, `cache_policy` keeps the ones whose every field is hinted public (shelters,
gauges, facilities; the shortest hint wins, e.g. occupancy and river levels are short). The cache is read at
the `operation` hook (so the rate limit, next, charges a hit only `minimum_weight`); at `execution_start` a hit
answers without running the plan; after execution an answer without errors is
stored; at `http_response` the answer gets `Cache-Control: public, max-age=N` (N: what is left of its
TTL). Answers to signed-in callers are never cached and get `no-store` (response_headers.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from gateway.document.lru import LruCache
from gateway.document import may_defer
from gateway.plugins.protocol import ExecutionEvent, HttpResponse, OperationEvent, RequestState
from gateway.traffic.cache_hints import CachePolicy, cache_control_header, cache_policy
from gateway.traffic.rate_limit import CHEAP_ANSWER_NOTE
from gateway.traffic.response_cache import ResponseCacheSettings, make_response_cache, response_cache_key

NOTE = "response_cache"


class _StatsCollector(Collector):
    def __init__(self, plugin: ResponseCachePlugin) -> None:
        self.plugin = plugin

    def collect(self) -> Any:
        stats = self.plugin.cache.stats
        family = CounterMetricFamily("kyodo_gateway_response_cache", "Public response cache lookups and stores",
                                     labels=["outcome"])
        for outcome in ("hits", "misses", "stores", "skipped"):
            family.add_metric([outcome], getattr(stats, outcome))
        return [family]


def supergraph_identity(supergraph: Any) -> str:
    return hashlib.sha256(str(supergraph.sdl).encode()).hexdigest()[:32]


class ResponseCachePlugin:
    name = "response_cache"

    def __init__(self, supergraph: Any, settings: ResponseCacheSettings, registry: CollectorRegistry | None = None,
                 policy_cache_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.settings = settings
        self.cache = make_response_cache(settings)
        # The supergraph's content, not the object: every replica (and a restart) with the same supergraph
        # shares one key space in Redis, and a changed supergraph starts a new one.
        self.schema_id = supergraph_identity(supergraph)
        self.policies: LruCache[tuple[str, str | None], CachePolicy] = LruCache(policy_cache_size)
        if registry is not None:
            registry.register(_StatsCollector(self))

    def policy(self, prepared: Any) -> CachePolicy:
        key = (prepared.text, prepared.name)
        policy = self.policies.get(key)
        if policy is None:
            policy = cache_policy(self.supergraph, prepared.operation, prepared.analysis.fragments,
                                  self.settings.hint_settings)
            self.policies.put(key, policy)
        return policy

    async def operation(self, event: OperationEvent) -> None:
        state = event.state
        prepared = event.prepared
        if state.principal is not None or prepared is None or state.operation_type != "query":
            return
        if may_defer(prepared.analysis):
            return  # an answer with @defer comes in parts: never cached (and never served from the cache)
        policy = self.policy(prepared)
        if not policy.cacheable:
            return
        key = response_cache_key(self.schema_id, prepared.text, prepared.name, dict(prepared.raw_variables))
        hit = await self.cache.get(key)
        if hit is not None:
            state.notes[NOTE] = (policy, hit.remaining, None, hit.body)
            state.notes[CHEAP_ANSWER_NOTE] = self.name
        else:
            state.notes[NOTE] = (policy, None, key, None)

    async def execution_start(self, state: RequestState) -> None:
        note = state.notes.get(NOTE)
        if note is not None and note[3] is not None and state.answer is None:
            state.answer = orjson.loads(note[3])

    async def execution(self, event: ExecutionEvent) -> None:
        note = event.state.notes.get(NOTE)
        if note is None or note[2] is None or event.result is None or event.error is not None:
            return
        policy, _, key, _ = note
        await self.cache.store(key, event.result, policy.max_age)

    async def http_response(self, event: HttpResponse) -> None:
        note = event.state.notes.get(NOTE)
        if note is not None and event.status == 200 and event.outcome == "data":
            policy, remaining, _, _ = note
            event.headers["Cache-Control"] = cache_control_header(policy, remaining)

    async def close(self) -> None:
        await self.cache.close()
