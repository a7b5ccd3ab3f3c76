"""The trial sandbox (試用): a separate database per platform that holds only synthetic residents.

Why a separate database and not a tenant column: every query of four subgraphs would have to carry the tenant
filter, and one forgotten `WHERE` would show real residents to a trial caller. With a database of its own the
sandbox holds no real row to leak, and a real caller's request never opens it: the subgraph chooses the database
once per request, from the caller (`database_for`), before any resolver runs. Usage, audit records and
memberships of the sandbox are its own tables, so trial use is counted apart without any extra column.

* Where: `KYODO_<NAME>_TRIAL_DATABASE_URL`, else beside the real database: `var/identity.sqlite` ->
  `var/identity-trial.sqlite`; a PostgreSQL database `kyodo` -> `kyodo_trial` on the same server (created
  when missing).
* Who: a principal with the `trial` role (`TRIAL_ROLE`), which only synthetic trial accounts carry
  (`auth/idp/directory.py`, `kyodo token --trial`). Every personal-data rule still applies inside the sandbox.
* What: each subgraph's `seed.seed_sandbox(session)` writes the synthetic residents of every known municipality
  (`trial_roster`) and the platform's open data; memberships in the sandbox are exactly the trials
  (`subgraphs.common.trial`). Prepared on first use (migrate + seed, idempotent), or ahead with
  `kyodo co-use trial start`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import make_url

TRIAL_ROLE = "trial"
# Whether the current request runs on the sandbox; set once per request (subgraphs.common.app). Only the wording
# of refusals reads it ("the trial … ended"); which database a request uses is the context's `database`.
_in_sandbox: ContextVar[bool] = ContextVar("kyodo_in_sandbox", default=False)


def is_trial(principal: Any | None) -> bool:
    return principal is not None and TRIAL_ROLE in principal.roles


def mark_request(in_sandbox: bool) -> None:
    _in_sandbox.set(in_sandbox)


def in_sandbox() -> bool:
    return _in_sandbox.get()


def sandbox_env_var(name: str) -> str:
    return f"KYODO_{name.upper()}_TRIAL_DATABASE_URL"


def sandbox_url(name: str, real_url: str | None = None) -> str:
    """The sandbox database of subgraph `name`, from the environment or derived from its real database URL."""
    configured = os.environ.get(sandbox_env_var(name))
    if configured:
        return configured
    from subgraphs.common.db import default_url

    url = make_url(real_url or default_url(name))
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            return str(url)   # an in-memory database: its own sandbox is another in-memory database
        stem, dot, suffix = url.database.rpartition(".")
        database = f"{stem}-trial.{suffix}" if dot else f"{url.database}-trial"
        return url.set(database=database).render_as_string(hide_password=False)
    if backend == "postgresql":
        return url.set(database=f"{url.database}_trial").render_as_string(hide_password=False)
    raise ValueError(f"no sandbox for a {backend} database; set {sandbox_env_var(name)}")


async def _ensure_postgres_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                              {"name": parsed.database})
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


async def prepare_sandbox(name: str, url: str) -> None:
    """Migrate the sandbox to head and seed its synthetic residents (both idempotent)."""
    from subgraphs.common.db import Database, upgrade_async

    await _ensure_postgres_database(url)
    await upgrade_async(name, url)
    seed_sandbox = importlib.import_module(f"subgraphs.{name}.seed").seed_sandbox
    database = Database(f"{name}-trial", url)
    try:
        async with database.transaction() as session:
            await seed_sandbox(session)
    finally:
        await database.dispose()


class Sandbox:
    """A subgraph's sandbox database, opened and prepared on the first trial request."""

    def __init__(self, name: str, real_url: str, settings: Any = None) -> None:
        self.name = name
        self.real_url = real_url
        self.settings = settings
        self._database: Any = None
        self._lock = asyncio.Lock()

    async def database(self) -> Any:
        if self._database is not None:
            return self._database
        async with self._lock:
            if self._database is None:
                from subgraphs.common.db import Database

                url = sandbox_url(self.name, self.real_url)
                await prepare_sandbox(self.name, url)
                self._database = Database(self.name, url, self.settings)
        return self._database

    async def dispose(self) -> None:
        if self._database is not None:
            await self._database.dispose()
