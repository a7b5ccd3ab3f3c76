"""Next-due routine vaccinations for one child: a pure function of birth date, sex, doses given and today.

Rules come from the Schedule (data/vaccine_schedule.toml); date counting from spans.py. For each routine
vaccine the result holds the next dose to give (or nothing when the series is complete), with:
- `earliest`: first day it may be given — the age window's start, every minimum interval from earlier
  doses, and 27 days after any *different* injectable live vaccine;
- `deadline`: last day of routine (publicly funded) eligibility;
- the standard window, when the schedule names one;
- a status relative to `today`: UPCOMING, DUE, or MISSED (eligibility ended, or no day left on which
  every rule holds). A missed stage is followed by the next independent stage (MR 2期, 日本脳炎 2期).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from subgraphs.childcare.schedule import AgeWindow, DoseRule, Regimen, Schedule, Vaccine
from subgraphs.childcare.spans import (
    age_reached,
    earliest_after_interval,
    last_day_before_age,
    latest_within_interval,
    school_year_end,
    school_year_start,
)


class DoseStatus(enum.Enum):
    UPCOMING = "UPCOMING"
    DUE = "DUE"
    MISSED = "MISSED"


@dataclass(frozen=True)
class GivenDose:
    vaccine_code: str
    given_on: date


@dataclass(frozen=True)
class DueDose:
    vaccine_code: str
    vaccine_name: str
    dose_number: int
    label: str
    earliest: date
    deadline: date | None
    standard_from: date | None
    standard_until: date | None
    status: DoseStatus
    reason: str  # which rule set `earliest`, for the guardian and the clinic


def window_dates(window: AgeWindow, birth: date) -> tuple[date, date | None]:
    """First and last day (inclusive) of an age or school-year window for a child born on `birth`."""
    if window.school_years is not None:
        first_year, last_year = window.school_years
        return school_year_start(birth, first_year), school_year_end(birth, last_year)
    start = age_reached(birth, window.start) if window.start else birth
    last = last_day_before_age(birth, window.end) if window.end else None
    return start, last


def choose_regimen(vaccine: Vaccine, birth: date, first_dose: date | None) -> Regimen:
    """The regimen whose condition the first dose meets (HPV: 2 doses if started before 15)."""
    for regimen in vaccine.regimens:
        condition = regimen.when_first_dose_before
        if condition is None or first_dose is None or first_dose < age_reached(birth, condition):
            return regimen
    return vaccine.regimens[-1]


def assign_doses(regimen: Regimen, birth: date, given_dates: list[date]) -> dict[int, date]:
    """Map dose numbers to the dates given, in date order.

    A dose given after an earlier stage's eligibility ended, inside a later independent stage's window,
    counts as that later stage (MR given in the year before school without 1期 is 2期).
    """
    doses = regimen.doses
    assigned: dict[int, date] = {}
    index = 0
    for given_on in sorted(given_dates):
        if index >= len(doses):
            break
        _, last = window_dates(doses[index].eligible, birth)
        if last is not None and given_on > last:
            for later in doses[index + 1:]:
                start, later_last = window_dates(later.eligible, birth)
                if later.independent and start <= given_on and (later_last is None or given_on <= later_last):
                    index = later.number - 1
                    break
        assigned[doses[index].number] = given_on
        index += 1
    return assigned


def _due(vaccine: Vaccine, dose: DoseRule, birth: date, assigned: dict[int, date],
         live_after: tuple[str, date] | None, live_interval, today: date) -> DueDose:
    eligible_from, deadline = window_dates(dose.eligible, birth)
    earliest, reason = eligible_from, "age"
    standard_from: date | None = None
    standard_until: date | None = None
    if dose.standard is not None:
        standard_from, standard_until = window_dates(dose.standard, birth)
    for rule in dose.after:
        previous = assigned.get(rule.dose)
        if previous is None:
            continue
        if rule.minimum is not None:
            allowed = earliest_after_interval(previous, rule.minimum)
            if allowed > earliest:
                earliest, reason = allowed, f"interval after dose {rule.dose} ({rule.minimum})"
        if rule.standard_min is not None:
            start = earliest_after_interval(previous, rule.standard_min)
            standard_from = max(standard_from, start) if standard_from else start
        if rule.standard_max is not None:
            end = latest_within_interval(previous, rule.standard_max)
            standard_until = min(standard_until, end) if standard_until else end
    if live_after is not None:
        other_code, other_date = live_after
        allowed = earliest_after_interval(other_date, live_interval)
        if allowed > earliest:
            earliest, reason = allowed, f"live-vaccine spacing after {other_code} on {other_date.isoformat()}"
    if standard_from is not None or standard_until is not None:
        standard_from = max(standard_from or earliest, earliest)
        if standard_until is not None and standard_from > standard_until:
            standard_from = standard_until = None  # the standard timing is already past
    if deadline is not None and (earliest > deadline or today > deadline):
        status = DoseStatus.MISSED
    elif today >= earliest:
        status = DoseStatus.DUE
    else:
        status = DoseStatus.UPCOMING
    return DueDose(vaccine_code=vaccine.code, vaccine_name=vaccine.name, dose_number=dose.number,
                   label=dose.label, earliest=earliest, deadline=deadline, standard_from=standard_from,
                   standard_until=standard_until, status=status, reason=reason)


def _latest_other_live(schedule: Schedule, code: str, given: list[GivenDose]) -> tuple[str, date] | None:
    others = [g for g in given if g.vaccine_code in schedule.injectable_live and g.vaccine_code != code]
    if not others:
        return None
    latest = max(others, key=lambda g: g.given_on)
    return latest.vaccine_code, latest.given_on


def next_due_doses(schedule: Schedule, birth: date, sex: int, given: Iterable[GivenDose],
                   today: date) -> list[DueDose]:
    """The next dose of every routine vaccine that applies to this child, in schedule order."""
    given = list(given)
    result: list[DueDose] = []
    for vaccine in schedule.vaccines:
        if not vaccine.routine or not vaccine.regimens:
            continue
        if vaccine.sexes is not None and sex not in vaccine.sexes:
            continue
        dates = sorted(g.given_on for g in given if g.vaccine_code == vaccine.code)
        regimen = choose_regimen(vaccine, birth, dates[0] if dates else None)
        assigned = assign_doses(regimen, birth, dates)
        live_after = _latest_other_live(schedule, vaccine.code, given) if vaccine.code in schedule.injectable_live else None
        pending = [d for d in regimen.doses if d.number not in assigned and d.number > max(assigned, default=0)]
        for position, dose in enumerate(pending):
            if position > 0 and not dose.independent:
                continue  # only the next dose, or a later stage that stands on its own
            due = _due(vaccine, dose, birth, assigned, live_after, schedule.live_min_interval, today)
            result.append(due)
            if due.status is not DoseStatus.MISSED:
                break
    return result
