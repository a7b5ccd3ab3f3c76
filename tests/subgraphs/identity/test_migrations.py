"""identity's Alembic migrations run up and down on each backend, and an upgrade keeps the data."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from subgraphs.common.db import Database, downgrade_async, upgrade_async
from subgraphs.common.roster import ROSTER
from subgraphs.identity.models import Resident
from subgraphs.identity.seed import seed


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(database_url):
    await upgrade_async("identity", database_url)
    database = Database("identity", database_url)
    try:
        tables = await _tables(database)
        assert {"identity_resident", "identity_card_link", "audit_record", "co_use_membership"} <= tables
        async with database.transaction() as session:
            await seed(session)
        await upgrade_async("identity", database_url)   # already at head: a no-op that keeps the data
        async with database.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(Resident))).scalar_one() == len(ROSTER)
        await downgrade_async("identity", database_url)
        assert await _tables(database) <= {"alembic_version"}
        await upgrade_async("identity", database_url)
        assert await _tables(database) == tables
    finally:
        await database.dispose()


async def test_visitor_tables_migrate_down_and_up_keeping_earlier_data(database_url):
    """identity_0003 (visitor stays, shelter closures) downgrades to 0002 without touching residents."""
    await upgrade_async("identity", database_url)
    database = Database("identity", database_url)
    visitor_tables = {"identity_visitor_stay", "identity_shelter_closure"}
    try:
        assert visitor_tables <= await _tables(database)
        async with database.transaction() as session:
            await seed(session)
        await downgrade_async("identity", database_url, "identity_0002")
        assert not visitor_tables & await _tables(database)
        async with database.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(Resident))).scalar_one() == len(ROSTER)
        await upgrade_async("identity", database_url)
        assert visitor_tables <= await _tables(database)
    finally:
        await database.dispose()
