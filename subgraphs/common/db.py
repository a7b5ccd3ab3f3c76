"""Database setup for one subgraph: URL from the environment, async engine, sessions, Alembic upgrade.

Each subgraph has its own database: `KYODO_<NAME>_DATABASE_URL` (e.g. `postgresql+asyncpg://…`), else
`sqlite+aiosqlite:///var/<name>.sqlite` under the working directory. Schema changes go through the Alembic
scripts in `subgraphs/<name>/migrations/` (see `upgrade`), never `create_all`, so a city's data survives
upgrades. Table names are prefixed with the subgraph name (`identity_resident`) except the shared
`audit_*`/`co_use_*` tables, because all SQLModel tables live in one process-wide metadata.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from subgraphs.common.errors import DatabaseBusy
from subgraphs.common.events import take_pending
from subgraphs.common.serving_settings import ServingSettings

SUBGRAPHS_DIR = Path(__file__).resolve().parent.parent


def env_var(name: str) -> str:
    return f"KYODO_{name.upper()}_DATABASE_URL"


def default_url(name: str) -> str:
    """The subgraph's database URL: from `KYODO_<NAME>_DATABASE_URL`, else a SQLite file in ./var/."""
    configured = os.environ.get(env_var(name))
    if configured:
        return configured
    return f"sqlite+aiosqlite:///var/{name}.sqlite"


def _prepare_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # personal data: owner-only, like the key files (SQLite gives its -wal/-shm files the same mode).
        # Only a file that does not exist yet is touched: closing any descriptor of an open SQLite file would
        # drop this process's POSIX locks on it.
        try:
            os.close(os.open(parsed.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


def _pool_options(url: str, settings: ServingSettings | None) -> dict:
    """Pool size and a short wait: past it the request gets DATABASE_BUSY instead of queueing for 30 s."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or parsed.database == ":memory:"):
        return {}   # an in-memory database keeps one static connection: no pool to size
    settings = settings or ServingSettings.from_env()
    return {"pool_size": settings.pool_size, "max_overflow": settings.pool_overflow,
            "pool_timeout": settings.pool_timeout}


def make_engine(url: str, settings: ServingSettings | None = None) -> AsyncEngine:
    """An async engine; SQLite gets a busy timeout and foreign keys, so concurrent writers wait instead of failing."""
    _prepare_sqlite_file(url)
    pool = _pool_options(url, settings)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL: a writer (e.g. an audit record of a refusal) never waits for an open reader to finish.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **pool)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class Database:
    """One subgraph's database: engine plus session factory."""

    name: str
    url: str
    settings: ServingSettings | None = None
    # subgraphs.common.events.EventBroker: where a committed transaction's events go (None: dropped)
    events: Any = field(default=None, repr=False)
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url, self.settings)
        self.sessions = make_sessions(self.engine)

    @classmethod
    def for_subgraph(cls, name: str, url: str | None = None, *, settings: ServingSettings | None = None) -> Database:
        return cls(name, url or default_url(name), settings)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any exception.

        A pool that stays exhausted past `KYODO_DB_POOL_TIMEOUT` becomes DATABASE_BUSY for the client.
        Events queued on the session (`events.publish_on_commit`) are published once the commit succeeded."""
        try:
            async with self.sessions() as session:
                async with session.begin():
                    yield session
                pending = take_pending(session)   # reached only when the commit succeeded
        except sa_exc.TimeoutError:
            raise DatabaseBusy("the database is busy; try again shortly", retryAfter=1) from None
        if pending and self.events is not None:
            await self.events.publish_all(pending)

    @property
    def is_postgresql(self) -> bool:
        return make_url(self.url).get_backend_name() == "postgresql"

    async def dispose(self) -> None:
        await self.engine.dispose()


# --- Alembic ---------------------------------------------------------------------------------------------

def migrations_dir(name: str) -> Path:
    return SUBGRAPHS_DIR / name / "migrations"


def alembic_config(name: str, url: str):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir(name)))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["subgraph"] = name
    return config


async def _run_alembic(name: str, url: str | None, action: str, revision: str) -> None:
    from alembic import command

    url = url or default_url(name)
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            def _run(sync_connection) -> None:  # noqa: ANN001
                config = alembic_config(name, url)
                config.attributes["connection"] = sync_connection
                getattr(command, action)(config, revision)

            await connection.run_sync(_run)
    finally:
        await engine.dispose()


async def upgrade_async(name: str, url: str | None = None, revision: str = "head") -> None:
    """Run the subgraph's Alembic migrations up to `revision` on an async engine (usable inside a running loop)."""
    await _run_alembic(name, url, "upgrade", revision)


async def downgrade_async(name: str, url: str | None = None, revision: str = "base") -> None:
    """Undo migrations down to `revision` (default: an empty database)."""
    await _run_alembic(name, url, "downgrade", revision)


def upgrade(name: str, url: str | None = None, revision: str = "head") -> None:
    """Synchronous entry for the CLI: `kyodo migrate NAME`."""
    asyncio.run(upgrade_async(name, url, revision))
