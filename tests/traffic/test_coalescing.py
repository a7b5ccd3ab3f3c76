"""Coalescing: identical in-flight work runs once; mutations and different principals never share."""

from __future__ import annotations

import asyncio

import pytest

from gateway.traffic.coalescing import (
    CoalescingFetcher,
    CoalescingSettings,
    SingleFlight,
    fetch_key,
    operation_key,
    principal_identity,
)


class GatedWork:
    """Work that blocks until released, counting how often it really ran."""

    def __init__(self, result=None, error: Exception | None = None):
        self.calls = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.cancelled = False
        self.result = result if result is not None else {"data": {"shelters": [{"id": "a"}]}}
        self.error = error

    async def __call__(self):
        self.calls += 1
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return self.result


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_identical_concurrent_work_runs_once_and_everyone_gets_an_own_copy() -> None:
    flights: SingleFlight = SingleFlight()
    work = GatedWork()
    waiters = [asyncio.ensure_future(flights.run("k", work)) for _ in range(5)]
    await settle()
    assert flights.in_flight() == 1
    work.release.set()
    results = await asyncio.gather(*waiters)
    assert work.calls == 1 and flights.executions == 1 and flights.shared == 4
    assert all(r == work.result for r in results)
    assert len({id(r) for r in results}) == 5           # followers got copies: merging into one is safe
    assert flights.in_flight() == 0
    await flights.run("k", work)                          # finished flights are not reused
    assert work.calls == 2


async def test_a_none_key_always_runs_alone() -> None:
    flights: SingleFlight = SingleFlight()
    work = GatedWork()
    work.release.set()
    await asyncio.gather(*(flights.run(None, work) for _ in range(3)))
    assert work.calls == 3


async def test_a_cancelled_waiter_does_not_cancel_the_others() -> None:
    flights: SingleFlight = SingleFlight()
    work = GatedWork()
    leader = asyncio.ensure_future(flights.run("k", work))
    follower = asyncio.ensure_future(flights.run("k", work))
    await settle()
    leader.cancel()                                       # the first client went away
    await settle()
    assert not work.cancelled
    work.release.set()
    assert await follower == work.result
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_when_every_waiter_leaves_the_work_is_cancelled_and_the_next_caller_starts_afresh() -> None:
    flights: SingleFlight = SingleFlight()
    work = GatedWork()
    waiters = [asyncio.ensure_future(flights.run("k", work)) for _ in range(2)]
    await settle()
    for waiter in waiters:
        waiter.cancel()
    await settle()
    assert work.cancelled and flights.in_flight() == 0
    fresh = GatedWork()
    fresh.release.set()
    assert await flights.run("k", fresh) == fresh.result


async def test_the_leaders_failure_reaches_every_waiter() -> None:
    flights: SingleFlight = SingleFlight()
    work = GatedWork(error=RuntimeError("subgraph down"))
    waiters = [asyncio.ensure_future(flights.run("k", work)) for _ in range(3)]
    await settle()
    work.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert work.calls == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "subgraph down" for r in results)
    assert flights.in_flight() == 0


def test_fetch_keys_never_merge_mutations_or_different_context_tokens() -> None:
    query = "{ shelters { id } }"
    assert fetch_key("safety", query, None, None, "tok-a") == fetch_key("safety", query, {}, None, "tok-a")
    assert fetch_key("safety", query, None, None, "tok-a") != fetch_key("safety", query, None, None, "tok-b")
    assert fetch_key("safety", query, None, None, "tok-a") != fetch_key("safety", query, None, None, None)
    assert fetch_key("safety", query, None, None, None) != fetch_key("identity", query, None, None, None)
    assert fetch_key("safety", query, {"a": 1, "b": 2}, None, None) == fetch_key("safety", query, {"b": 2, "a": 1},
                                                                                  None, None)
    assert fetch_key("safety", query, {"a": 1}, None, None) != fetch_key("safety", query, {"a": 2}, None, None)
    assert fetch_key("identity", "mutation($i: X!) { shelterCheckIn(input: $i) { id } }", None, None, "t") is None
    assert fetch_key("identity", "  # note\n mutation { x }", None, None, "t") is None
    assert fetch_key("safety", "query Q { shelters { id } }", None, "Q", None) is not None


class Principal:
    def __init__(self, subject: str, scopes=("safety:read",), issuer="https://idp"):
        self.subject, self.scopes, self.issuer = subject, frozenset(scopes), issuer
        self.municipality, self.roles, self.assurance = "282103", frozenset({"resident"}), None


def test_operation_keys_include_principal_and_authorization_and_skip_mutations() -> None:
    doc = "{ me { name } }"
    alice, bob = principal_identity(Principal("alice")), principal_identity(Principal("bob"))
    assert operation_key(doc, None, {}, "query", "ok", alice) == operation_key(doc, None, None, "query", "ok", alice)
    assert operation_key(doc, None, {}, "query", "ok", alice) != operation_key(doc, None, {}, "query", "ok", bob)
    assert operation_key(doc, None, {}, "query", "ok", alice) != operation_key(doc, None, {}, "query", "pruned", alice)
    more_scopes = principal_identity(Principal("alice", scopes=("safety:read", "staff")))
    assert operation_key(doc, None, {}, "query", "ok", alice) != operation_key(doc, None, {}, "query", "ok", more_scopes)
    assert operation_key(doc, None, {}, "query", "ok", alice) != operation_key(doc, None, {}, "query", "ok", None)
    assert operation_key("mutation { x }", None, {}, "mutation", "ok", alice) is None
    assert principal_identity(None) is None


class CountingFetcher:
    def __init__(self):
        self.calls: list[tuple] = []
        self.release = asyncio.Event()

    async def fetch(self, subgraph, query, variables, operation_name):
        self.calls.append((subgraph, query))
        await self.release.wait()
        return {"data": {"q": query}}


async def test_the_fetcher_shares_reads_of_one_caller_but_never_across_callers_or_for_mutations() -> None:
    inner = CountingFetcher()
    flights: SingleFlight = SingleFlight()
    tokens = {"alice": "token-alice", "bob": "token-bob"}

    def fetcher_for(who):
        return CoalescingFetcher(inner, flights, context_for=lambda subgraph: tokens[who])

    read = "{ me { name } }"
    mutation = "mutation { shelterCheckOut(shelterId: \"a\", certificateSerial: \"s\") { residentId } }"
    calls = [fetcher_for("alice").fetch("identity", read, None, None) for _ in range(3)]
    calls += [fetcher_for("bob").fetch("identity", read, None, None)]
    calls += [fetcher_for("alice").fetch("identity", mutation, None, None) for _ in range(2)]
    futures = [asyncio.ensure_future(c) for c in calls]
    await settle()
    inner.release.set()
    await asyncio.gather(*futures)
    assert sorted(inner.calls) == sorted([("identity", read), ("identity", read),
                                          ("identity", mutation), ("identity", mutation)])


async def test_switched_off_the_fetcher_passes_everything_through() -> None:
    inner = CountingFetcher()
    inner.release.set()
    fetcher = CoalescingFetcher(inner, SingleFlight(), settings=CoalescingSettings(subgraph_fetches=False))
    await asyncio.gather(*(fetcher.fetch("safety", "{ shelters { id } }", None, None) for _ in range(3)))
    assert len(inner.calls) == 3
