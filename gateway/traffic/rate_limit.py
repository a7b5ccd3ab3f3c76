"""Rate limits: token buckets per caller, weighted by the operation's estimated cost.

A signed-in caller's bucket is keyed by its principal (issuer + subject, hashed: the store never holds a
subject); an anonymous caller's by its client address. Each operation class has its own bucket and
settings: `query` and `mutation` for principals, `anonymous` for everything without one. A request takes
`max(estimated cost, minimum_weight)` tokens (at most the bucket's capacity, so that the most expensive
allowed operation still passes on a full bucket); refused, it learns when enough tokens will be back.

In process by default (a bounded TTL map: an idle bucket expires once it would be full again, which is
exactly a new bucket). With `redis_url` set, buckets live in Redis and every gateway replica shares them:
one Lua script reads, refills and takes atomically on Redis's own clock. If Redis cannot be reached, the
process falls back to its own buckets (still limiting, per process) and logs it — never unlimited,
never refusing everyone.

WIRING (a plugin on the hook after demand control, before planning — the cost is known, nothing
was fetched):

    limiter = make_rate_limiter(settings.rate_limit)                 # once per process
    key = rate_limit_key(principal and principal.issuer, principal and principal.subject,
                         request.client.host, operation.operation.value)
    decision = await limiter.acquire(key, estimate.total)
    if not decision.allowed:
        status, headers, body = rate_limited_response(decision)      # 429 + Retry-After
    ...
    await limiter.close()                                            # on shutdown
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cachetools import TTLCache

log = logging.getLogger("kyodo.gateway.rate_limit")

ANONYMOUS = "anonymous"
QUERY = "query"
MUTATION = "mutation"

# state.notes key a plugin sets at the `operation` hook when this request will be answered without running its
# plan: "response_cache" (a hit, in hand) or "coalesced" (an identical request is in flight; it may still end
# before this one joins it). Such a request is charged `minimum_weight`, not its estimated cost.
CHEAP_ANSWER_NOTE = "cheap_answer"


@dataclass(frozen=True)
class BucketSettings:
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}

    capacity: float           # the burst a caller may spend at once, in cost units
    refill_per_second: float  # the sustained rate, in cost units per second

    def __post_init__(self) -> None:
        if not self.capacity > 0 or not self.refill_per_second > 0:
            raise ValueError("a rate-limit bucket needs a positive capacity and refill_per_second")


@dataclass(frozen=True)
class RateLimitSettings:
    """`[rate_limit]` settings. The defaults let a resident's app run its usual screens many times a
    minute (a `me` costs ~10-120, a page of 100 shelters with occupancy ~700) while a script looping on
    expensive operations is held to the refill rate. The anonymous bucket is per client address, and on
    a flood evening many phones share one carrier NAT address: it is the largest, and answers served
    from the response cache (or shared with an identical request in flight) are charged `minimum_weight`
    only (gateway/plugins/rate_limits.py)."""
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}

    enabled: bool = True
    query: BucketSettings = BucketSettings(capacity=5000, refill_per_second=100)
    mutation: BucketSettings = BucketSettings(capacity=300, refill_per_second=5)
    anonymous: BucketSettings = BucketSettings(capacity=6000, refill_per_second=200)
    minimum_weight: float = 1.0          # a cost-0 request (`{ __typename }`) still counts
    redis_url: str | None = None         # e.g. "redis://127.0.0.1:6379/0": share buckets across replicas
    key_prefix: str = "kyodo:ratelimit:"
    max_local_buckets: int = 100_000     # in-process map bound (and the fallback's)

    def __post_init__(self) -> None:
        if self.redis_url is not None and not isinstance(self.redis_url, str):
            raise ValueError("rate_limit.redis_url must be a string")

    def bucket(self, limit_class: str) -> BucketSettings:
        return {QUERY: self.query, MUTATION: self.mutation}.get(limit_class, self.anonymous)


@dataclass(frozen=True)
class RateLimitKey:
    limit_class: str   # query | mutation | anonymous
    caller: str        # "p:<hash of issuer and subject>" or "a:<client address>"

    def storage_key(self, prefix: str) -> str:
        return f"{prefix}{self.limit_class}:{self.caller}"


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    remaining: float           # tokens left after this request (or before it, when refused)
    retry_after: float         # seconds until the request would pass; 0 when allowed
    limit_class: str

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, at least 1 (HTTP's Retry-After has no fractions)."""
        return str(max(1, math.ceil(self.retry_after)))


def rate_limit_key(issuer: str | None, subject: str | None, client_address: str | None,
                   operation_type: str) -> RateLimitKey:
    """The bucket a request draws from. `operation_type` is "query", "mutation" or "subscription"."""
    if subject:
        digest = hashlib.sha256(f"{issuer or ''}\x00{subject}".encode()).hexdigest()[:32]
        return RateLimitKey(MUTATION if operation_type == MUTATION else QUERY, f"p:{digest}")
    return RateLimitKey(ANONYMOUS, f"a:{client_address or 'unknown'}")


def rate_limited_response(decision: RateLimitDecision) -> tuple[int, dict[str, str], dict]:
    """(status 429, headers with Retry-After, GraphQL error body)."""
    body = {"errors": [{
        "message": f"Too many requests; try again in {decision.retry_after_header} s.",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": int(decision.retry_after_header),
                       "limitClass": decision.limit_class},
    }]}
    return 429, {"Retry-After": decision.retry_after_header}, body


class RateLimiter(Protocol):
    async def acquire(self, key: RateLimitKey, weight: float) -> RateLimitDecision: ...
    async def close(self) -> None: ...


def _weight(settings: RateLimitSettings, bucket: BucketSettings, weight: float) -> float:
    return min(max(float(weight), settings.minimum_weight), bucket.capacity)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class InProcessRateLimiter:
    settings: RateLimitSettings = field(default_factory=RateLimitSettings)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        # an idle bucket is full again after capacity / refill seconds; expiring it then loses nothing
        longest = max(b.capacity / b.refill_per_second
                      for b in (self.settings.query, self.settings.mutation, self.settings.anonymous))
        self._buckets: TTLCache = TTLCache(maxsize=self.settings.max_local_buckets, ttl=longest, timer=self.clock)

    def __len__(self) -> int:
        return len(self._buckets)

    async def acquire(self, key: RateLimitKey, weight: float) -> RateLimitDecision:
        return self.acquire_now(key, weight)

    def acquire_now(self, key: RateLimitKey, weight: float) -> RateLimitDecision:
        bucket = self.settings.bucket(key.limit_class)
        need = _weight(self.settings, bucket, weight)
        now = self.clock()
        storage_key = key.storage_key("")
        state = self._buckets.get(storage_key)
        if state is None:
            state = _Bucket(bucket.capacity, now)
        state.tokens = min(bucket.capacity, state.tokens + max(0.0, now - state.updated) * bucket.refill_per_second)
        state.updated = now
        self._buckets[storage_key] = state  # re-set: the TTL counts from the last use
        if state.tokens >= need:
            state.tokens -= need
            return RateLimitDecision(True, state.tokens, 0.0, key.limit_class)
        return RateLimitDecision(False, state.tokens, (need - state.tokens) / bucket.refill_per_second,
                                 key.limit_class)

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1] bucket; ARGV capacity, refill per second, weight. Redis's TIME is the one clock all replicas
# share. Time is kept in milliseconds so that Lua's number-to-string keeps every digit.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) / 1000 * rate)
local allowed = 0
local retry = 0
if tokens >= weight then
  tokens = tokens - weight
  allowed = 1
else
  retry = (weight - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


class RedisRateLimiter:
    """Buckets shared by every process that uses the same Redis and key prefix."""

    def __init__(self, settings: RateLimitSettings, client=None):
        import redis.asyncio as redis_asyncio  # imported only when Redis is configured

        if client is None:
            if not settings.redis_url:
                raise ValueError("RedisRateLimiter needs [rate_limit] redis_url")
            client = redis_asyncio.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.settings = settings
        self.client = client
        self._script = client.register_script(_TAKE)
        self._fallback = InProcessRateLimiter(settings)
        self._warned = False

    async def acquire(self, key: RateLimitKey, weight: float) -> RateLimitDecision:
        from redis.exceptions import RedisError

        bucket = self.settings.bucket(key.limit_class)
        need = _weight(self.settings, bucket, weight)
        try:
            allowed, tokens, retry = await self._script(
                keys=[key.storage_key(self.settings.key_prefix)],
                args=[repr(bucket.capacity), repr(bucket.refill_per_second), repr(need)])
        except (RedisError, OSError) as error:
            if not self._warned:
                log.warning("rate limit store unreachable (%s); limiting per process until it is back",
                            type(error).__name__)
                self._warned = True
            return self._fallback.acquire_now(key, weight)
        self._warned = False
        return RateLimitDecision(bool(int(allowed)), float(tokens), float(retry), key.limit_class)

    async def close(self) -> None:
        await self.client.aclose()


def make_rate_limiter(settings: RateLimitSettings) -> RateLimiter:
    return RedisRateLimiter(settings) if settings.redis_url else InProcessRateLimiter(settings)
