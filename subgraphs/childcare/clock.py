"""What "today" means for children's schedules: the date in Japan."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9))


def today_in_japan() -> date:
    return datetime.now(JST).date()
