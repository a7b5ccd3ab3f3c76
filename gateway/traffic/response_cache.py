"""A response cache for public data: whole answers of queries that read only public fields.

What may be cached, and for how long, is `cache_hints.cache_policy` (shortest hint wins; anything
personal, access-controlled or unhinted is never cached). This module stores the serialised answers:
in process by default (a TLRU map bounded in bytes, each entry with its own TTL), in Redis when
`redis_url` is set (`SET … EX`, shared by every replica; an unreachable Redis is a miss, never an
error). Only answers without errors are stored. Hits, misses and stores are counted for the metrics.

The key is the supergraph's identity (a reload starts a new key space), the document, the operation
name and the variables — never the principal: only answers that do not depend on who asks get here.

WIRING (a plugin around the execute stage, after authorization and demand control):

    policy = cache_policy(supergraph, operation, fragments, settings.response_cache.hint_settings)
    if policy.cacheable and not authorization_errors:
        key = response_cache_key(schema_id, document_text, operation_name, variables)
        hit = await cache.get(key)
        if hit is not None:
            return hit.body, {"Cache-Control": cache_control_header(policy, hit.remaining)}
        response = await execute(...)
        await cache.store(key, response, policy.max_age)              # skips answers with errors
        return response, {"Cache-Control": cache_control_header(policy)}
    return await execute(...), {"Cache-Control": "no-store"}
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import orjson
from cachetools import TLRUCache

from gateway.traffic.cache_hints import KYODO_HINTS, CacheHint, CacheHintSettings

log = logging.getLogger("kyodo.gateway.response_cache")


@dataclass(frozen=True)
class ResponseCacheSettings:
    """`[response_cache]` settings."""
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}


    enabled: bool = True
    max_bytes: int = 64 * 1024 * 1024        # in-process bound, the sum of the stored bodies
    max_entry_bytes: int = 1024 * 1024       # larger answers are not stored
    redis_url: str | None = None
    key_prefix: str = "kyodo:response:"
    # "Type" or "Type.field" -> {max_age, scope}; replaces the built-in map of kyodo's public data
    hints: Mapping[str, CacheHint] = field(default_factory=lambda: dict(KYODO_HINTS))
    hint_directive: str = "cacheControl"

    def __post_init__(self) -> None:
        if self.redis_url is not None and not isinstance(self.redis_url, str):
            raise ValueError("response_cache.redis_url must be a string")
        if self.max_bytes < self.max_entry_bytes:
            raise ValueError("response_cache.max_bytes must be at least max_entry_bytes")

    @cached_property
    def hint_settings(self) -> CacheHintSettings:
        """What `cache_policy` takes (one object per settings, so its rules are built once)."""
        return CacheHintSettings(hints=dict(self.hints), directive=self.hint_directive)


@dataclass(frozen=True)
class CachedResponse:
    body: bytes          # the serialised GraphQL response
    remaining: int       # whole seconds of its TTL left (for Cache-Control's max-age)


@dataclass
class CacheStats:
    """Counters, named as the gateway's cache collector reads them (hits, misses, evictions, size,
    max_size), so `metrics` can scrape `cache.stats` like the document and plan caches."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    skipped: int = 0     # answers not stored: errors, too large, or a TTL of 0
    evictions: int = 0   # in process: entries dropped to stay within max_bytes (not expiries)
    size: int = 0        # in process: entries held now
    max_size: int = 0    # in process: the byte bound


def response_cache_key(schema_id: str, document: str, operation_name: str | None, variables: dict | None) -> str:
    hasher = hashlib.blake2b(digest_size=24)
    for part in (schema_id, document, operation_name or ""):
        hasher.update(part.encode())
        hasher.update(b"\x1f")
    hasher.update(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    return hasher.hexdigest()


class ResponseCache(Protocol):
    stats: CacheStats

    async def get(self, key: str) -> CachedResponse | None: ...
    async def store(self, key: str, response: dict, ttl: int) -> bool: ...
    async def close(self) -> None: ...


def _storable(settings: ResponseCacheSettings, stats: CacheStats, response: dict, ttl: int) -> bytes | None:
    if ttl <= 0 or response.get("errors") or "data" not in response:
        stats.skipped += 1
        return None
    body = orjson.dumps(response)
    if len(body) > settings.max_entry_bytes:
        stats.skipped += 1
        return None
    return body


class _CountingTLRU(TLRUCache):
    """cachetools calls popitem() only to make room: count those as evictions."""

    def __init__(self, stats: CacheStats, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stats = stats

    def popitem(self):
        item = super().popitem()
        self._stats.evictions += 1
        return item


@dataclass
class _Entry:
    body: bytes
    ttl: int
    expires: float = 0.0


class InProcessResponseCache:
    def __init__(self, settings: ResponseCacheSettings = ResponseCacheSettings(),
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self.stats = CacheStats(max_size=settings.max_bytes)
        self._entries = _CountingTLRU(self.stats, maxsize=settings.max_bytes, ttu=self._expires, timer=clock,
                                      getsizeof=lambda entry: len(entry.body))

    @staticmethod
    def _expires(_key: str, entry: _Entry, now: float) -> float:
        entry.expires = now + entry.ttl
        return entry.expires

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            self.stats.misses += 1
            return None
        remaining = math.ceil(entry.expires - self.clock())
        if remaining <= 0:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return CachedResponse(entry.body, remaining)

    async def store(self, key: str, response: dict, ttl: int) -> bool:
        body = _storable(self.settings, self.stats, response, ttl)
        if body is None or len(body) > self.settings.max_bytes:
            return False
        self._entries[key] = _Entry(body, ttl)
        self.stats.stores += 1
        self.stats.size = len(self._entries)
        return True

    async def close(self) -> None:
        self._entries.clear()


class RedisResponseCache:
    def __init__(self, settings: ResponseCacheSettings, client=None):
        import redis.asyncio as redis_asyncio  # imported only when Redis is configured

        if client is None:
            if not settings.redis_url:
                raise ValueError("RedisResponseCache needs [response_cache] redis_url")
            client = redis_asyncio.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.settings = settings
        self.client = client
        self.stats = CacheStats()

    async def get(self, key: str) -> CachedResponse | None:
        from redis.exceptions import RedisError

        try:
            async with self.client.pipeline(transaction=False) as pipe:
                body, ttl_ms = await pipe.get(self.settings.key_prefix + key).pttl(
                    self.settings.key_prefix + key).execute()
        except (RedisError, OSError) as error:
            log.warning("response cache store unreachable (%s): answering without it", type(error).__name__)
            body, ttl_ms = None, None
        if body is None or ttl_ms is None or ttl_ms <= 0:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return CachedResponse(bytes(body), math.ceil(ttl_ms / 1000))

    async def store(self, key: str, response: dict, ttl: int) -> bool:
        from redis.exceptions import RedisError

        body = _storable(self.settings, self.stats, response, ttl)
        if body is None:
            return False
        try:
            await self.client.set(self.settings.key_prefix + key, body, ex=ttl)
        except (RedisError, OSError) as error:
            log.warning("response cache store unreachable (%s): not stored", type(error).__name__)
            return False
        self.stats.stores += 1
        return True

    async def close(self) -> None:
        await self.client.aclose()


def make_response_cache(settings: ResponseCacheSettings) -> ResponseCache:
    return RedisResponseCache(settings) if settings.redis_url else InProcessResponseCache(settings)
