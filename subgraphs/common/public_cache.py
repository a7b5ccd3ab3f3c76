"""A short-lived, process-wide cache for answers that are the same for every caller (open data, occupancy
counts): on a flood evening thousands of residents ask for the same shelters and gauges within a second.

- Entries live `KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS` (default 2; 0 turns the cache off). Only resolvers that
  read public data use it, and they key it by the database and every argument.
- Concurrent misses of one key share one load (the first caller's), so a burst costs one query, not one per
  request.
- Any mutation this process executes clears the cache (`InvalidateOnMutation`), so staff who open a shelter
  see it open at once; another process's write shows within the TTL.
- Bounded: at most `MAX_ENTRIES` keys, the oldest dropped first.

Never put personal data here: nothing in the key says who asked.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

T = TypeVar("T")
MAX_ENTRIES = 2048
TTL_ENV = "KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS"


class PublicCache:
    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future] = {}
        self.hits = self.misses = 0
        self._generation = 0   # bumped by clear(): a load begun before a write is not stored after it

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        if self.ttl <= 0:
            return await load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            self.hits += 1
            return entry[1]
        self.misses += 1
        task = self._loading.get(key)
        if task is None:
            task = self._loading[key] = asyncio.ensure_future(self._fill(key, load, self._generation))
        # shielded: one waiter leaving (its client went away) does not cancel the load the others wait for
        return await asyncio.shield(task)

    def peek(self, key: Hashable) -> Any | None:
        """The live cached value, or None (for callers that load with a session they already hold)."""
        entry = self._entries.get(key) if self.ttl > 0 else None
        if entry is not None and entry[0] > time.monotonic():
            self.hits += 1
            return entry[1]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        if self.ttl > 0:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def _fill(self, key: Hashable, load: Callable[[], Awaitable[T]], generation: int) -> T:
        try:
            value = await load()
            if generation == self._generation:   # not cleared by a write while loading
                self.put(key, value)
            return value
        finally:
            self._loading.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1


def _ttl_from_env() -> float:
    raw = os.environ.get(TTL_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else 2.0
    except ValueError:
        raise ValueError(f"{TTL_ENV} must be a number of seconds, got {raw!r}") from None


_shared: PublicCache | None = None


def shared_cache() -> PublicCache:
    """This process's cache (made on first use, TTL from the environment)."""
    global _shared
    if _shared is None:
        _shared = PublicCache(_ttl_from_env())
    return _shared


def reset_shared_cache() -> None:
    """Forget the process's cache (and re-read its TTL on next use)."""
    global _shared
    _shared = None


async def cached_public(context: Any, name: str, arguments: tuple, load: Callable[[], Awaitable[T]]) -> T:
    """`load()`'s answer for this public read, shared with every caller asking the same of the same database."""
    database = getattr(getattr(context, "database", None), "url", None)
    return await shared_cache().get((database, name, arguments), load)


class InvalidateOnMutation(SchemaExtension):
    """After any mutation this process executed, the cached public answers may be stale: drop them."""

    async def on_execute(self):  # noqa: ANN201 - strawberry's hook
        yield
        if self.execution_context.operation_type == OperationType.MUTATION and _shared is not None:
            _shared.clear()
