"""Infant checkups: their due windows (from data/checkups.toml) and each child's status against them.

Pure functions; the database only supplies the birth date and the attendance dates.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from subgraphs.childcare.spans import Span, age_reached, last_day_before_age, parse_span

DEFAULT_CHECKUPS_PATH = Path(__file__).parent / "data" / "checkups.toml"


class CheckupStatus(enum.Enum):
    UPCOMING = "UPCOMING"   # window not open yet
    DUE = "DUE"             # window open, not attended
    ATTENDED = "ATTENDED"
    MISSED = "MISSED"       # window closed without attendance


@dataclass(frozen=True)
class CheckupKind:
    code: str
    name: str
    mandatory: bool
    start: Span
    end: Span
    subsidy_born_on_or_after: date | None = None   # a municipal subsidy, for children born from this day
    subsidy_max_yen: int | None = None


@dataclass(frozen=True)
class CheckupDue:
    kind: CheckupKind
    due_from: date
    due_until: date  # inclusive last day
    attended_on: date | None
    status: CheckupStatus
    subsidy_max_yen: int | None   # what the subsidy pays at most for this child, None if not eligible


def parse_checkups(data: Mapping) -> tuple[CheckupKind, ...]:
    kinds = []
    for raw in data.get("checkup", []):
        born_from = raw.get("subsidy_born_on_or_after")
        if born_from is not None and not isinstance(born_from, date):
            raise ValueError(f"checkup {raw['code']}: subsidy_born_on_or_after must be a date")
        kinds.append(CheckupKind(code=str(raw["code"]), name=str(raw.get("name", raw["code"])),
                                 mandatory=bool(raw.get("mandatory", False)),
                                 start=parse_span(raw["from"]), end=parse_span(raw["until"]),
                                 subsidy_born_on_or_after=born_from,
                                 subsidy_max_yen=int(raw["subsidy_max_yen"]) if "subsidy_max_yen" in raw else None))
    codes = [k.code for k in kinds]
    if len(set(codes)) != len(codes):
        raise ValueError(f"duplicate checkup codes in {codes}")
    return tuple(kinds)


@lru_cache(maxsize=4)
def load_checkup_kinds(path: Path = DEFAULT_CHECKUPS_PATH) -> tuple[CheckupKind, ...]:
    with open(path, "rb") as handle:
        return parse_checkups(tomllib.load(handle))


def checkup_schedule(kinds: tuple[CheckupKind, ...], birth: date, attended: Mapping[str, date],
                     today: date) -> list[CheckupDue]:
    """Every checkup's window for a child born on `birth`, with its status on `today`."""
    result = []
    for kind in kinds:
        due_from = age_reached(birth, kind.start)
        due_until = last_day_before_age(birth, kind.end)
        attended_on = attended.get(kind.code)
        if attended_on is not None:
            status = CheckupStatus.ATTENDED
        elif today < due_from:
            status = CheckupStatus.UPCOMING
        elif today <= due_until:
            status = CheckupStatus.DUE
        else:
            status = CheckupStatus.MISSED
        subsidised = kind.subsidy_born_on_or_after is not None and birth >= kind.subsidy_born_on_or_after
        result.append(CheckupDue(kind, due_from, due_until, attended_on, status,
                                 kind.subsidy_max_yen if subsidised else None))
    return result
