"""An open-loop load: requests leave at a fixed arrival rate whatever the answers do, and each latency is
measured from the moment the request was SCHEDULED, so a queue that builds up shows in the numbers
(no coordinated omission). Every request has a client timeout; nothing is retried."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import aiohttp
import orjson

# One request of the mix: (kind, JSON body, bearer token or None). `after` sees the outcome.
Pick = Callable[[int], "Planned"]


@dataclass
class Planned:
    kind: str
    body: dict
    token: str | None = None
    after: Callable[[str, dict | None], None] | None = None   # (outcome, parsed body) -> None
    client: str | None = None   # the resident's address, sent as X-Forwarded-For (the gateway trusts loopback)


@dataclass
class Outcome:
    kind: str
    scheduled: float
    latency_ms: float
    outcome: str          # ok | graphql_error | http_503 | http_429 | http_<n> | timeout | connection
    detail: str | None = None   # what went wrong: the first error's extensions.code (else its message), or the status


@dataclass
class PhaseResult:
    name: str
    rate: float
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    in_flight_peak: int = 0

    def summary(self) -> dict:
        by_outcome = Counter(o.outcome for o in self.outcomes)
        latencies = sorted(o.latency_ms for o in self.outcomes)
        fast_answers = [o for o in self.outcomes if o.outcome in ("http_503", "http_429")]
        return {
            "phase": self.name, "rate_per_s": self.rate, "seconds": self.seconds, "requests": len(self.outcomes),
            "outcomes": dict(by_outcome), "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
            "max_ms": round(latencies[-1], 1) if latencies else None,
            "ok_p99_ms": _pct(sorted(o.latency_ms for o in self.outcomes if o.outcome == "ok"), 99),
            "shed_p99_ms": _pct(sorted(o.latency_ms for o in fast_answers), 99),
            "in_flight_peak": self.in_flight_peak,
            "by_kind": {kind: dict(Counter(o.outcome for o in self.outcomes if o.kind == kind))
                        for kind in sorted({o.kind for o in self.outcomes})},
            # per operation, what its failures were: "<outcome> <code or message>" -> count
            "errors_by_kind": {kind: dict(Counter(f"{o.outcome} {o.detail or ''}".strip() for o in self.outcomes
                                                  if o.kind == kind and o.outcome != "ok").most_common())
                               for kind in sorted({o.kind for o in self.outcomes if o.outcome != "ok"})},
        }


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * pct / 100))], 1)


async def run_schedule(session: aiohttp.ClientSession, url: str, phases: list[tuple[str, float, float]],
                       pick: Pick, timeout_s: float = 10.0) -> list[PhaseResult]:
    """Run the phases back to back on one clock: a burst's backlog is not waited for before the next phase
    starts, so the recovery phase shows how long the stack takes to come back."""
    results = [PhaseResult(name, rate, seconds) for name, rate, seconds in phases]
    in_flight = 0
    tasks: list[asyncio.Task] = []
    clock = time.monotonic()
    number = 0

    async def one(phase: PhaseResult, scheduled: float, planned: Planned) -> None:
        nonlocal in_flight
        in_flight += 1
        phase.in_flight_peak = max(phase.in_flight_peak, in_flight)
        headers = {"content-type": "application/json"}
        if planned.token:
            headers["authorization"] = f"Bearer {planned.token}"
        if planned.client:
            headers["x-forwarded-for"] = planned.client
        parsed: dict | None = None
        detail: str | None = None
        try:
            async with session.post(url, data=orjson.dumps(planned.body), headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
                raw = await response.read()
                if response.status == 200:
                    parsed = orjson.loads(raw)
                    outcome = "graphql_error" if parsed.get("errors") else "ok"
                else:
                    outcome = f"http_{response.status}"
                if outcome != "ok":
                    detail = error_detail(raw)
        except asyncio.TimeoutError:
            outcome = "timeout"
        except aiohttp.ClientError:
            outcome = "connection"
        finally:
            in_flight -= 1
        phase.outcomes.append(Outcome(planned.kind, scheduled, (time.monotonic() - scheduled) * 1000, outcome, detail))
        if planned.after is not None:
            planned.after(outcome, parsed)

    for phase in results:
        count = int(phase.rate * phase.seconds)
        for i in range(count):
            scheduled = clock + i / phase.rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(phase, scheduled, pick(number))))
            number += 1
        clock += phase.seconds
    await asyncio.gather(*tasks)
    return results


def error_detail(raw: bytes) -> str:
    """The first GraphQL error's `extensions.code`, else its message (shortened); "-" for a body without one."""
    try:
        errors = orjson.loads(raw).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return "-"
    if not errors or not isinstance(errors[0], dict):
        return "-"
    first = errors[0]
    code = (first.get("extensions") or {}).get("code")
    return str(code) if code else str(first.get("message", "-"))[:80]


# Not an outage: answers a healthy stack gives by design (a principal over its own rate limit gets 429, a
# refused or invalid operation its GraphQL error). Timeouts, dropped connections and 5xx (shedding included) are.
def _failed(outcome: str) -> bool:
    return outcome in ("timeout", "connection") or (outcome.startswith("http_5"))


def recovery_seconds(phase: PhaseResult, p99_limit_ms: float, window_s: float = 1.0) -> float | None:
    """Seconds from the phase's start until every later one-second window has p99 under the limit and no
    timeout, dropped connection or 5xx (None: it never recovered within the phase). Run on the phase after a
    burst, this is how long normal latency took to come back."""
    if not phase.outcomes:
        return None
    start = min(o.scheduled for o in phase.outcomes)
    windows: dict[int, list[Outcome]] = {}
    for o in phase.outcomes:
        windows.setdefault(int((o.scheduled - start) / window_s), []).append(o)
    good_from = None
    for index in sorted(windows):
        group = windows[index]
        latencies = sorted(o.latency_ms for o in group)
        healthy = not any(_failed(o.outcome) for o in group) and _pct(latencies, 99) < p99_limit_ms
        if healthy and good_from is None:
            good_from = index
        elif not healthy:
            good_from = None
    return None if good_from is None else good_from * window_s
