"""`kyodo currency expire`: the nightly expiry job on currency's database, with a report a clerk can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from subgraphs.common.db import Database
from subgraphs.currency import clock
from subgraphs.currency.rules import current_rules
from subgraphs.currency.service import AccountExpiry, expire_accounts


@dataclass(frozen=True)
class ExpiryReport:
    today: date
    accounts: list[AccountExpiry]

    @property
    def expired(self) -> int:
        return sum(item.expired for item in self.accounts)

    def summary(self) -> str:
        unit = current_rules().currency_name
        lines = [f"currency expiry for lots that ended before {self.today.isoformat()}:"]
        lines += [f"  {item.resident_id}  ({item.municipality_code})  -{item.expired} {unit}  balance {item.balance}"
                  for item in self.accounts]
        lines.append(f"{self.expired} {unit} expired on {len(self.accounts)} account(s)"
                     if self.accounts else "nothing was due: no points expired")
        return "\n".join(lines)


async def run_expiry(database: Database, today: date | None = None) -> ExpiryReport:
    """One transaction: either every due lot is booked as expired, or (on an error) none is."""
    day = today or clock.today(current_rules())
    async with database.transaction() as session:
        accounts = await expire_accounts(session, day)
    return ExpiryReport(day, accounts)
