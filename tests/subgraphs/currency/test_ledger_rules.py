"""Pure ledger rules: fiscal years, expiry dates, caps, expiry selection, earliest-expiring-first spending."""

from __future__ import annotations

from datetime import date

import pytest

from subgraphs.currency.ledger import (
    CapReached,
    CapUsage,
    InsufficientPoints,
    LotView,
    allocate_spend,
    capped_points,
    due_expiries,
    expiry_date,
    fiscal_year_end,
    fiscal_year_start,
)
from subgraphs.currency.rules import Expiry, load_rules, parse_expiry, parse_rules

RULES = load_rules()


@pytest.mark.parametrize("day, start, end", [
    (date(2025, 4, 1), date(2025, 4, 1), date(2026, 3, 31)),
    (date(2026, 3, 31), date(2025, 4, 1), date(2026, 3, 31)),
    (date(2026, 1, 10), date(2025, 4, 1), date(2026, 3, 31)),
])
def test_fiscal_year(day: date, start: date, end: date) -> None:
    assert (fiscal_year_start(day), fiscal_year_end(day)) == (start, end)


def test_expiry_fiscal_year_end_and_days() -> None:
    assert expiry_date(Expiry(fiscal_year_end=True), date(2025, 4, 1)) == date(2026, 3, 31)
    assert expiry_date(Expiry(fiscal_year_end=True), date(2026, 3, 31)) == date(2026, 3, 31)
    assert expiry_date(Expiry(days=180), date(2025, 6, 1)) == date(2025, 11, 27)   # 180 days counting June 1
    assert expiry_date(Expiry(days=1), date(2025, 6, 1)) == date(2025, 6, 1)


@pytest.mark.parametrize("text", ["", "0d", "-3d", "year", "30"])
def test_bad_expiry_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_expiry(text)


def test_grant_is_the_fixed_points_when_room_is_left() -> None:
    rule = RULES.activities["VOLUNTEER"]
    assert capped_points(rule, RULES, CapUsage(0, 0, 0)) == (rule.points, None)


def test_daily_cap_clips_then_refuses() -> None:
    rule = RULES.activities["ONLINE_APPLICATION"]   # 100 pt, 300 a day
    assert capped_points(rule, RULES, CapUsage(250, 250, 250)) == (50, "daily")
    with pytest.raises(CapReached) as caught:
        capped_points(rule, RULES, CapUsage(300, 300, 300))
    assert caught.value.which == "daily"


def test_yearly_caps() -> None:
    rule = RULES.activities["DISASTER_DRILL"]       # 300 pt, 600 a year
    with pytest.raises(CapReached) as caught:
        capped_points(rule, RULES, CapUsage(0, 600, 600))
    assert caught.value.which == "yearly"
    assert capped_points(rule, RULES, CapUsage(0, 0, RULES.yearly_cap - 120)) == (120, "overall yearly")


def test_due_expiries_are_lots_past_their_last_day() -> None:
    lots = [LotView(1, date(2026, 3, 31), 100), LotView(2, date(2026, 3, 30), 50), LotView(3, date(2026, 3, 1), 0)]
    assert due_expiries(lots, date(2026, 3, 31)) == [(2, 50)]
    assert due_expiries(lots, date(2026, 4, 1)) == [(2, 50), (1, 100)]


def test_spend_draws_earliest_expiring_first() -> None:
    lots = [LotView(1, date(2026, 3, 31), 100), LotView(2, date(2025, 11, 27), 50), LotView(3, date(2026, 3, 31), 70)]
    assert allocate_spend(lots, 120, date(2025, 10, 1)) == [(2, 50), (1, 70)]
    assert allocate_spend(lots, 50, date(2025, 10, 1)) == [(2, 50)]


def test_spend_ignores_expired_lots_and_refuses_overdraft() -> None:
    lots = [LotView(1, date(2025, 9, 30), 500), LotView(2, date(2026, 3, 31), 100)]
    assert allocate_spend(lots, 100, date(2025, 10, 1)) == [(2, 100)]
    with pytest.raises(InsufficientPoints) as caught:
        allocate_spend(lots, 101, date(2025, 10, 1))
    assert (caught.value.available, caught.value.requested) == (100, 101)


def test_activity_by_code_or_alias() -> None:
    assert RULES.activity("online-application") is RULES.activities["ONLINE_APPLICATION"]
    assert RULES.activity("ONLINE_APPLICATION") is RULES.activities["ONLINE_APPLICATION"]
    assert RULES.activity("online_application") is None


def test_rules_file_is_coherent() -> None:
    assert RULES.fiscal_year_start_month == 4
    assert {"ONLINE_APPLICATION", "HEALTH_CHECKUP", "VOLUNTEER"} <= set(RULES.activities)
    assert {r.category for r in RULES.activities.values()} == {"application", "health", "civic"}


@pytest.mark.parametrize("bad", [
    {"currency": {"yearly_cap": 0, "max_spend": 1}},
    {"currency": {"yearly_cap": 1, "max_spend": 1},
     "activity": [{"code": "A", "points": 0, "daily_cap": 1, "yearly_cap": 1}]},
    {"currency": {"yearly_cap": 1, "max_spend": 1},
     "activity": [{"code": "A", "points": 1, "daily_cap": 1, "yearly_cap": 1}] * 2},
])
def test_bad_rules_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        parse_rules(bad)
