"""Date counting used by the vaccination and checkup rules."""

from __future__ import annotations

from datetime import date

import pytest

from subgraphs.childcare.spans import (
    Span,
    age_reached,
    earliest_after_interval,
    last_day_before_age,
    latest_within_interval,
    parse_span,
    school_entry_date,
    school_year_end,
    school_year_start,
)


@pytest.mark.parametrize("text, span", [
    ("2m", Span(months=2)), ("14w6d", Span(weeks=14, days=6)), ("7y6m", Span(years=7, months=6)),
    ("27d", Span(days=27)), ("1y", Span(years=1)),
])
def test_parse_span(text: str, span: Span) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["", "2", "m2", "2x", "1m2y", "-3d"])
def test_parse_span_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_span(text)


def test_age_reached_uses_the_corresponding_day() -> None:
    assert age_reached(date(2025, 1, 15), Span(months=2)) == date(2025, 3, 15)


def test_age_reached_without_corresponding_day_takes_month_end() -> None:
    assert age_reached(date(2024, 1, 31), Span(months=1)) == date(2024, 2, 29)
    assert age_reached(date(2023, 12, 31), Span(months=2)) == date(2024, 2, 29)


def test_under_one_year_ends_the_day_before_the_birthday() -> None:
    assert last_day_before_age(date(2025, 1, 15), Span(years=1)) == date(2026, 1, 14)


def test_day_interval_counts_whole_days_between() -> None:
    # 27 days in between -> the same weekday four weeks later
    assert earliest_after_interval(date(2025, 3, 15), Span(days=27)) == date(2025, 4, 12)
    assert earliest_after_interval(date(2025, 3, 15), Span(weeks=1)) == date(2025, 3, 23)


def test_month_interval_ends_on_the_corresponding_day() -> None:
    assert earliest_after_interval(date(2025, 3, 15), Span(months=3)) == date(2025, 6, 15)
    assert latest_within_interval(date(2025, 3, 15), Span(months=18)) == date(2026, 9, 14)


@pytest.mark.parametrize("birth, entry", [
    (date(2019, 4, 1), date(2025, 4, 1)),   # born April 1: the earlier cohort
    (date(2019, 4, 2), date(2026, 4, 1)),
    (date(2019, 1, 10), date(2025, 4, 1)),
    (date(2019, 12, 31), date(2026, 4, 1)),
])
def test_school_entry(birth: date, entry: date) -> None:
    assert school_entry_date(birth) == entry


def test_school_years_count_from_entry() -> None:
    birth = date(2013, 5, 10)  # enters 2020-04-01
    assert school_year_start(birth, 5) == date(2025, 4, 1)    # 小6
    assert school_year_end(birth, 9) == date(2030, 3, 31)     # end of 高1
    assert school_year_start(birth, -1) == date(2019, 4, 1)   # the year before school
