"""Time as identity stores it (aware UTC; sqlmodel refuses naive datetimes) and as voters live it (Japan
time, for the voting window)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def today_in_japan() -> date:
    return datetime.now(JST).date()
