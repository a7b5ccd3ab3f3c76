"""Trial use: the sandbox beside the real database, starting a trial, its end by date, purging the sandbox."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from subgraphs.common import co_use
from subgraphs.common.membership_dates import MembershipError, is_member
from subgraphs.common.municipality import HIMEJI, INAMI, KAKOGAWA, TAKA
from subgraphs.common.roster import ROSTER
from subgraphs.common.sandbox import is_trial, sandbox_url
from subgraphs.common.trial import purge_sandbox, start_trial, trials
from subgraphs.common.trial_roster import is_trial_id, trial_people
from subgraphs.identity.models import Resident
from subgraphs.identity.seed import seed, seed_sandbox

DAY = date(2026, 12, 1)


def test_the_sandbox_sits_beside_the_real_database(monkeypatch):
    monkeypatch.delenv("KYODO_IDENTITY_TRIAL_DATABASE_URL", raising=False)
    assert sandbox_url("identity", "sqlite+aiosqlite:////srv/var/identity.sqlite") == \
        "sqlite+aiosqlite:////srv/var/identity-trial.sqlite"
    assert sandbox_url("identity", "postgresql+asyncpg://kyodo:pw@db:5432/identity") == \
        "postgresql+asyncpg://kyodo:pw@db:5432/identity_trial"
    monkeypatch.setenv("KYODO_IDENTITY_TRIAL_DATABASE_URL", "postgresql+asyncpg://db/elsewhere")
    assert sandbox_url("identity", "sqlite+aiosqlite:///x.sqlite") == "postgresql+asyncpg://db/elsewhere"


def test_trial_residents_are_synthetic_marked_and_apart_from_the_roster():
    people = trial_people(TAKA)
    assert people == trial_people(TAKA)                                   # deterministic
    assert all(is_trial_id(p.id) and p.family_name == "試用" for p in people)
    assert not {p.id for p in people} & {p.id for p in ROSTER}
    assert not {p.id for p in people} & {p.id for p in trial_people(INAMI)}


def test_only_the_trial_role_is_a_trial_caller():
    from auth.principal import Principal

    real = Principal("r-1", TAKA, frozenset({"resident"}), frozenset())
    trial = Principal("t-1", TAKA, frozenset({"resident", "trial"}), frozenset())
    assert not is_trial(real) and is_trial(trial) and not is_trial(None)


async def test_a_trial_starts_for_a_non_member_and_ends_by_date(migrated_copy):
    async with migrated_copy("identity", seed) as real, migrated_copy("identity", seed_sandbox) as sandbox:
        async with real.sessions() as real_session, sandbox.transaction() as session:
            trial = await start_trial(real_session, session, "identity", TAKA, 14, on=DAY)
            assert (trial.starts_on, trial.ends_on) == (DAY, DAY + timedelta(days=13))
            for code, days, reason in ((KAKOGAWA, 5, "is a member"), (HIMEJI, 5, "is a member"),
                                       (INAMI, 0, "1 to 90 days"), (INAMI, 91, "1 to 90 days"),
                                       (TAKA, 3, "already has a trial"), ("282227", 3, "home city")):
                with pytest.raises(MembershipError, match=reason):
                    await start_trial(real_session, session, "identity", code, days, on=DAY)
        async with sandbox.sessions() as session:
            row = await session.get(co_use.Membership, ("identity", TAKA))
            assert is_member(row, trial.ends_on) and not is_member(row, trial.ends_on + timedelta(days=1))
            assert [t.active(trial.ends_on + timedelta(days=1)) for t in await trials(session, "identity")] == [False]
        async with real.sessions() as session:                            # nothing was written to the real side
            assert await session.get(co_use.Membership, ("identity", TAKA)) is None
            real_ids = set((await session.execute(select(Resident.id))).scalars())
        assert not any(is_trial_id(i) for i in real_ids)


async def test_the_sandbox_purge_waits_for_the_trial_then_restores_the_synthetic_residents(migrated_copy):
    async with migrated_copy("identity", seed) as real, migrated_copy("identity", seed_sandbox) as sandbox:
        async with real.sessions() as real_session, sandbox.transaction() as session:
            await start_trial(real_session, session, "identity", TAKA, 3, on=DAY)
        async with sandbox.transaction() as session:
            before = int((await session.execute(select(func.count()).select_from(Resident))).scalar_one())
            with pytest.raises(MembershipError, match="runs or is coming"):
                await purge_sandbox(session, "identity", today=DAY + timedelta(days=2))
        async with sandbox.transaction() as session:
            session.add(Resident(id="t-written-by-user", municipal_id="x", family_name="試用", given_name="x",
                                 family_kana="x", given_kana="x", birth_date=DAY, sex=1, municipality_code=TAKA,
                                 household_id=trial_people(TAKA)[0].household_id))
        async with sandbox.transaction() as session:
            deleted = await purge_sandbox(session, "identity", today=DAY + timedelta(days=3))
        assert deleted["identity_resident"] == before + 1
        async with sandbox.sessions() as session:
            after = set((await session.execute(select(Resident.id))).scalars())
            assert len(after) == before and "t-written-by-user" not in after
            assert len(await trials(session)) == 1                       # the record of the trial is kept
