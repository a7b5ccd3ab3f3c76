"""Brakes for the dev IdP and the subgraphs: lockout with backoff after failures, and per-key token buckets.

Both are in memory, bounded in entries, and take the clock as a parameter so tests can move time instead of
sleeping. A locked key is refused even with the right secret until the lock ends: that is what makes guessing
slow. Locks double with every failure past the threshold, up to a cap, and a success clears the record.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

Clock = Callable[[], float]
MAX_KEYS = 50_000


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class FailureLockout:
    """After `threshold` failures within `window` seconds a key is locked for `base_lock` seconds, doubling
    with each further failure up to `max_lock`."""

    def __init__(self, *, threshold: int = 5, window: float = 900.0, base_lock: float = 30.0,
                 max_lock: float = 900.0, clock: Clock = time.monotonic) -> None:
        self.threshold, self.window, self.base_lock, self.max_lock = threshold, window, base_lock, max_lock
        self.clock = clock
        self._entries: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it is not locked."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return 0
            remaining = entry.locked_until - self.clock()
        return math.ceil(remaining) if remaining > 0 else 0

    def failed(self, key: str) -> int:
        """Record a failure; returns the lock in seconds it caused (0 below the threshold)."""
        now = self.clock()
        with self._lock:
            entry = self._entries.pop(key, None) or _Failures()
            if now - entry.last > self.window:
                entry = _Failures()
            entry.count += 1
            entry.last = now
            lock = 0.0
            if entry.count >= self.threshold:
                lock = min(self.max_lock, self.base_lock * 2 ** (entry.count - self.threshold))
                entry.locked_until = now + lock
            self._entries[key] = entry
            while len(self._entries) > MAX_KEYS:
                self._entries.popitem(last=False)
        return math.ceil(lock)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class RateLimiter:
    """A token bucket per key: `burst` at once, refilled at `per_second`. `take` answers 0 when allowed,
    else the seconds to wait (for Retry-After)."""

    def __init__(self, *, per_second: float, burst: int, clock: Clock = time.monotonic) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")
        self.per_second, self.burst, self.clock = per_second, burst, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()   # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> int:
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                wait = 0
            else:
                self._buckets[key] = (tokens, now)
                wait = max(1, math.ceil((cost - tokens) / self.per_second))
            while len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)   # the least recently seen key: a full bucket again
        return wait
