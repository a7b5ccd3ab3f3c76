"""Seed childcare from the shared roster: every child with their guardians, the routine doses and checkups a
diligent family would have had by SEED_DAY, a few learning records, synthetic 子育て施設, and co-use.
Deterministic and idempotent: rows that exist are left alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.childcare.checkups import checkup_schedule, load_checkup_kinds
from subgraphs.childcare.models import (
    CheckupAttendance, Child, ChildcareFacility, Guardianship, LearningRecord, VaccinationRecord,
)
from subgraphs.childcare.schedule import Schedule, load_schedule
from subgraphs.childcare.vaccination import GivenDose, next_due_doses
from subgraphs.common import co_use
from subgraphs.common.municipality import HIMEJI, KAKOGAWA, KASAI, MUNICIPALITIES
from subgraphs.common.roster import ROSTER, STAFF, Person
from subgraphs.common.trial_roster import trial_people

SEED_DAY = date(2026, 10, 1)   # records stop here, so by late 2026 some doses are due again
SEEDED_BY = "seed"

# Synthetic facilities with real place names (no real facility is described).
FACILITIES: tuple[dict, ...] = (
    dict(id=f"{HIMEJI}:1001", municipality_code=HIMEJI, local_id="1001", municipality_name="姫路市",
         name="しらはま保育園", name_kana="シラハマホイクエン", kind="保育所", address="兵庫県姫路市白浜町",
         address_prefecture="兵庫県", address_city="姫路市", address_town="白浜町", latitude=34.7792,
         longitude=134.7261, capacity=90, accepted_ages="0歳～5歳", available_days="月火水木金土",
         start_time="07:00", end_time="19:00", temporary_care=True, sick_child_care=False, nursing_room=True,
         diaper_station=True),
    dict(id=f"{HIMEJI}:1002", municipality_code=HIMEJI, local_id="1002", municipality_name="姫路市",
         name="しかまこども園", name_kana="シカマコドモエン", kind="認定こども園", address="兵庫県姫路市飾磨区今在家",
         address_prefecture="兵庫県", address_city="姫路市", address_town="飾磨区今在家", latitude=34.7951,
         longitude=134.6681, capacity=150, accepted_ages="0歳～5歳", available_days="月火水木金土",
         start_time="07:30", end_time="18:30", temporary_care=True, sick_child_care=True, nursing_room=True,
         diaper_station=True),
    dict(id=f"{HIMEJI}:2001", municipality_code=HIMEJI, local_id="2001", municipality_name="姫路市",
         name="あぼし児童館", name_kana="アボシジドウカン", kind="児童館", address="兵庫県姫路市網干区新在家",
         address_prefecture="兵庫県", address_city="姫路市", address_town="網干区新在家", latitude=34.7766,
         longitude=134.5939, accepted_ages="0歳～18歳", available_days="火水木金土日", start_time="09:00",
         end_time="17:00", nursing_room=True, diaper_station=True),
    dict(id=f"{KAKOGAWA}:301", municipality_code=KAKOGAWA, local_id="301", municipality_name="加古川市",
         name="てらけまち子育てひろば", name_kana="テラケマチコソダテヒロバ", kind="地域子育て支援拠点",
         address="兵庫県加古川市加古川町寺家町", address_prefecture="兵庫県", address_city="加古川市",
         address_town="加古川町寺家町", latitude=34.7569, longitude=134.8411, accepted_ages="0歳～3歳",
         available_days="月火水木金", start_time="10:00", end_time="16:00", nursing_room=True, diaper_station=True),
    dict(id=f"{KASAI}:51", municipality_code=KASAI, local_id="51", municipality_name="加西市",
         name="ほうじょう保育所", name_kana="ホウジョウホイクショ", kind="保育所", address="兵庫県加西市北条町北条",
         address_prefecture="兵庫県", address_city="加西市", address_town="北条町北条", latitude=34.9337,
         longitude=134.8322, capacity=60, accepted_ages="6か月～5歳", available_days="月火水木金土",
         start_time="07:30", end_time="18:00", temporary_care=False, sick_child_care=False),
)


def diligent_doses(schedule: Schedule, person: Person, until: date) -> list[GivenDose]:
    """Every routine dose given on the first day of its standard window (or its earliest day), up to `until`."""
    given: list[GivenDose] = []
    while True:
        candidates = []
        for due in next_due_doses(schedule, person.birth_date, person.sex, given, until):
            day = max(due.standard_from or due.earliest, due.earliest)
            if day <= until and (due.deadline is None or day <= due.deadline):
                candidates.append((day, due.vaccine_code))
        if not candidates:
            return given
        day, code = min(candidates)
        given.append(GivenDose(code, day))


async def seed(session: AsyncSession) -> None:
    await co_use.seed_memberships(session)
    await seed_children(session, ROSTER)
    await seed_facilities(session)


async def seed_sandbox(session: AsyncSession) -> None:
    """The trial sandbox: synthetic children of every municipality (subgraphs.common.sandbox) and the facilities."""
    for code in MUNICIPALITIES:
        await seed_children(session, trial_people(code))
    await seed_facilities(session)


async def seed_children(session: AsyncSession, people: Sequence[Person]) -> None:
    """The children among `people` (those with guardians) with their records, if missing (idempotent)."""
    schedule = load_schedule()
    kinds = load_checkup_kinds()
    children = [p for p in people if p.guardian_ids]
    existing = set((await session.execute(select(Child.id))).scalars())
    new_children = [p for p in children if p.id not in existing]
    for person in new_children:
        session.add(Child(id=person.id, municipality_code=person.municipality_code, birth_date=person.birth_date,
                          sex=person.sex))
    await session.flush()
    for person in new_children:
        for guardian_id in person.guardian_ids:
            session.add(Guardianship(child_id=person.id, guardian_id=guardian_id))
        for dose in diligent_doses(schedule, person, SEED_DAY):
            session.add(VaccinationRecord(child_id=person.id, vaccine_code=dose.vaccine_code, given_on=dose.given_on,
                                          recorded_by=SEEDED_BY))
        for checkup in checkup_schedule(kinds, person.birth_date, {}, SEED_DAY):
            if checkup.due_until < SEED_DAY:
                session.add(CheckupAttendance(child_id=person.id, checkup_code=checkup.kind.code,
                                              attended_on=checkup.due_from + timedelta(days=7), recorded_by=SEEDED_BY))
        if person.age_on(SEED_DAY) >= 7:
            session.add(LearningRecord(child_id=person.id, school_year=2025, subject="算数",
                                       note="かけ算の筆算を正確に行える。文章題に意欲的に取り組んだ。",
                                       recorded_on=date(2026, 3, 19), recorded_by=_childcare_staff_id()))
    await session.flush()


async def seed_facilities(session: AsyncSession) -> None:
    present = set((await session.execute(select(ChildcareFacility.id))).scalars())
    for facility in FACILITIES:
        if facility["id"] not in present:
            session.add(ChildcareFacility(**facility))
    await session.flush()


def _childcare_staff_id() -> str:
    return next(s.id for s in STAFF if s.municipality_code == HIMEJI and "childcare:write" in s.scopes)
