"""A circuit breaker per subgraph: stop sending requests to a subgraph that keeps failing, probe it, resume.

    closed     requests go through; `failure_threshold` failures in a row (connection errors, timeouts, HTTP 5xx),
               none more than `window_seconds` after the first of them, open the circuit. A success resets the count.
    open       every request fails at once, without the network, for `cooldown_seconds`.
    half-open  after the cool-down ONE request (the probe) goes through; every other one still fails at once.
               The probe's success closes the circuit; its failure opens it again for another cool-down; a probe
               that ends with neither (its client went away) frees the slot for the next request.

Only the probe decides in half-open: an answer to a request sent before the circuit opened changes nothing.

Why not a library: on PyPI, purgatory (asyncio) lets every request through in half-open and has no failure
window; pybreaker is thread-based (its async path needs tornado); aiobreaker's last release is from 2021.
The state machine is the few lines below, on a monotonic clock that tests can replace.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Literal

log = logging.getLogger("kyodo.gateway.circuit_breaker")

State = Literal["closed", "open", "half_open"]
# the state as a number, for a Prometheus gauge
STATE_VALUES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}


@dataclass(frozen=True)
class BreakerSettings:
    failure_threshold: int = 5
    window_seconds: float = 10.0
    cooldown_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to send one request; `probe` when it is the half-open circuit's one trial."""

    probe: bool
    generation: int   # the circuit's opening count when given: a stale permit's outcome is ignored


class CircuitBreaker:
    def __init__(self, name: str, settings: BreakerSettings, *, clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[str, State, State], None] | None = None) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock
        self.on_change = on_change
        self.state: State = "closed"
        self.failures = 0
        self.first_failure_at = 0.0
        self.opened_at = 0.0
        self.probing = False
        self.generation = 0     # how many times the circuit has opened
        self.rejected = 0       # requests failed at once (for metrics and tests)

    def retry_after(self) -> float:
        """Seconds until a probe may go (0 when one may go now or the circuit is closed)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self.opened_at + self.settings.cooldown_seconds - self.clock())

    def acquire(self) -> Permit | None:
        """A permit to send, or None: fail this request at once."""
        if self.state == "closed":
            return Permit(False, self.generation)
        if self.state == "open":
            if self.clock() < self.opened_at + self.settings.cooldown_seconds:
                self.rejected += 1
                return None
            self._move("half_open", "cool-down over; letting one probe through")
        if self.probing:
            self.rejected += 1
            return None
        self.probing = True
        return Permit(True, self.generation)

    def succeeded(self, permit: Permit) -> None:
        if permit.probe:
            self.probing = False
            if self.state == "half_open" and permit.generation == self.generation:
                self.failures = 0
                self._move("closed", "the probe succeeded")
        elif self.state == "closed" and permit.generation == self.generation:
            self.failures = 0

    def failed(self, permit: Permit, cause: str) -> None:
        now = self.clock()
        if permit.probe:
            self.probing = False
            if self.state == "half_open" and permit.generation == self.generation:
                self._open(now, f"the probe failed: {cause}")
            return
        if self.state != "closed" or permit.generation != self.generation:
            return   # opened since this request was sent: only a probe decides what happens next
        if self.failures == 0 or now - self.first_failure_at > self.settings.window_seconds:
            self.failures = 0
            self.first_failure_at = now
        self.failures += 1
        if self.failures >= self.settings.failure_threshold:
            self._open(now, f"{self.failures} failures in a row, the last: {cause}")

    def abandoned(self, permit: Permit) -> None:
        """The request ended with no outcome (cancelled): a probe's slot goes to the next request."""
        if permit.probe:
            self.probing = False

    def _open(self, now: float, why: str) -> None:
        self.opened_at = now
        self.failures = 0
        self.generation += 1
        self._move("open", f"{why}; failing fast for {self.settings.cooldown_seconds:g} s")

    def _move(self, state: State, why: str) -> None:
        previous, self.state = self.state, state
        level = logging.WARNING if state == "open" else logging.INFO
        log.log(level, "subgraph %s circuit %s -> %s: %s", self.name, previous, state, why)
        if self.on_change is not None:
            self.on_change(self.name, previous, state)
