"""The response store: in process on an injected clock, and in Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from gateway.traffic.response_cache import (
    InProcessResponseCache,
    RedisResponseCache,
    ResponseCacheSettings,
    response_cache_key,
)

REDIS_URL = os.environ.get("KYODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ANSWER = {"data": {"shelters": [{"id": "282103:0001", "occupancy": {"persons": 12}}]}}


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_keys_depend_on_schema_document_operation_and_variables_only() -> None:
    key = response_cache_key("sg1", "{ shelters { id } }", None, {"a": 1, "b": 2})
    assert key == response_cache_key("sg1", "{ shelters { id } }", None, {"b": 2, "a": 1})
    assert key != response_cache_key("sg2", "{ shelters { id } }", None, {"a": 1, "b": 2})
    assert key != response_cache_key("sg1", "{ shelters { name } }", None, {"a": 1, "b": 2})
    assert key != response_cache_key("sg1", "{ shelters { id } }", "Q", {"a": 1, "b": 2})
    assert key != response_cache_key("sg1", "{ shelters { id } }", None, {"a": 2, "b": 2})


async def test_a_stored_answer_is_served_until_its_ttl_runs_out() -> None:
    clock = Clock()
    cache = InProcessResponseCache(clock=clock)
    assert await cache.get("k") is None
    assert await cache.store("k", ANSWER, 5)
    clock.now += 2.5
    hit = await cache.get("k")
    assert hit is not None and hit.remaining == 3
    assert hit.body == b'{"data":{"shelters":[{"id":"282103:0001","occupancy":{"persons":12}}]}}'
    clock.now += 2.5
    assert await cache.get("k") is None
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (1, 2, 1)


async def test_errors_zero_ttls_and_large_answers_are_not_stored() -> None:
    cache = InProcessResponseCache(ResponseCacheSettings(max_entry_bytes=200), clock=Clock())
    assert not await cache.store("e", {"data": None, "errors": [{"message": "x"}]}, 60)
    assert not await cache.store("z", ANSWER, 0)
    assert not await cache.store("big", {"data": {"x": "y" * 500}}, 60)
    assert len(cache) == 0 and cache.stats.skipped == 3


async def test_the_in_process_store_is_bounded_in_bytes() -> None:
    cache = InProcessResponseCache(ResponseCacheSettings(max_bytes=1000, max_entry_bytes=500), clock=Clock())
    for i in range(20):
        await cache.store(f"k{i}", {"data": {"x": "y" * 180}}, 60)
    assert 0 < len(cache) <= 5
    assert await cache.get("k19") is not None    # the newest stays
    assert cache.stats.evictions == 20 - len(cache) and cache.stats.size == len(cache)
    assert cache.stats.max_size == 1000


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


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


@pytest.mark.skipif(not _redis_reachable(), reason=f"no Redis at {REDIS_URL}")
async def test_redis_store_is_shared_and_expires(prefix: str) -> None:
    settings = ResponseCacheSettings(redis_url=REDIS_URL, key_prefix=prefix)
    writer, reader = RedisResponseCache(settings), RedisResponseCache(settings)
    try:
        assert await reader.get("k") is None
        assert await writer.store("k", ANSWER, 300)
        hit = await reader.get("k")                      # another replica sees it
        assert hit is not None and 295 <= hit.remaining <= 300
        assert hit.body.startswith(b'{"data":{"shelters"')
        assert not await writer.store("e", {"errors": [{"message": "x"}]}, 300)
        assert 0 < await writer.client.ttl(prefix + "k") <= 300
        assert (reader.stats.hits, reader.stats.misses, writer.stats.stores) == (1, 1, 1)
    finally:
        await writer.close()
        await reader.close()


async def test_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    cache = RedisResponseCache(ResponseCacheSettings(redis_url="redis://127.0.0.1:1/0"))
    try:
        assert await cache.get("k") is None
        assert not await cache.store("k", ANSWER, 60)
    finally:
        await cache.close()
    assert cache.stats.misses == 1


def test_replicas_with_the_same_supergraph_share_one_key_space(supergraph) -> None:
    """The plugin keys by the supergraph's content: two processes (two loads of one SDL) find each other's
    answers in Redis; a changed supergraph starts a new key space. (It used id(supergraph), a memory address,
    so two replicas never shared an entry: found by tests/deploy/test_topology.py.)"""
    from gateway.plugins.response_cache import ResponseCachePlugin
    from gateway.supergraph import load_supergraph

    one = ResponseCachePlugin(load_supergraph(supergraph.sdl), ResponseCacheSettings())
    other = ResponseCachePlugin(load_supergraph(supergraph.sdl), ResponseCacheSettings())
    assert one.schema_id == other.schema_id
    changed = supergraph.sdl + '\n"""added in a later version"""\nscalar AddedLater\n'
    assert ResponseCachePlugin(load_supergraph(changed), ResponseCacheSettings()).schema_id != one.schema_id
