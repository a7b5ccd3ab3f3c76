"""Deleting visitor stays once their shelter has been closed for the retention period (`kyodo visitors purge`).

Visitors' basic information is kept only for the shelter's operation and its aftermath (finding relatives,
relief lists): `KYODO_VISITOR_RETENTION_DAYS` (default 30) after the shelter's check-in was closed
(`closeShelterCheckIn`), every visitor stay that began before that closure is deleted. Stays at a shelter that
has not been closed are kept: the shelter is still running. The deletion itself is audited (counts, no names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit

from .access import PLATFORM
from .clock import as_utc, utc_now
from .visitor_models import ShelterClosure, VisitorStay

RETENTION_ENV = "KYODO_VISITOR_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 30
PURGE_ACTOR = "kyodo-visitor-retention"


def retention_from_env(environ: dict | None = None) -> timedelta:
    raw = (environ if environ is not None else os.environ).get(RETENTION_ENV, str(DEFAULT_RETENTION_DAYS))
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a whole number of days, not {raw!r}") from None
    if not 0 <= days <= 3650:
        raise ValueError(f"{RETENTION_ENV} must be between 0 and 3650 days, not {days}")
    return timedelta(days=days)


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    cutoff: datetime          # closures at or before this time released their visitors


async def purge_expired(session: AsyncSession, retention: timedelta, now: datetime | None = None) -> PurgeResult:
    cutoff = as_utc(now or utc_now()) - retention
    released = exists().where(ShelterClosure.shelter_id == VisitorStay.shelter_id,
                              ShelterClosure.closed_at >= VisitorStay.checked_in_at,
                              ShelterClosure.closed_at <= cutoff)
    per_municipality = (await session.execute(
        select(VisitorStay.shelter_municipality, func.count()).where(released)
        .group_by(VisitorStay.shelter_municipality))).all()
    result = await session.execute(delete(VisitorStay).where(released).execution_options(
        synchronize_session=False))
    for municipality, count in per_municipality:
        await audit.record(session, PURGE_ACTOR, f"visitors:{municipality}", ["visitorStay"],
                           f"retention: {count} visitor stays deleted", "deleted",
                           subject_municipality=municipality, subgraph=PLATFORM)
    return PurgeResult(int(result.rowcount or 0), cutoff)
