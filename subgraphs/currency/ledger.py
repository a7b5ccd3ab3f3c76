"""Pure ledger rules: fiscal years, expiry dates, caps, which lots expire, and which lots a payment draws on.

No database here; subgraphs/currency/service.py applies these decisions under a row lock.
Amounts are whole points (1 pt = ¥1), always positive in entries; the sign comes from the entry kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from subgraphs.currency.rules import ActivityRule, EarningRules, Expiry


class InsufficientPoints(Exception):
    def __init__(self, available: int, requested: int) -> None:
        super().__init__(f"balance {available} pt is less than {requested} pt")
        self.available = available
        self.requested = requested


class CapReached(Exception):
    def __init__(self, which: str) -> None:
        super().__init__(f"the {which} cap is reached")
        self.which = which


@dataclass(frozen=True)
class LotView:
    """What the rules need to know about a lot of granted points."""

    id: int
    expires_on: date      # last day the points may be spent
    remaining: int


def fiscal_year_start(day: date, start_month: int = 4) -> date:
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def fiscal_year_end(day: date, start_month: int = 4) -> date:
    start = fiscal_year_start(day, start_month)
    next_start = date(start.year + 1, start.month, 1)
    return next_start - timedelta(days=1)


def expiry_date(expiry: Expiry, granted_on: date, start_month: int = 4) -> date:
    """Last day granted points may be spent."""
    if expiry.fiscal_year_end:
        return fiscal_year_end(granted_on, start_month)
    return granted_on + timedelta(days=expiry.days - 1)


@dataclass(frozen=True)
class CapUsage:
    """Points already granted, for the caps that apply to one new grant."""

    activity_today: int
    activity_this_year: int
    all_this_year: int


def capped_points(rule: ActivityRule, rules: EarningRules, used: CapUsage) -> tuple[int, str | None]:
    """(points to grant, the cap that limited it or None). Raises CapReached when nothing is left."""
    room = {
        "daily": rule.daily_cap - used.activity_today,
        "yearly": rule.yearly_cap - used.activity_this_year,
        "overall yearly": rules.yearly_cap - used.all_this_year,
    }
    tightest = min(room, key=lambda k: room[k])
    if room[tightest] <= 0:
        raise CapReached(tightest)
    if room[tightest] < rule.points:
        return room[tightest], tightest
    return rule.points, None


def due_expiries(lots: Iterable[LotView], today: date) -> list[tuple[int, int]]:
    """(lot id, points) for every lot whose last usable day is before `today` and that still holds points."""
    return [(lot.id, lot.remaining) for lot in sorted(lots, key=lambda l: (l.expires_on, l.id))
            if lot.expires_on < today and lot.remaining > 0]


def allocate_spend(lots: Sequence[LotView], amount: int, today: date) -> list[tuple[int, int]]:
    """(lot id, points) drawn for a payment: earliest-expiring first, then oldest lot first.

    Only lots still valid on `today` count. Raises InsufficientPoints rather than going below zero.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    usable = sorted((l for l in lots if l.expires_on >= today and l.remaining > 0), key=lambda l: (l.expires_on, l.id))
    available = sum(l.remaining for l in usable)
    if available < amount:
        raise InsufficientPoints(available, amount)
    draws: list[tuple[int, int]] = []
    left = amount
    for lot in usable:
        take = min(lot.remaining, left)
        draws.append((lot.id, take))
        left -= take
        if left == 0:
            break
    return draws
