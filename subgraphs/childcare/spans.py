"""Age and interval arithmetic the way Japanese vaccination rules count it.

A span is written compactly in configuration: "2m", "14w6d", "7y6m", "27d".

- An age threshold "2m" is reached on the corresponding day two months after birth
  (born 1/15 -> 3/15); with no corresponding day the month's last day is used (1/31 -> 3/31, 12/31 -> 2/28).
- "< 1y" means eligible up to and including the day before the first birthday.
- A minimum interval of N *days* ("27日以上の間隔をおく") counts whole days between the two doses,
  so the next dose is allowed from previous + N + 1 days (27 d -> same weekday four weeks later).
- A minimum interval in months/years is reached on the corresponding day (previous + N months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

_SPAN_PATTERN = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?$")


@dataclass(frozen=True)
class Span:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @property
    def is_whole_days(self) -> bool:
        """True when the span is counted in days (weeks are 7 days) rather than calendar months."""
        return self.years == 0 and self.months == 0

    def after(self, start: date) -> date:
        """The day this span after `start` is reached (corresponding-day rule for months)."""
        return start + relativedelta(years=self.years, months=self.months, weeks=self.weeks, days=self.days)

    def __str__(self) -> str:
        parts = [(self.years, "y"), (self.months, "m"), (self.weeks, "w"), (self.days, "d")]
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0d"


def parse_span(text: str) -> Span:
    """Parse "7y6m", "14w6d", "27d" ... into a Span; raises ValueError on anything else."""
    match = _SPAN_PATTERN.match(text.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"not a span: {text!r} (expected e.g. '2m', '14w6d', '7y6m')")
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    return Span(years, months, weeks, days)


def age_reached(birth: date, age: Span) -> date:
    """First day on which a child born on `birth` has reached `age`."""
    return age.after(birth)


def last_day_before_age(birth: date, age: Span) -> date:
    """Last day on which the child is still younger than `age` ("< 1y" ends the day before the birthday)."""
    return age.after(birth) - timedelta(days=1)


def earliest_after_interval(previous: date, interval: Span) -> date:
    """First day a dose may follow `previous` given a minimum interval.

    Day intervals count whole days in between (N days -> previous + N + 1);
    month/year intervals end on the corresponding day.
    """
    if interval.is_whole_days:
        return previous + timedelta(days=interval.weeks * 7 + interval.days + 1)
    return interval.after(previous)


def latest_within_interval(previous: date, interval: Span) -> date:
    """Last day still within an upper interval ("20–56 d" -> previous + 57; "18m" -> day before previous + 18 m)."""
    if interval.is_whole_days:
        return previous + timedelta(days=interval.weeks * 7 + interval.days + 1)
    return interval.after(previous) - timedelta(days=1)


def school_entry_date(birth: date) -> date:
    """April 1 on which the child enters elementary school.

    Legally a child ages on the day before the birthday, so children born on April 1 belong to
    the cohort that turned 6 by March 31 and enter that April.
    """
    if (birth.month, birth.day) <= (4, 1):
        return date(birth.year + 6, 4, 1)
    return date(birth.year + 7, 4, 1)


def school_year_start(birth: date, offset_years: int) -> date:
    """April 1 of the school year `offset_years` after elementary entry (0 = 小1, 5 = 小6, -1 = the year before)."""
    entry = school_entry_date(birth)
    return date(entry.year + offset_years, 4, 1)


def school_year_end(birth: date, offset_years: int) -> date:
    """March 31 ending the school year `offset_years` after elementary entry."""
    entry = school_entry_date(birth)
    return date(entry.year + offset_years + 1, 3, 31)
