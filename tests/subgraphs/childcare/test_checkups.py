"""Checkup due windows and statuses."""

from __future__ import annotations

from datetime import date

import pytest

from subgraphs.childcare.checkups import CheckupStatus, checkup_schedule, load_checkup_kinds, parse_checkups

KINDS = load_checkup_kinds()
BIRTH = date(2025, 1, 15)


def by_code(today: date, attended: dict[str, date] | None = None) -> dict:
    return {c.kind.code: c for c in checkup_schedule(KINDS, BIRTH, attended or {}, today)}


def test_all_five_checkups_with_mandatory_flags() -> None:
    assert [k.code for k in KINDS] == ["MONTH_1", "MONTH_4", "MONTH_10", "MONTH_18", "YEAR_3"]
    assert {k.code for k in KINDS if k.mandatory} == {"MONTH_18", "YEAR_3"}


def test_windows() -> None:
    schedule = by_code(date(2025, 1, 20))
    assert (schedule["MONTH_1"].due_from, schedule["MONTH_1"].due_until) == (date(2025, 2, 15), date(2025, 3, 14))
    assert (schedule["MONTH_4"].due_from, schedule["MONTH_4"].due_until) == (date(2025, 4, 15), date(2025, 6, 14))
    assert (schedule["MONTH_18"].due_from, schedule["MONTH_18"].due_until) == (date(2026, 7, 15), date(2027, 1, 14))
    assert (schedule["YEAR_3"].due_from, schedule["YEAR_3"].due_until) == (date(2028, 1, 15), date(2029, 1, 14))


@pytest.mark.parametrize("today, status", [
    (date(2025, 2, 14), CheckupStatus.UPCOMING),
    (date(2025, 2, 15), CheckupStatus.DUE),
    (date(2025, 3, 14), CheckupStatus.DUE),      # the day before 2 months: Himeji's subsidy still valid
    (date(2025, 3, 15), CheckupStatus.MISSED),
])
def test_one_month_checkup_status_by_day(today: date, status: CheckupStatus) -> None:
    assert by_code(today)["MONTH_1"].status is status


def test_attendance_wins() -> None:
    checkup = by_code(date(2025, 9, 1), {"MONTH_1": date(2025, 2, 20)})["MONTH_1"]
    assert (checkup.status, checkup.attended_on) == (CheckupStatus.ATTENDED, date(2025, 2, 20))


def test_one_month_subsidy_for_children_born_from_april_2024() -> None:
    assert by_code(date(2025, 2, 1))["MONTH_1"].subsidy_max_yen == 4000
    assert by_code(date(2025, 2, 1))["MONTH_4"].subsidy_max_yen is None
    before = {c.kind.code: c for c in checkup_schedule(KINDS, date(2024, 3, 31), {}, date(2024, 4, 1))}
    on_the_day = {c.kind.code: c for c in checkup_schedule(KINDS, date(2024, 4, 1), {}, date(2024, 4, 2))}
    assert (before["MONTH_1"].subsidy_max_yen, on_the_day["MONTH_1"].subsidy_max_yen) == (None, 4000)


def test_duplicate_codes_refused() -> None:
    with pytest.raises(ValueError):
        parse_checkups({"checkup": [{"code": "A", "from": "1m", "until": "2m"}] * 2})
