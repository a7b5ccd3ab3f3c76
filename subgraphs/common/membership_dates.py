"""Joining and leaving a platform with an effective date (issue 11 item 2, without trial use).

A membership row says from which day a municipality uses a platform (`joined_on`) and, once it leaves, from
which day it no longer does (`left_on`). Days are Japan days: a municipality joins or leaves at midnight JST.
Leaving keeps the row (the record of when) and the data; docs/co-use.md says what happens to the data.
The platform's home city cannot leave its own platform.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.municipality import MUNICIPALITIES, PLATFORM_HOME

JST = timezone(timedelta(hours=9))


class MembershipError(ValueError):
    """A join or leave that cannot be done; the message says why."""


def today_in_japan() -> date:
    return datetime.now(JST).date()


def is_member(row: Any, day: date) -> bool:
    return row.joined_on <= day and (row.left_on is None or day < row.left_on)


def _check(platform: str, code: str) -> None:
    if platform not in PLATFORM_HOME:
        raise MembershipError(f"unknown platform {platform!r}; choose from {', '.join(PLATFORM_HOME)}")
    if code not in MUNICIPALITIES:
        raise MembershipError(f"unknown municipality code {code!r}")


async def join(session: AsyncSession, platform: str, code: str, on: date) -> Any:
    """Join from `on`; a municipality that left may join again (the row records the new period)."""
    from subgraphs.common.co_use import Membership

    _check(platform, code)
    row = await session.get(Membership, (platform, code))
    if row is None:
        row = Membership(platform=platform, municipality_code=code, joined_on=on)
        session.add(row)
    elif row.left_on is None:
        raise MembershipError(f"{code} is already a member of {platform} since {row.joined_on.isoformat()}")
    elif on < row.left_on:
        raise MembershipError(f"{code} left {platform} on {row.left_on.isoformat()}; it can join again from then on")
    else:
        row.joined_on, row.left_on = on, None
    await session.flush()
    forget_memberships()
    return row


async def leave(session: AsyncSession, platform: str, code: str, on: date) -> Any:
    """No longer a member from `on` on (its residents and staff are refused from that day)."""
    from subgraphs.common.co_use import Membership

    _check(platform, code)
    if PLATFORM_HOME[platform] == code:
        raise MembershipError(f"{code} is the home city of {platform} and cannot leave it")
    row = await session.get(Membership, (platform, code))
    if row is None or row.left_on is not None:
        raise MembershipError(f"{code} is not a member of {platform}")
    if on <= row.joined_on:
        raise MembershipError(f"{code} joined {platform} on {row.joined_on.isoformat()}; leave after that day")
    row.left_on = on
    await session.flush()
    forget_memberships()
    return row


def forget_memberships() -> None:
    """This process answers with the new membership at once; other processes (the subgraph servers, when the
    change comes from `kyodo co-use`) within their public cache's TTL (subgraphs/common/public_cache.py)."""
    from subgraphs.common.public_cache import shared_cache

    shared_cache().clear()
