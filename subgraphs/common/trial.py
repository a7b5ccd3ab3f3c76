"""Trial use (試用): a municipality tries a platform for a few days, in the sandbox, before deciding to join.

A trial is a membership row in the platform's sandbox database (`subgraphs.common.sandbox`): joined on its
first day, left on the day after its last. Because membership is evaluated by date (`membership_dates`), the
trial ends by itself at midnight JST after `ends_on`: no job has to run. Only synthetic residents live there,
so the trial can never touch real data; `purge_sandbox` deletes what trial users wrote once no trial runs.

Who starts one: the platform's home city staff with `<platform>:co-use` (GraphQL `start<Platform>Trial`,
audited in the platform's real audit log), or the operator with `kyodo co-use trial start`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.membership_dates import MembershipError, forget_memberships, is_member, today_in_japan
from subgraphs.common.municipality import MUNICIPALITIES, PLATFORM_HOME

MAX_TRIAL_DAYS = 90


@dataclass(frozen=True)
class Trial:
    platform: str
    municipality: str
    starts_on: date
    ends_on: date          # the last day of the trial (inclusive)

    def active(self, day: date | None = None) -> bool:
        day = day or today_in_japan()
        return self.starts_on <= day <= self.ends_on

    def as_extension(self) -> dict[str, object]:
        """What every answer to a trial caller carries in `extensions.coUse.trials`."""
        return {"platform": self.platform, "municipality": self.municipality,
                "startsOn": self.starts_on.isoformat(), "endsOn": self.ends_on.isoformat(),
                "active": self.active()}


def _trial_of(row) -> Trial:  # noqa: ANN001 - co_use.Membership
    return Trial(row.platform, row.municipality_code, row.joined_on, row.left_on - timedelta(days=1))


async def start_trial(real: AsyncSession, sandbox: AsyncSession, platform: str, code: str, days: int,
                      on: date | None = None) -> Trial:
    """Start a trial of `days` days from `on` (default today, JST). `real` is read to refuse a member; the row is
    written to `sandbox`. A municipality may try again after its previous trial ended."""
    from subgraphs.common import co_use

    on = on or today_in_japan()
    if platform not in PLATFORM_HOME:
        raise MembershipError(f"unknown platform {platform!r}; choose from {', '.join(PLATFORM_HOME)}")
    if code not in MUNICIPALITIES:
        raise MembershipError(f"unknown municipality code {code!r}")
    if not 1 <= days <= MAX_TRIAL_DAYS:
        raise MembershipError(f"a trial lasts 1 to {MAX_TRIAL_DAYS} days, not {days}")
    if PLATFORM_HOME[platform] == code:
        raise MembershipError(f"{code} is the home city of {platform}; it needs no trial")
    member = await co_use.membership(real, platform, code)
    if member is not None and (is_member(member, on) or member.joined_on > on):
        raise MembershipError(f"{code} is a member of {platform} (from {member.joined_on.isoformat()}); "
                              "a trial is for municipalities that have not joined")
    row = await sandbox.get(co_use.Membership, (platform, code))
    ends = on + timedelta(days=days)
    if row is None:
        row = co_use.Membership(platform=platform, municipality_code=code, joined_on=on, left_on=ends)
        sandbox.add(row)
    elif row.left_on is not None and row.left_on > on:
        raise MembershipError(f"{code} already has a trial of {platform} until {_trial_of(row).ends_on.isoformat()}")
    else:
        row.joined_on, row.left_on = on, ends
    await sandbox.flush()
    forget_memberships()
    return _trial_of(row)


async def trials(sandbox: AsyncSession, platform: str | None = None, code: str | None = None) -> list[Trial]:
    """Trials recorded in a sandbox (running, coming or ended), optionally of one platform or municipality."""
    from subgraphs.common import co_use

    statement = select(co_use.Membership).where(co_use.Membership.left_on.is_not(None))
    if platform:
        statement = statement.where(co_use.Membership.platform == platform)
    if code:
        statement = statement.where(co_use.Membership.municipality_code == code)
    rows = await sandbox.execute(statement.order_by(co_use.Membership.platform, co_use.Membership.municipality_code))
    return [_trial_of(row) for row in rows.scalars()]


async def purge_sandbox(sandbox: AsyncSession, platform: str, today: date | None = None) -> dict[str, int]:
    """Delete what trial users wrote in a platform's sandbox and put the synthetic residents back.

    Refused while a trial of that platform runs or is still to come. The sandbox's memberships (the record of
    which trials ran), usage (reported apart) and audit log are kept; every platform table is emptied and
    seeded again (`seed_sandbox`)."""
    import importlib

    from sqlalchemy import delete

    from subgraphs.common.retention import existing_tables, platform_tables

    today = today or today_in_japan()
    running = [t for t in await trials(sandbox, platform) if t.ends_on >= today]
    if running:
        names = ", ".join(f"{t.municipality} until {t.ends_on.isoformat()}" for t in running)
        raise MembershipError(f"a trial of {platform} runs or is coming ({names}); purge after it ended")
    deleted: dict[str, int] = {}
    for table in reversed(await existing_tables(sandbox, platform_tables(platform))):
        deleted[table.name] = int((await sandbox.execute(delete(table))).rowcount or 0)
    await importlib.import_module(f"subgraphs.{platform}.seed").seed_sandbox(sandbox)
    return deleted
