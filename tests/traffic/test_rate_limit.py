"""Token buckets: in process on an injected clock, and shared by two processes through Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gateway.traffic.rate_limit import (
    BucketSettings,
    InProcessRateLimiter,
    RateLimitSettings,
    RedisRateLimiter,
    rate_limit_key,
    rate_limited_response,
)

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("KYODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def small(**overrides) -> RateLimitSettings:
    return RateLimitSettings(query=BucketSettings(100, 10), mutation=BucketSettings(20, 1),
                             anonymous=BucketSettings(50, 5), **overrides)


def test_keys_separate_principals_issuers_addresses_and_classes() -> None:
    a = rate_limit_key("https://idp", "resident-1", "10.0.0.1", "query")
    assert a == rate_limit_key("https://idp", "resident-1", "10.0.0.9", "query")  # the address does not matter
    assert a.limit_class == "query" and "resident-1" not in a.caller                # the subject is hashed
    assert a != rate_limit_key("https://other-idp", "resident-1", None, "query")
    assert a != rate_limit_key("https://idp", "resident-2", None, "query")
    assert rate_limit_key("https://idp", "resident-1", None, "mutation").limit_class == "mutation"
    anon = rate_limit_key(None, None, "10.0.0.1", "mutation")
    assert anon.limit_class == "anonymous" and anon.caller == "a:10.0.0.1"
    assert anon != rate_limit_key(None, None, "10.0.0.2", "query")


async def test_a_bucket_spends_by_cost_refuses_with_retry_after_and_refills() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(small(), clock)
    key = rate_limit_key("iss", "sub", None, "query")
    assert (await limiter.acquire(key, 60)).allowed
    first = await limiter.acquire(key, 30)
    assert first.allowed and first.remaining == pytest.approx(10)
    refused = await limiter.acquire(key, 30)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(2.0)          # 20 tokens missing at 10 per second
    assert refused.retry_after_header == "2"
    clock.now += 1.9
    assert not (await limiter.acquire(key, 30)).allowed
    clock.now += 0.1
    assert (await limiter.acquire(key, 30)).allowed


async def test_cost_zero_still_counts_and_huge_costs_drain_a_full_bucket_only() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(small(minimum_weight=5), clock)
    key = rate_limit_key(None, None, "10.0.0.1", "query")
    for _ in range(10):
        assert (await limiter.acquire(key, 0)).allowed
    assert not (await limiter.acquire(key, 0)).allowed       # 10 x 5 = the 50 of the anonymous bucket
    other = rate_limit_key(None, None, "10.0.0.2", "query")
    assert (await limiter.acquire(other, 10_000)).allowed    # capped at the capacity: passes once when full
    assert not (await limiter.acquire(other, 1)).allowed


async def test_each_class_has_its_own_bucket() -> None:
    limiter = InProcessRateLimiter(small(), Clock())
    mutation = rate_limit_key("iss", "sub", None, "mutation")
    assert (await limiter.acquire(mutation, 20)).allowed
    refused = await limiter.acquire(mutation, 10)
    assert not refused.allowed and refused.limit_class == "mutation" and refused.retry_after == pytest.approx(10)
    assert (await limiter.acquire(rate_limit_key("iss", "sub", None, "query"), 100)).allowed


async def test_idle_buckets_expire_and_the_map_is_bounded() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(small(max_local_buckets=3), clock)
    for i in range(10):
        await limiter.acquire(rate_limit_key(None, None, f"10.0.0.{i}", "query"), 1)
    assert len(limiter) == 3
    clock.now += 21  # the slowest bucket (mutation: 20 at 1/s) is full again
    await limiter.acquire(rate_limit_key(None, None, "10.0.1.1", "query"), 1)
    assert len(limiter) == 1


def test_the_429_body_is_a_graphql_error_with_retry_after() -> None:
    limiter = InProcessRateLimiter(small(), Clock())
    key = rate_limit_key(None, None, "10.0.0.1", "query")
    limiter.acquire_now(key, 50)
    status, headers, body = rate_limited_response(limiter.acquire_now(key, 11))
    assert status == 429 and headers == {"Retry-After": "3"}   # 11 missing at 5 per second: 2.2 s, rounded up
    error = body["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 3, "limitClass": "anonymous"}


# -- Redis -------------------------------------------------------------------------------------------------

def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


redis_required = pytest.mark.skipif(not _redis_reachable(), reason=f"no Redis at {REDIS_URL}")

WORKER = """
import asyncio, json, sys
from gateway.traffic.rate_limit import BucketSettings, RateLimitSettings, RedisRateLimiter, rate_limit_key

async def main(url, prefix, attempts):
    # refill 0.001/s: over the seconds this runs the bucket gains far less than one token
    settings = RateLimitSettings(query=BucketSettings(30, 0.001), redis_url=url, key_prefix=prefix)
    limiter = RedisRateLimiter(settings)
    key = rate_limit_key("https://idp", "the-same-resident", None, "query")
    sys.stdin.readline()  # both processes start spending together
    decisions = [await limiter.acquire(key, 1) for _ in range(attempts)]
    await limiter.close()
    print(json.dumps([[d.allowed, d.retry_after] for d in decisions]))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


@pytest.fixture
def prefix():
    import redis

    prefix = f"kyodo-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@redis_required
def test_two_processes_share_one_limit_through_redis(prefix: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix, "25"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    allowed = [a for decisions in results for a, _ in decisions if a]
    assert len(allowed) == 30                         # 50 attempts, one shared bucket of 30
    refused = [retry for decisions in results for a, retry in decisions if not a]
    assert len(refused) == 20 and all(retry > 0 for retry in refused)


@redis_required
async def test_redis_buckets_refuse_with_retry_after_and_expire(prefix: str) -> None:
    settings = RateLimitSettings(mutation=BucketSettings(10, 0.01), redis_url=REDIS_URL, key_prefix=prefix)
    limiter = RedisRateLimiter(settings)
    key = rate_limit_key("iss", "sub", None, "mutation")
    try:
        assert (await limiter.acquire(key, 10)).allowed
        refused = await limiter.acquire(key, 4)
        assert not refused.allowed
        # 4 tokens at 0.01 per second, less the little that came back between the two calls
        assert 390 < refused.retry_after <= 400
        ttl_ms = await limiter.client.pttl(key.storage_key(prefix))
        assert 990_000 < ttl_ms <= 1_001_000               # gone once it would be full again (1000 s) + 1 s
    finally:
        await limiter.close()


async def test_an_unreachable_redis_falls_back_to_limiting_in_process() -> None:
    settings = RateLimitSettings(anonymous=BucketSettings(3, 0.001), redis_url="redis://127.0.0.1:1/0")
    limiter = RedisRateLimiter(settings)
    key = rate_limit_key(None, None, "10.0.0.1", "query")
    try:
        decisions = [await limiter.acquire(key, 1) for _ in range(4)]
    finally:
        await limiter.close()
    assert [d.allowed for d in decisions] == [True, True, True, False]
