"""Shelter occupancy for every Shelter reference of a request in one grouped query (the gateway asks for the
occupancy of a whole page of shelters in one `_entities` call), served from the short-lived public cache:
the answers are counts only, the same for every caller."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from subgraphs.common.public_cache import cached_public
from subgraphs.common.request_loaders import request_loader

from .models import ShelterStay
from .shelters import Occupancy

EMPTY = Occupancy(0, 0, 0, 0)


async def _counts(ctx: Any, shelter_ids: tuple[str, ...]) -> dict[str, Occupancy]:
    open_here = (ShelterStay.shelter_id.in_(shelter_ids), ShelterStay.checked_out_at.is_(None))
    statement = (select(ShelterStay.shelter_id, func.count(), func.count(func.distinct(ShelterStay.household_id)),
                        func.sum(case((ShelterStay.care_needs != "[]", 1), else_=0)),
                        func.coalesce(func.sum(ShelterStay.pets), 0))
                 .where(*open_here).group_by(ShelterStay.shelter_id))
    async with ctx.transaction() as session:
        rows = (await session.execute(statement)).all()
    return {shelter_id: Occupancy(int(persons), int(households), int(care or 0), int(pets))
            for shelter_id, persons, households, care, pets in rows}


async def _batch(ctx: Any, keys: list[str]) -> list[Occupancy]:
    ids = tuple(sorted(set(keys)))
    counts = await cached_public(ctx, "identity.occupancy", ids, lambda: _counts(ctx, ids))
    return [counts.get(key, EMPTY) for key in keys]


async def occupancy_of(ctx: Any, shelter_id: str) -> Occupancy:
    return await request_loader(ctx, "identity.occupancy", _batch).load(shelter_id)
