"""Coalescing: identical work in flight at the same moment runs once and every caller gets its result.

Two levels, one mechanism (`SingleFlight`, a keyed single-flight):

* subgraph fetches — key: subgraph, query text, variables, and the digest of the context token the
  gateway sends for this caller (`CoalescingFetcher`, a drop-in `SubgraphFetcher`);
* whole operations — key: document, operation name, variables, the authorization outcome, and the
  principal (`operation_key`).

Never merged: mutations and subscriptions (the key functions return None and the work runs alone), and
two principals' data (the principal — or, for fetches, its context token — is part of every key, so only
the same caller's identical requests, or anonymous callers' public requests, share).

Cancellation-safe: the work runs in its own task; a waiter that is cancelled (its client went away)
stops waiting without cancelling the others; when the last waiter leaves, the work is cancelled too.
The leader's exception reaches every waiter. Followers get a copy of the result (an orjson round
trip), so no caller can change another's response while merging into it.

WIRING
  fetches (where the HTTP stage builds the request's fetcher; `flights` is one per process):
      fetcher = CoalescingFetcher(HttpSubgraphFetcher(session, urls, headers_for), FETCH_FLIGHTS,
                                  context_for=lambda sg: (headers_for(sg) or {}).get("Kyodo-Context"))
  operations (a plugin around the execute stage, after authorization):
      key = operation_key(document_text, operation_name, variables, operation_type,
                          authorization_outcome, principal_identity(principal))
      response = await OPERATION_FLIGHTS.run(key, lambda: execute(...))
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")


@dataclass(frozen=True)
class CoalescingSettings:
    """`[coalescing]` settings: on by default."""
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}


    subgraph_fetches: bool = True
    operations: bool = True


def copy_json(value: T) -> T:
    """A deep copy of a JSON-shaped value (faster than copy.deepcopy for these)."""
    return orjson.loads(orjson.dumps(value))


@dataclass
class _Flight:
    task: asyncio.Task
    waiters: int = 0


class SingleFlight(Generic[T]):
    """At most one execution per key at a time; everyone asking meanwhile shares it."""

    def __init__(self, copy_result: Callable[[T], T] | None = copy_json):
        self._flights: dict[Hashable, _Flight] = {}
        self._copy = copy_result
        self.executions = 0   # how many times work actually ran (for metrics and tests)
        self.shared = 0       # how many callers were served by someone else's execution

    def in_flight(self) -> int:
        return len(self._flights)

    async def run(self, key: Hashable | None, work: Callable[[], Awaitable[T]]) -> T:
        if key is None:  # not coalescible (a mutation, or coalescing is off)
            self.executions += 1
            return await work()
        flight = self._flights.get(key)
        leader = flight is None
        if leader:
            self.executions += 1
            task = asyncio.ensure_future(work())
            flight = _Flight(task)
            self._flights[key] = flight
            task.add_done_callback(lambda done, key=key, flight=flight: self._finished(key, flight))
        else:
            self.shared += 1
        flight.waiters += 1
        try:
            result = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # nobody waits for it any more: stop the work, and let the next caller start afresh
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.task.cancel()
            raise
        flight.waiters -= 1
        if leader or self._copy is None:
            return result
        return self._copy(result)

    def _finished(self, key: Hashable, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.task.cancelled():
            flight.task.exception()  # mark retrieved: waiters re-raise it; no "never retrieved" warning


def _digest(*parts: Any) -> bytes:
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else orjson.dumps(part, option=orjson.OPT_SORT_KEYS))
        hasher.update(b"\x1f")
    return hasher.digest()


def _is_read(query: str) -> bool:
    """True for a query operation: the fetch text starts with `{`, `query` or a fragment-free selection."""
    head = query.lstrip()
    while head.startswith("#"):  # comments before the operation
        head = head.split("\n", 1)[1].lstrip() if "\n" in head else ""
    return not (head.startswith("mutation") or head.startswith("subscription"))


def fetch_key(subgraph: str, query: str, variables: dict | None, operation_name: str | None,
              context_token: str | None) -> Hashable | None:
    """The key of one subgraph fetch, or None when it must run alone (a mutation or subscription)."""
    if not _is_read(query):
        return None
    token = hashlib.sha256(context_token.encode()).digest() if context_token else b""
    return ("fetch", subgraph, _digest(query, variables or {}, operation_name or "", token))


def principal_identity(principal: Any) -> Hashable | None:
    """Everything about a principal that can change what a subgraph answers (None when anonymous)."""
    if principal is None:
        return None
    return (getattr(principal, "issuer", None), principal.subject, getattr(principal, "municipality", None),
            tuple(sorted(getattr(principal, "roles", ()) or ())), tuple(sorted(getattr(principal, "scopes", ()) or ())),
            getattr(principal, "assurance", None))


def operation_key(document: str, operation_name: str | None, variables: dict | None, operation_type: str,
                  authorization_outcome: Hashable, principal: Hashable | None) -> Hashable | None:
    """The key of one whole operation, or None when it must run alone (anything but a query).

    `authorization_outcome`: what authorization decided (e.g. the pruned document's text and the error
    paths); `principal`: `principal_identity(principal)`.
    """
    if operation_type != "query":
        return None
    return ("operation", _digest(document, operation_name or "", variables or {}, repr(authorization_outcome),
                                 repr(principal)))


class CoalescingFetcher:
    """A `SubgraphFetcher` that shares identical in-flight query fetches through a process-wide SingleFlight."""

    def __init__(self, inner: Any, flights: SingleFlight, context_for: Callable[[str], str | None] | None = None,
                 settings: CoalescingSettings = CoalescingSettings()):
        self.inner = inner
        self.flights = flights
        self.context_for = context_for
        self.settings = settings

    async def fetch(self, subgraph: str, query: str, variables: dict | None, operation_name: str | None) -> dict:
        key = None
        if self.settings.subgraph_fetches:
            token = self.context_for(subgraph) if self.context_for is not None else None
            key = fetch_key(subgraph, query, variables, operation_name, token)
        return await self.flights.run(key, lambda: self.inner.fetch(subgraph, query, variables, operation_name))
