"""Running a mutation in its own transaction, retried when it lost a race it can win on a second try."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.context import RequestContext

MAX_ATTEMPTS = 4
_RETRYABLE_PG_CODES = {"40001", "40P01"}  # serialization failure, deadlock

T = TypeVar("T")


def _retryable(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return True  # e.g. two first-time account openings: the retry finds the account the other made
    code = getattr(getattr(error, "orig", None), "sqlstate", None) or getattr(getattr(error, "orig", None), "pgcode", None)
    return code in _RETRYABLE_PG_CODES or "database is locked" in str(error)


async def in_transaction(ctx: RequestContext, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a fresh transaction, retrying on a lost race (unique key, deadlock, serialization)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with ctx.transaction() as session:
                return await work(session)
        except DBAPIError as error:
            if attempt == MAX_ATTEMPTS or not _retryable(error):
                raise
    raise AssertionError("unreachable")

