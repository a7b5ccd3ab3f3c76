from __future__ import annotations

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations

from subgraphs.common.common_tables import (add_audit_actor_auth, add_audit_keying, add_membership_left_on,
                                            create_common_tables, create_daily_use_table)
from subgraphs.common.db import Database


@pytest.fixture
async def common_db(database_url):
    """A database holding only the shared tables, created by the same Alembic operations the subgraphs run."""
    database = Database("common", database_url)

    def _create(connection) -> None:  # noqa: ANN001
        operations = Operations(MigrationContext.configure(connection))
        create_common_tables(operations)
        add_audit_actor_auth(operations)
        create_daily_use_table(operations)
        add_membership_left_on(operations)
        add_audit_keying(operations)

    async with database.engine.begin() as connection:
        await connection.run_sync(_create)
    yield database
    await database.dispose()
