"""The nightly expiry job and the account-opening race, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from subgraphs.common.roster import ROSTER
from subgraphs.currency.models import EXPIRE, LedgerEntry, PointAccount
from subgraphs.currency.service import expire_all
from tests.subgraphs.conftest import make_principal
from tests.subgraphs.currency.ledger_checks import ledger_state


async def test_expire_all_books_every_due_lot_once(currency_db):
    async with currency_db.transaction() as session:
        expired = await expire_all(session, date(2027, 4, 1))
    adults = [p for p in ROSTER if p.age_on(date(2026, 4, 1)) >= 18]
    # per adult: two walking lots (50 + 50), health checkup 500 and online application 100 expire; volunteer stays
    assert expired == len(adults) * 700
    async with currency_db.transaction() as session:
        assert await expire_all(session, date(2027, 4, 1)) == 0          # nothing is expired twice
    for person in ROSTER:
        state = await ledger_state(currency_db, person.id)
        assert state.invariant_holds, person.id
        assert state.balance == (200 if person in adults else 0)
    async with currency_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LedgerEntry)
                                    .where(LedgerEntry.kind == EXPIRE)) == len(adults) * 4


async def test_concurrent_account_opening_makes_one_account(call, currency_db):
    newcomer = make_principal("r-newcomer-0001", "282201", ("resident",))
    bodies = await asyncio.gather(*(call("mutation { openPointAccount { residentId balance openedOn } }",
                                         principal=newcomer) for _ in range(10)))
    assert all("errors" not in b for b in bodies), bodies
    assert len({str(b["data"]["openPointAccount"]) for b in bodies}) == 1
    async with currency_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PointAccount)
                                    .where(PointAccount.resident_id == "r-newcomer-0001")) == 1
