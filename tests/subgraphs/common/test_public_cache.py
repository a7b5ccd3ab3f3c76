"""The short-lived cache of public answers (issue 8, item 3): shared by every caller, one load for concurrent
misses, dropped after any mutation of this process, off with a TTL of 0, never holding a failed load."""

from __future__ import annotations

import asyncio

import pytest

from subgraphs.common.public_cache import PublicCache


async def test_answers_are_shared_until_cleared():
    cache, loads = PublicCache(ttl=60), []

    async def load() -> list[str]:
        loads.append(1)
        return ["S001"]

    assert await cache.get("shelters", load) == ["S001"]
    assert await cache.get("shelters", load) == ["S001"]
    assert len(loads) == 1 and (cache.hits, cache.misses) == (1, 1)
    cache.clear()
    await cache.get("shelters", load)
    assert len(loads) == 2


async def test_concurrent_misses_share_one_load():
    cache, release, loads = PublicCache(ttl=60), asyncio.Event(), []

    async def load() -> int:
        loads.append(1)
        await release.wait()
        return 42

    waiting = [asyncio.create_task(cache.get("gauges", load)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42] * 50
    assert len(loads) == 1


async def test_a_failed_load_is_not_kept_and_ttl_zero_turns_caching_off():
    cache = PublicCache(ttl=60)

    async def broken() -> int:
        raise OSError("database went away")

    with pytest.raises(OSError):
        await cache.get("k", broken)

    async def fine() -> int:
        return 1

    assert await cache.get("k", fine) == 1
    off, loads = PublicCache(ttl=0), []

    async def counted() -> int:
        loads.append(1)
        return 1

    await off.get("k", counted)
    await off.get("k", counted)
    assert len(loads) == 2


async def test_a_load_begun_before_a_write_is_not_stored_after_it():
    cache, release = PublicCache(ttl=60), asyncio.Event()

    async def stale() -> str:
        await release.wait()
        return "closed"

    pending = asyncio.create_task(cache.get("shelter", stale))
    await asyncio.sleep(0)
    cache.clear()            # a mutation committed while the old answer was being read
    release.set()
    assert await pending == "closed"

    async def fresh() -> str:
        return "open"

    assert await cache.get("shelter", fresh) == "open"


def test_the_bound_drops_the_oldest_entries():
    async def fill() -> None:
        cache = PublicCache(ttl=60, max_entries=3)
        for key in range(5):
            async def load(value: int = key) -> int:
                return value
            await cache.get(key, load)
        assert list(cache._entries) == [2, 3, 4]

    asyncio.run(fill())
