"""Shelter check-in and check-out by card tap, and the live occupancy safety's `Shelter` shows.

A tap checks in the card holder and any household members who came along, with special-care needs
(要配慮) and companion animals. Checking in anywhere closes the person's open stay elsewhere
("moved"), so one person is never counted in two shelters.

What identity can and cannot check: identity and safety are independent services, so identity refuses a
malformed shelter id (BAD_USER_INPUT, nothing stored) but cannot know whether a well-formed id exists in
safety's data, nor whether that shelter is open. The tap at a shelter's reader is the evidence that people are
there, so the stay is recorded either way: safety's 開設状況 is reported by staff and may lag the first
arrivals. Through the gateway a stay at a shelter safety does not hold keeps its `shelterId`, and its `shelter`
is null with safety's NOT_FOUND naming the id; a closed shelter shows `shelter { isOpen: false }`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput
from subgraphs.common.facility_id import facility_id_argument

from .access import PLATFORM, authorize, check_id, require_principal
from .cards import resident_for_card
from .clock import utc_now
from .models import Resident, ShelterStay
from .occupancy_events import publish_occupancy_changed

# 要配慮者 categories a shelter plans for (災害対策基本法 examples).
CARE_NEEDS = ("高齢者", "障害者", "乳幼児", "妊産婦", "難病", "外国人", "その他")
MAX_PETS = 20


def parse_shelter_id(value: str) -> str:
    """Exactly `"{6-digit code with check digit}:{localId}"` (`subgraphs.common.facility_id`), else BAD_USER_INPUT.

    No normalising: the id is safety's key, and a stay must name the shelter exactly as safety stores it.
    """
    return facility_id_argument(value, field="shelterId")


def check_care_needs(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in CARE_NEEDS]
    if unknown:
        raise BadUserInput(f"unknown care needs {unknown}; known: {list(CARE_NEEDS)}", field="careNeeds")
    return sorted(set(values))


async def _open_stay(session: AsyncSession, resident_id: str) -> ShelterStay | None:
    rows = await session.execute(select(ShelterStay).where(ShelterStay.resident_id == resident_id,
                                                           ShelterStay.checked_out_at.is_(None)))
    return rows.scalars().first()


async def _authorize_tap(ctx: RequestContext, session: AsyncSession, holder: Resident, purpose: str,
                         fields: list[str]) -> None:
    """A shelter's reader (`device`) acts on the card holder's own tap; anyone else needs the usual rule."""
    principal = require_principal(ctx)
    if "device" in principal.roles:
        await co_use.ensure_joined(session, PLATFORM, holder.municipality_code)
        await audit.record(session, principal, holder.id, fields, purpose, "written",
                           subject_municipality=holder.municipality_code, subgraph=PLATFORM)
        await co_use.count_usage(session, PLATFORM, holder.municipality_code, records=1)
        return
    await authorize(ctx, session, holder, fields=fields, purpose=purpose, write=True)


async def check_in(ctx: RequestContext, session: AsyncSession, shelter_id: str, serial: str, *,
                   companion_ids: list[str], pets: int, care_needs: list[str]) -> list[ShelterStay]:
    shelter_id = parse_shelter_id(shelter_id)
    if not 0 <= pets <= MAX_PETS:
        raise BadUserInput(f"pets must be between 0 and {MAX_PETS}", field="pets")
    needs = check_care_needs(care_needs)
    companions = [check_id(c, "companion id") for c in dict.fromkeys(companion_ids)]
    holder = await resident_for_card(session, serial, ctx)
    members: list[Resident] = [holder]
    for companion_id in companions:
        if companion_id == holder.id:
            continue
        member = await session.get(Resident, companion_id)
        if member is None or member.household_id != holder.household_id:
            raise BadUserInput("companions must belong to the card holder's household", field="companionIds")
        members.append(member)
    await _authorize_tap(ctx, session, holder, f"shelter check-in at {shelter_id}",
                         ["shelterStay", "household", "careNeeds"])
    now = utc_now()
    stays: list[ShelterStay] = []
    changed = [shelter_id]
    for member in members:
        current = await _open_stay(session, member.id)
        if current is not None and current.shelter_id == shelter_id:
            stays.append(current)  # already here: a second tap changes nothing
            continue
        if current is not None:
            current.checked_out_at, current.checkout_reason = now, "moved"
            changed.append(current.shelter_id)
        own_needs = set(json.loads(member.care_needs or "[]"))
        if member.id == holder.id:
            own_needs |= set(needs)
        stay = ShelterStay(resident_id=member.id, household_id=member.household_id, shelter_id=shelter_id,
                           checked_in_at=now, care_needs=json.dumps(sorted(own_needs), ensure_ascii=False),
                           pets=pets if member.id == holder.id else 0)
        session.add(stay)
        stays.append(stay)
    await session.flush()
    publish_occupancy_changed(session, changed)
    return stays


async def check_out(ctx: RequestContext, session: AsyncSession, shelter_id: str, serial: str) -> list[ShelterStay]:
    """Check out the card holder and the household members who are at this shelter."""
    shelter_id = parse_shelter_id(shelter_id)
    holder = await resident_for_card(session, serial, ctx)
    await _authorize_tap(ctx, session, holder, f"shelter check-out at {shelter_id}", ["shelterStay"])
    rows = await session.execute(select(ShelterStay).where(ShelterStay.household_id == holder.household_id,
                                                           ShelterStay.shelter_id == shelter_id,
                                                           ShelterStay.checked_out_at.is_(None)))
    stays = list(rows.scalars())
    now = utc_now()
    for stay in stays:
        stay.checked_out_at, stay.checkout_reason = now, "left"
    await session.flush()
    publish_occupancy_changed(session, [shelter_id])
    return stays


async def current_stay(session: AsyncSession, resident_id: str) -> ShelterStay | None:
    return await _open_stay(session, resident_id)


@dataclass(frozen=True)
class Occupancy:
    persons: int
    households: int
    care_needs: int      # persons with at least one 要配慮 category
    pets: int


async def occupancy(session: AsyncSession, shelter_id: str) -> Occupancy:
    """Counts only: no one's identity leaves through this. One shelter's occupancy: the same grouped count the
    request-batched `Shelter.occupancy` uses (occupancy_loader.count_occupancy), for a batch of one."""
    from .occupancy_loader import EMPTY, count_occupancy

    return (await count_occupancy(session, (shelter_id,))).get(shelter_id, EMPTY)
