"""Shelter occupancy for every Shelter reference of a request in one grouped query per kind of stay (the
gateway asks for the occupancy of a whole page of shelters in one `_entities` call): residents' stays and
visitors' stays (people with no municipal id here, each arriving party one household), added together.
Served from the short-lived public cache: the answers are counts only, the same for every caller."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.public_cache import cached_public
from subgraphs.common.request_loaders import request_loader

from .models import ShelterStay
from .shelters import Occupancy
from .visitor_models import VisitorStay

EMPTY = Occupancy(0, 0, 0, 0)


async def count_occupancy(session: AsyncSession, shelter_ids: tuple[str, ...]) -> dict[str, Occupancy]:
    """Open stays per shelter, residents and visitors together; shelters with nobody are absent (EMPTY)."""
    totals: dict[str, Occupancy] = {}   # one grouped query per kind of stay, whatever the number of shelters
    for model, household in ((ShelterStay, ShelterStay.household_id), (VisitorStay, VisitorStay.party_id)):
        statement = (select(model.shelter_id, func.count(), func.count(func.distinct(household)),
                            func.sum(case((model.care_needs != "[]", 1), else_=0)),
                            func.coalesce(func.sum(model.pets), 0))
                     .where(model.shelter_id.in_(shelter_ids), model.checked_out_at.is_(None))
                     .group_by(model.shelter_id))
        for shelter_id, persons, households, care, pets in (await session.execute(statement)).all():
            before = totals.get(shelter_id, EMPTY)
            totals[shelter_id] = Occupancy(before.persons + int(persons), before.households + int(households),
                                           before.care_needs + int(care or 0), before.pets + int(pets))
    return totals


async def _counts(ctx: Any, shelter_ids: tuple[str, ...]) -> dict[str, Occupancy]:
    async with ctx.transaction() as session:
        return await count_occupancy(session, shelter_ids)


async def _batch(ctx: Any, keys: list[str]) -> list[Occupancy]:
    ids = tuple(sorted(set(keys)))
    counts = await cached_public(ctx, "identity.occupancy", ids, lambda: _counts(ctx, ids))
    return [counts.get(key, EMPTY) for key in keys]


async def occupancy_of(ctx: Any, shelter_id: str) -> Occupancy:
    return await request_loader(ctx, "identity.occupancy", _batch).load(shelter_id)
