"""The storage fixtures: every test's migrated database is its own copy, whatever the others do to theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text, update

from subgraphs.common.db import Database
from subgraphs.common.roster import ROSTER
from subgraphs.identity.models import Resident
from subgraphs.identity.seed import seed
from tests.subgraphs.conftest import POSTGRES_ENV


async def _tables(database) -> set[str]:  # noqa: ANN001
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def _residents(database) -> int:  # noqa: ANN001
    async with database.sessions() as session:
        return (await session.execute(select(func.count()).select_from(Resident))).scalar_one()


async def test_copies_are_migrated_seeded_and_independent(migrated_copy):
    async with migrated_copy("identity", seed) as first, migrated_copy("identity", seed) as second:
        assert first.url != second.url
        assert "identity_resident" in await _tables(first)
        assert await _residents(first) == await _residents(second) == len(ROSTER)
        async with first.transaction() as session:
            await session.execute(text("CREATE TABLE probe_only_here (x INTEGER)"))
        assert "probe_only_here" in await _tables(first)
        assert "probe_only_here" not in await _tables(second)
    async with migrated_copy("identity") as unseeded:
        assert await _residents(unseeded) == 0


async def test_a_postgresql_copy_is_put_back_before_it_is_reused(postgres_databases):
    if postgres_databases is None:
        pytest.skip(f"set {POSTGRES_ENV} to run on PostgreSQL")
    url = await postgres_databases.migrated("identity", seed)
    database = Database("identity", url)
    try:
        async with database.transaction() as session:
            await session.execute(update(Resident).values(family_name="changed"))
    finally:
        await database.dispose()
    await postgres_databases.release(url)

    assert await postgres_databases.migrated("identity", seed) == url   # the same database, handed on
    database = Database("identity", url)
    try:
        async with database.sessions() as session:
            names = set((await session.execute(select(Resident.family_name))).scalars())
    finally:
        await database.dispose()
    await postgres_databases.release(url)
    assert "changed" not in names and len(names) > 1
