"""Reads the stored ledger state of one account for the tests' invariant checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from subgraphs.currency.models import IdempotencyRecord, LedgerEntry, PointAccount, PointLot


@dataclass(frozen=True)
class LedgerState:
    balance: int
    grants: int
    spends: int
    expiries: int
    lots_remaining: int
    entries: int
    idempotency_records: int

    @property
    def invariant_holds(self) -> bool:
        return self.balance == self.grants - self.spends - self.expiries == self.lots_remaining and self.balance >= 0


async def ledger_state(database, resident_id: str) -> LedgerState:  # noqa: ANN001
    async with database.sessions() as session:
        account = (await session.execute(select(PointAccount).where(PointAccount.resident_id == resident_id))).scalar_one()

        async def total(kind: str) -> int:
            return int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.kind == kind)))

        remaining = int(await session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0))
                                             .where(PointLot.account_id == account.id)))
        entries = int(await session.scalar(select(func.count()).select_from(LedgerEntry)
                                           .where(LedgerEntry.account_id == account.id)))
        keys = int(await session.scalar(select(func.count()).select_from(IdempotencyRecord)
                                        .where(IdempotencyRecord.account_id == account.id)))
        return LedgerState(account.balance, await total("GRANT"), await total("SPEND"), await total("EXPIRE"),
                           remaining, entries, keys)
