"""共同利用: which municipality has joined which platform, and usage counted for sharing running costs.

A platform serves residents and staff of its home city and of the municipalities that joined it; anyone else
gets PLATFORM_NOT_JOINED. Usage is counted per distinct principal and day, per municipality, platform and
connected application (`usage_counting`); the monthly `Usage` row keeps those distinct uses as `requests`
(so one caller's repeated queries add nothing) and the records touched.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from subgraphs.common.errors import PlatformNotJoined
from subgraphs.common.membership_dates import is_member, today_in_japan
from subgraphs.common.sandbox import in_sandbox
from subgraphs.common.usage_counting import record_use
from subgraphs.common.municipality import (
    HIMEJI, KAKOGAWA, KAKOGAWA_BASIN, KASAI, MIKI, MUNICIPALITIES, PLATFORM_HOME, SANDA, TAKASAGO, YABU,
)


class Membership(SQLModel, table=True):
    __tablename__ = "co_use_membership"

    platform: str = Field(primary_key=True, max_length=16)
    municipality_code: str = Field(primary_key=True, max_length=6)
    joined_on: date                   # effective from this day (Japan time)
    left_on: date | None = None       # no longer a member from this day on (`membership_dates`)


class Usage(SQLModel, table=True):
    __tablename__ = "co_use_usage"

    platform: str = Field(primary_key=True, max_length=16)
    municipality_code: str = Field(primary_key=True, max_length=6)
    period: str = Field(primary_key=True, max_length=7)   # YYYY-MM
    requests: int = 0
    records: int = 0


# Seed memberships: each platform's home city plus the municipalities that joined it. The four cities use each
# other's platforms; the basin shares safety; 稲美町 and 多可町 have joined nothing (their residents are refused).
DEFAULT_MEMBERSHIPS: dict[str, tuple[str, ...]] = {
    "childcare": (HIMEJI, KAKOGAWA, KASAI, YABU, TAKASAGO),
    "safety": tuple(dict.fromkeys((KAKOGAWA, *KAKOGAWA_BASIN, HIMEJI, KASAI, YABU, MIKI))),
    "currency": (KASAI, HIMEJI, KAKOGAWA, YABU),
    "identity": (YABU, HIMEJI, KAKOGAWA, KASAI, SANDA),
}
SEED_JOINED_ON = date(2025, 4, 1)


async def seed_memberships(session: AsyncSession, memberships: dict[str, tuple[str, ...]] | None = None) -> int:
    """Insert the default memberships that are missing (idempotent). Returns how many were added."""
    memberships = memberships or DEFAULT_MEMBERSHIPS
    existing = {(m.platform, m.municipality_code) for m in (await session.execute(select(Membership))).scalars()}
    added = 0
    for platform, codes in memberships.items():
        for code in codes:
            if (platform, code) not in existing:
                joined = SEED_JOINED_ON if code != PLATFORM_HOME[platform] else date(2024, 4, 1)
                session.add(Membership(platform=platform, municipality_code=code, joined_on=joined))
                added += 1
    await session.flush()
    return added


async def membership(session: AsyncSession, platform: str, municipality_code: str | None) -> Membership | None:
    if not municipality_code:
        return None
    return await session.get(Membership, (platform, municipality_code))


async def joined(session: AsyncSession, platform: str, municipality_code: str | None, *,
                 on: date | None = None) -> bool:
    """A member on that day (default today in Japan): joined on or before it and not yet left."""
    row = await membership(session, platform, municipality_code)
    return row is not None and is_member(row, on or today_in_japan())


async def ensure_joined(session: AsyncSession, platform: str, municipality_code: str | None) -> None:
    """Raise PLATFORM_NOT_JOINED unless the municipality uses the platform today; the message says why."""
    row = await membership(session, platform, municipality_code)
    today = today_in_japan()
    if row is not None and is_member(row, today):
        return
    known = MUNICIPALITIES.get(municipality_code or "")
    name = known.name if known else (municipality_code or "an unknown municipality")
    if in_sandbox():   # a trial caller: the sandbox's memberships are trials (subgraphs.common.trial)
        _refuse_trial(row, today, name, platform, municipality_code)
    if row is not None and row.left_on is not None and row.left_on <= today:
        raise PlatformNotJoined(f"{name} left the {platform} platform on {row.left_on.isoformat()}",
                                platform=platform, municipality=municipality_code, leftOn=row.left_on.isoformat())
    if row is not None and row.joined_on > today:
        raise PlatformNotJoined(f"{name} joins the {platform} platform on {row.joined_on.isoformat()}",
                                platform=platform, municipality=municipality_code,
                                joinsOn=row.joined_on.isoformat())
    raise PlatformNotJoined(f"{name} has not joined the {platform} platform",
                            platform=platform, municipality=municipality_code)


def _refuse_trial(row: Membership | None, today: date, name: str, platform: str, code: str | None) -> None:
    from datetime import timedelta

    if row is not None and row.left_on is not None and row.left_on <= today:
        ended = (row.left_on - timedelta(days=1)).isoformat()
        raise PlatformNotJoined(f"the trial of the {platform} platform for {name} ended on {ended}",
                                platform=platform, municipality=code, trialEndedOn=ended)
    if row is not None and row.joined_on > today:
        raise PlatformNotJoined(f"the trial of the {platform} platform for {name} starts on "
                                f"{row.joined_on.isoformat()}", platform=platform, municipality=code,
                                trialStartsOn=row.joined_on.isoformat())
    raise PlatformNotJoined(f"{name} has no trial of the {platform} platform", platform=platform,
                            municipality=code)


async def members(session: AsyncSession, platform: str, *, on: date | None = None) -> list[str]:
    """Municipalities that are members on that day (default today)."""
    day = on or today_in_japan()
    rows = await session.execute(select(Membership).where(Membership.platform == platform)
                                 .order_by(Membership.municipality_code))
    return [m.municipality_code for m in rows.scalars() if is_member(m, day)]


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m")


async def count_usage(session: AsyncSession, platform: str, municipality_code: str | None, *,
                      requests: int = 1, records: int = 0, period: str | None = None) -> None:
    """Count one use by the current caller (`usage_counting`): a first use of the day adds to `requests`, a
    repeat adds only its records. One upsert each, safe under concurrent requests."""
    if not municipality_code:
        return
    if not await record_use(session, platform, municipality_code):
        requests = 0
        if not records:
            return
    period = period or current_period()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Usage).values(platform=platform, municipality_code=municipality_code, period=period,
                                     requests=requests, records=records)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "municipality_code", "period"],
        set_={"requests": Usage.requests + requests, "records": Usage.records + records},
    )
    await session.execute(statement)


async def usage_report(session: AsyncSession, platform: str | None = None,
                       period: str | None = None) -> list[Usage]:
    statement = select(Usage)
    if platform:
        statement = statement.where(Usage.platform == platform)
    if period:
        statement = statement.where(Usage.period == period)
    rows = await session.execute(statement.order_by(Usage.platform, Usage.period, Usage.municipality_code))
    return list(rows.scalars())
