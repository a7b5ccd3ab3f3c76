"""The body of every subgraph's Alembic `env.py`.

A subgraph's `migrations/env.py` is just:

    from subgraphs.common.migration_env import run_migrations
    run_migrations()

`subgraphs.common.db.upgrade_async` hands Alembic an open connection (config.attributes["connection"]);
the plain `alembic` command line instead gets a URL and this module opens an async engine itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def _configure_and_run(connection) -> None:  # noqa: ANN001 - sync Connection
    context.configure(connection=connection, target_metadata=None, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_migrations() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
    else:
        asyncio.run(_run_with_url(config.get_main_option("sqlalchemy.url")))
