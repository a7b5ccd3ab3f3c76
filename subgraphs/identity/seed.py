"""Seed identity from the shared roster: households, residents, guardianships, demo card links, co-use,
and the early-voting pilot election. Idempotent: existing rows are left alone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.card_serial import hash_serial
from subgraphs.common import co_use
from subgraphs.common.municipality import MUNICIPALITIES, YABU
from subgraphs.common.roster import HOUSEHOLDS, ROSTER, Person, demo_card_serial, has_demo_card
from subgraphs.common.roster import Household as RosterHousehold
from subgraphs.common.trial_roster import is_trial_id, trial_roster

from .models import CardLink, Election, Guardianship, Household, Resident

SEED_DAY = date(2026, 4, 1)
ROSTER_INDEX = {person.id: index for index, person in enumerate(ROSTER, start=1)}
PILOT_ELECTION = Election(id="yabu-2026-mayor", name="養父市長選挙（期日前投票宣誓パイロット）",
                          municipality_code=YABU, announced_on=date(2026, 11, 22), election_day=date(2026, 11, 29))


def care_needs_of(person: Person, on: date = SEED_DAY) -> list[str]:
    """要配慮 categories that shelters plan for, from age alone in the synthetic data."""
    age = person.age_on(on)
    if age >= 75:
        return ["高齢者"]
    if age < 1:
        return ["乳幼児"]
    return []


def municipal_id_of(person: Person) -> str:
    """The municipal resident number: the roster index for real residents, "T…" for synthetic trial ones."""
    if is_trial_id(person.id):
        return f"{person.municipality_code}-T{person.id[2:10]}"
    return f"{person.municipality_code}-{ROSTER_INDEX[person.id]:06d}"


async def seed(session: AsyncSession) -> None:
    await co_use.seed_memberships(session)
    await seed_people(session, ROSTER, HOUSEHOLDS)
    existing_cards = set((await session.execute(select(CardLink.resident_id))).scalars())
    for person in ROSTER:
        if has_demo_card(person) and person.id not in existing_cards:
            session.add(CardLink(resident_id=person.id, serial_hash=hash_serial(demo_card_serial(person.id)),
                                 linked_at=datetime(2026, 4, 1, tzinfo=timezone.utc)))
    if await session.get(Election, PILOT_ELECTION.id) is None:
        session.add(Election(**PILOT_ELECTION.model_dump()))
    await session.flush()


async def seed_people(session: AsyncSession, people: Sequence[Person], households: Sequence[RosterHousehold]) -> None:
    """Households, residents and guardianships of `people` that are missing (idempotent)."""
    existing_households = set((await session.execute(select(Household.id))).scalars())
    for household in households:
        if household.id not in existing_households:
            session.add(Household(id=household.id, municipality_code=household.municipality_code,
                                  address=household.address, pets=json.dumps(list(household.pets), ensure_ascii=False)))
    await session.flush()
    existing_residents = set((await session.execute(select(Resident.id))).scalars())
    for person in people:
        if person.id in existing_residents:
            continue
        session.add(Resident(id=person.id, municipal_id=municipal_id_of(person),
                             family_name=person.family_name, given_name=person.given_name,
                             family_kana=person.family_kana, given_kana=person.given_kana,
                             birth_date=person.birth_date, sex=person.sex, municipality_code=person.municipality_code,
                             household_id=person.household_id,
                             care_needs=json.dumps(care_needs_of(person), ensure_ascii=False)))
    await session.flush()
    existing_links = set((await session.execute(select(Guardianship.child_id, Guardianship.guardian_id))).all())
    for person in people:
        for guardian_id in person.guardian_ids:
            if (person.id, guardian_id) not in existing_links:
                session.add(Guardianship(child_id=person.id, guardian_id=guardian_id))
    await session.flush()


async def seed_sandbox(session: AsyncSession) -> None:
    """The trial sandbox: synthetic residents of every municipality (subgraphs.common.sandbox), no cards."""
    for code in MUNICIPALITIES:
        people, households = trial_roster(code)
        await seed_people(session, people, households)
