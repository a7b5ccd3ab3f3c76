"""Synthetic residents of a trial sandbox (試用): the same invented households for every municipality.

A municipality trying a platform sees it work on people who do not exist. They are generated here, never
copied from real data, and clearly marked: ids start with `t-` (real residents' with `r-`), every family name
is 試用 (`TRIAL_FAMILY_NAME`), the address is 試用地区. They live only in the sandbox databases
(`subgraphs.common.sandbox`), and the dev IdP signs them in with the `trial` role (`kyodo token --trial`).
Deterministic: the same code always gives the same people, so ids match across the four sandboxes.
"""

from __future__ import annotations

from datetime import date

from subgraphs.common.roster import SEX_FEMALE, SEX_MALE, Household, Person, pseudonymous_id

TRIAL_FAMILY_NAME = "試用"
TRIAL_FAMILY_KANA = "シヨウ"
TRIAL_ADDRESS = "試用地区（架空）"
TRIAL_ID_PREFIX = "t-"

# (key, given, given kana, birth date, sex, is_child): a young family and an elderly resident living alone.
_MEMBERS = (
    (("parent", "一郎", "イチロウ", date(1987, 4, 1), SEX_MALE, False),
     ("partner", "二葉", "フタバ", date(1989, 6, 1), SEX_FEMALE, False),
     ("child", "三太", "サンタ", date(2025, 2, 1), SEX_MALE, True),
     ("pupil", "四季", "シキ", date(2017, 9, 1), SEX_FEMALE, True)),
    (("elder", "五郎", "ゴロウ", date(1944, 11, 1), SEX_MALE, False),),
)


def _trial_id(kind: str, code: str, label: str) -> str:
    # "t-…": a prefix of its own, so a trial id can never equal a real resident's "r-…" id
    return "t" + pseudonymous_id(kind, f"trial/{code}/{label}")[1:]


def trial_roster(code: str) -> tuple[tuple[Person, ...], tuple[Household, ...]]:
    """The synthetic people and households of municipality `code`'s sandbox."""
    people: list[Person] = []
    households: list[Household] = []
    for number, members in enumerate(_MEMBERS, start=1):
        household_id = _trial_id("h", code, f"household-{number}")
        adults = tuple(_trial_id("r", code, f"{number}/{m[0]}") for m in members if not m[5])
        ids = []
        for key, given, given_kana, born, sex, is_child in members:
            person_id = _trial_id("r", code, f"{number}/{key}")
            ids.append(person_id)
            people.append(Person(person_id, TRIAL_FAMILY_NAME, given, TRIAL_FAMILY_KANA, given_kana, born, sex,
                                 code, household_id, adults if is_child else ()))
        households.append(Household(household_id, code, TRIAL_ADDRESS, tuple(ids)))
    return tuple(people), tuple(households)


def trial_people(code: str) -> tuple[Person, ...]:
    return trial_roster(code)[0]


def trial_guardian(code: str) -> Person:
    """The person `kyodo token --trial CODE` signs in by default: a parent, so childcare has data to show."""
    return trial_people(code)[0]


def is_trial_id(resident_id: str) -> bool:
    return resident_id.startswith(TRIAL_ID_PREFIX)
