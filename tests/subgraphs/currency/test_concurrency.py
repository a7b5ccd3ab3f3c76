"""50 concurrent grants and payments on one account, each sent twice at once (a client retrying with its
idempotency key): nothing is granted or spent twice and the ledger invariant holds — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from subgraphs.common.roster import STAFF, by_label
from subgraphs.currency import clock
from subgraphs.currency.models import LedgerEntry, PointAccount
from subgraphs.currency.rules import RULES_ENV
from tests.subgraphs.conftest import resident_principal, staff_principal
from tests.subgraphs.currency.ledger_checks import ledger_state

DAISUKE = by_label("kasai-1/daisuke")   # 900 pt from the seed
KASAI_STAFF = next(s for s in STAFF if s.municipality_code == "282201" and "currency:write" in s.scopes)
GRANTS, SPENDS, GRANT_POINTS, SPEND_POINTS = 25, 25, 100, 30

# Caps high enough that every grant is whole: this test is about concurrency, not caps.
LOAD_RULES = """
[currency]
yearly_cap = 1000000
max_spend = 100000
[[activity]]
code = "LOAD_TEST"
points = 100
daily_cap = 1000000
yearly_cap = 1000000
expiry = "fiscal-year-end"
"""

GRANT = """mutation($input: GrantPointsInput!) { grantPoints(input: $input) { entryId amount balance replayed } }"""
SPEND = """mutation($input: SpendPointsInput!) { spendPoints(input: $input) { entryId amount balance replayed } }"""


@pytest.fixture(autouse=True)
def room_for_every_request(monkeypatch):
    """This test is about the ledger under 100 simultaneous writes, not about shedding load (that is
    tests/subgraphs/common/test_load_shedding.py): let every request in and let it wait for the pool."""
    monkeypatch.setenv("KYODO_SUBGRAPH_MAX_IN_FLIGHT", "1000")
    monkeypatch.setenv("KYODO_DB_POOL_TIMEOUT", "30")


@pytest.fixture
def load_rules(tmp_path, monkeypatch):
    path = tmp_path / "rules.toml"
    path.write_text(LOAD_RULES)
    monkeypatch.setenv(RULES_ENV, str(path))
    monkeypatch.setattr(clock, "today", lambda rules: date(2026, 11, 26))


async def test_concurrent_retried_grants_and_spends(call, currency_db, load_rules):
    before = await ledger_state(currency_db, DAISUKE.id)
    staff, holder = staff_principal(KASAI_STAFF), resident_principal(DAISUKE)
    requests = []
    for n in range(GRANTS):
        variables = {"input": {"residentId": DAISUKE.id, "activity": "LOAD_TEST", "idempotencyKey": f"grant-{n}"}}
        requests += [("grant", n, GRANT, variables, staff)] * 2            # the request and its retry, at once
    for n in range(SPENDS):
        variables = {"input": {"residentId": DAISUKE.id, "merchantId": "282201:M001", "amount": SPEND_POINTS,
                               "idempotencyKey": f"spend-{n}"}}
        requests += [("spend", n, SPEND, variables, holder)] * 2
    bodies = await asyncio.gather(*(call(query, variables, principal=who) for _, _, query, variables, who in requests))

    results: dict[tuple[str, int], list[dict]] = {}
    for (kind, n, *_), body in zip(requests, bodies):
        assert "errors" not in body, body
        results.setdefault((kind, n), []).append(next(iter(body["data"].values())))
    for key, (first, second) in results.items():
        assert {k: v for k, v in first.items() if k != "replayed"} == {k: v for k, v in second.items() if k != "replayed"}, key
        assert sorted([first["replayed"], second["replayed"]]) == [False, True], key

    state = await ledger_state(currency_db, DAISUKE.id)
    assert state.grants == before.grants + GRANTS * GRANT_POINTS
    assert state.spends == before.spends + SPENDS * SPEND_POINTS
    assert state.balance == before.balance + GRANTS * GRANT_POINTS - SPENDS * SPEND_POINTS
    assert state.invariant_holds
    assert state.entries == before.entries + GRANTS + SPENDS
    assert state.idempotency_records == GRANTS + SPENDS

    # Every entry saw the one before it: the running balance matches each entry's balance_after.
    async with currency_db.sessions() as session:
        account_id = await session.scalar(select(PointAccount.id).where(PointAccount.resident_id == DAISUKE.id))
        entries = (await session.execute(select(LedgerEntry).where(LedgerEntry.account_id == account_id)
                                         .order_by(LedgerEntry.id))).scalars().all()
    running = 0
    for entry in entries:
        running += entry.amount if entry.kind == "GRANT" else -entry.amount
        assert entry.balance_after == running >= 0
