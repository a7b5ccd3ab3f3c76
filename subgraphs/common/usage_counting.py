"""Usage for cost sharing, counted so that no caller can inflate a municipality's share (issue 10 finding 7).

One use is one distinct principal on one day, per platform × municipality × connected application (the OAuth
client id the gateway passes on). Fifty identical queries by one resident on one day are one use; the same
resident through two applications is one use of each. The caller is bound once per request
(`bind_caller`, from the request context) and read by `co_use.count_usage`, so every existing counting site
counts this way without being told who is calling.

The caller is kept as a salted hash of (issuer, subject), never the subject itself: the table answers "how many
different people" and nothing about who. Trial use (issue 11 item 2) is counted the same way but
its own rows in the sandbox database's copy of this table, so that it is reported apart (`tenant`).
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

UNKNOWN_CLIENT = "unknown"          # a token without client_id/azp, or a direct call (jobs, tests)
UNATTRIBUTED = "unattributed"       # no principal at all (open data, jobs)
MAX_CLIENT_ID = 64
_CALLER_SALT = b"kyodo-usage/v1"


class DailyUse(SQLModel, table=True):
    __tablename__ = "co_use_daily_use"

    platform: str = Field(primary_key=True, max_length=16)
    municipality_code: str = Field(primary_key=True, max_length=6)
    client_id: str = Field(primary_key=True, max_length=MAX_CLIENT_ID)
    day: date = Field(primary_key=True)
    caller: str = Field(primary_key=True, max_length=32)   # salted hash of (issuer, subject)


@dataclass(frozen=True)
class Caller:
    key: str
    client_id: str


NOBODY = Caller(UNATTRIBUTED, UNKNOWN_CLIENT)
_current: ContextVar[Caller] = ContextVar("kyodo_usage_caller", default=NOBODY)


def caller_of(principal: Any | None) -> Caller:
    if principal is None:
        return NOBODY
    identity = f"{principal.issuer or ''}\x1f{principal.subject}".encode()
    key = hashlib.sha256(_CALLER_SALT + identity).hexdigest()[:32]
    client = (getattr(principal, "client_id", None) or UNKNOWN_CLIENT)[:MAX_CLIENT_ID]
    return Caller(key, client)


def bind_caller(principal: Any | None) -> None:
    """Called once per request, before any resolver runs (subgraphs.common.context.request_context)."""
    _current.set(caller_of(principal))


def current_caller() -> Caller:
    return _current.get()


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


async def record_use(session: AsyncSession, platform: str, municipality_code: str, *,
                     caller: Caller | None = None, day: date | None = None) -> bool:
    """Note one use; True if it is the first of this caller on this day (the only one that counts)."""
    caller = caller or current_caller()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DailyUse).values(platform=platform, municipality_code=municipality_code,
                                        client_id=caller.client_id, day=day or today_utc(), caller=caller.key)
    result = await session.execute(statement.on_conflict_do_nothing())
    return bool(result.rowcount)


@dataclass(frozen=True)
class UsageLine:
    platform: str
    municipality_code: str
    client_id: str
    principal_days: int          # distinct (principal, day) pairs: what shares are computed from
    distinct_principals: int     # different principals over the month
    tenant: str = "real"         # "trial": counted in a trial sandbox (subgraphs.common.sandbox), reported apart


def month_bounds(month: str) -> tuple[date, date]:
    """"2026-11" -> (2026-11-01, 2026-12-01); ValueError for anything else."""
    try:
        start = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {month!r}") from None
    if len(month) != 7:
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


async def monthly_usage(session: AsyncSession, month: str) -> list[UsageLine]:
    start, end = month_bounds(month)
    rows = await session.execute(
        select(DailyUse.platform, DailyUse.municipality_code, DailyUse.client_id, func.count(),
               func.count(func.distinct(DailyUse.caller)))
        .where(DailyUse.day >= start, DailyUse.day < end)
        .group_by(DailyUse.platform, DailyUse.municipality_code, DailyUse.client_id)
        .order_by(DailyUse.platform, DailyUse.municipality_code, DailyUse.client_id))
    return [UsageLine(p, m, c, int(days), int(people)) for p, m, c, days, people in rows.all()]
