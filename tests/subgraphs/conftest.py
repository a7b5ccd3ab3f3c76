"""Fixtures shared by the subgraph tests.

Storage: `database_url` is parametrised over SQLite and PostgreSQL; PostgreSQL runs only when
`KYODO_TEST_POSTGRES_URL` is set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test).
- `database_url`: an empty database of the test's own (migration tests run Alembic on it themselves).
- `migrated_copy(name, seed=None)`: the test's own copy of subgraph `name`'s database at the newest migration
  (and seeded). Migrating costs seconds per database on PostgreSQL, so each (subgraph, seed) is migrated once
  per run into a template and copied for each test (`CREATE DATABASE … TEMPLATE …`; a file copy for SQLite).
  On PostgreSQL a copy is put back after its test (restored from the snapshot its template carries) and
  handed to the next test, since dropping a database costs a server-wide checkpoint (see `_PostgresDatabases`).
PostgreSQL databases are named `kyodo_t_<run>_…` and all dropped when the run ends, failed tests or not. While it
runs, a run holds the advisory lock (`_LOCK_CLASS`, <run>); at start, a run drops every `kyodo_t_*` database whose
lock nobody holds, i.e. the leftovers of a run that was killed, and never touches a live run's databases.

Identity: `gateway_key` is a test gateway signing key, `gateway_jwks` its public JWKS, and
`mint_context(principal, subgraph)` signs a `Kyodo-Context` token exactly as the gateway would.

Each subgraph's conftest builds its fixtures from `migrated_copy` and `graphql_caller` (its app over ASGI, with
a context token minted for the principal given).
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from subgraphs.common.db import Database, upgrade_async

POSTGRES_ENV = "KYODO_TEST_POSTGRES_URL"
_PREFIX = "kyodo_t_"
_NAME = re.compile(rf"^{_PREFIX}(\d+)_")
_LOCK_CLASS = 0x6B796F  # first key of the advisory lock a live run holds ("kyo"); the second is the run id
_RUN = secrets.randbelow(2**31 - 1) + 1
_DROP_BATCH = 20   # databases dropped at once (each holds a connection while it waits)

Seed = Callable[[Any], Awaitable[None]] | None


async def _migrate(name: str, url: str, seed: Seed) -> None:
    await upgrade_async(name, url)
    if seed is not None:
        database = Database(name, url)
        try:
            async with database.transaction() as session:
                await seed(session)
        finally:
            await database.dispose()


class _PostgresDatabases:
    """The run's databases on the test server: empty ones, one migrated template per (subgraph, seed), and the
    working copies cloned from those templates. `close` drops them all.

    DROP DATABASE forces a checkpoint of the whole server (slow on a busy one), so a working copy is not dropped
    after its test: it is put back as it was cloned (`_restore`: every table truncated and refilled from the
    snapshot schema the template carries, sequences reset) and handed to the next test. A copy whose tables no
    longer match the snapshot (a test changed the schema) is set aside and dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.engine: AsyncEngine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT",
                                                       pool_size=_DROP_BATCH, max_overflow=2)
        self.admin: AsyncConnection | None = None   # holds the run's advisory lock while the run lives
        self.created: set[str] = set()  # every database of the run not dropped yet
        self.numbers = itertools.count(1)
        self.templates: dict[tuple[str, Seed], str] = {}
        self.free: dict[tuple[str, Seed], list[str]] = {}   # restored working copies, ready for a test
        self.free_empty: list[str] = []                       # emptied databases, ready for a test
        self.empties: set[str] = set()
        self.copy_of: dict[str, tuple[str, Seed]] = {}

    def _url(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    async def open(self) -> None:
        self.admin = await self.engine.connect()
        await self.admin.exec_driver_sql(f"SELECT pg_advisory_lock({_LOCK_CLASS}, {_RUN})")
        await self._drop_leftovers()

    async def _drop_leftovers(self) -> None:
        assert self.admin is not None
        rows = await self.admin.exec_driver_sql(
            f"SELECT datname FROM pg_database WHERE datname LIKE '{_PREFIX}%' ORDER BY datname")
        by_run: dict[int, list[str]] = {}
        for (name,) in rows:
            if (match := _NAME.match(name)) and int(match.group(1)) != _RUN:
                by_run.setdefault(int(match.group(1)), []).append(name)
        for run, names in by_run.items():
            free = (await self.admin.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({_LOCK_CLASS}, {run})")).scalar_one()
            if not free:
                continue   # that run is still going
            try:
                await self._drop(names)
            finally:
                await self.admin.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK_CLASS}, {run})")

    async def _create(self, template: str | None = None) -> str:
        assert self.admin is not None
        name = f"{_PREFIX}{_RUN}_{next(self.numbers)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self.created.add(name)   # listed before it exists: a half-made database is dropped too
        await self.admin.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        return name

    async def empty(self) -> str:
        """An empty database: a new one, or one a previous test used and `release` emptied."""
        if self.free_empty:
            return self._url(self.free_empty.pop())
        name = await self._create()
        self.empties.add(name)
        return self._url(name)

    async def migrated(self, subgraph: str, seed: Seed) -> str:
        key = (subgraph, seed)
        free = self.free.setdefault(key, [])
        if free:
            return self._url(free.pop())
        template = self.templates.get(key)
        if template is None:
            template = await self._create()
            await _migrate(subgraph, self._url(template), seed)
            await self._in(template, _TAKE_SNAPSHOT)   # its connections close: nobody stays on the template
            self.templates[key] = template
        name = await self._create(template)
        self.copy_of[name] = key
        return self._url(name)

    async def release(self, url: str) -> None:
        """The test is done with this database: a working copy is restored for the next test."""
        name = make_url(url).database
        key = self.copy_of.get(name)
        assert self.admin is not None
        # a test may leave an engine undisposed; its connections must not see the restore
        await self.admin.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        try:
            await self._in(name, _RESTORE if key is not None else _EMPTY)
        except Exception:  # noqa: BLE001 - it cannot be put back: set it aside, dropped at the end
            self.copy_of.pop(name, None)
            self.empties.discard(name)
            return
        if key is not None:
            self.free[key].append(name)
        else:
            self.free_empty.append(name)

    async def _in(self, database: str, sql: str) -> None:
        engine = create_async_engine(self._url(database), poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql(sql)
        finally:
            await engine.dispose()

    async def _drop(self, names: list[str]) -> None:
        """Concurrently: each DROP DATABASE waits for a checkpoint, and concurrent drops share one."""
        async def drop(name: str) -> None:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.discard(name)

        for start in range(0, len(names), _DROP_BATCH):
            results = await asyncio.gather(*(drop(name) for name in names[start:start + _DROP_BATCH]),
                                           return_exceptions=True)
            failed = [result for result in results if isinstance(result, BaseException)]
            if failed:
                raise failed[0]

    async def close(self) -> None:
        try:
            if self.admin is not None:
                await self._drop(sorted(self.created))   # copies, templates, empty ones, half-made ones
                await self.admin.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK_CLASS}, {_RUN})")
                await self.admin.close()
        finally:
            await self.engine.dispose()


# Run inside a template once it is migrated and seeded: a copy of every table and of the sequences' positions
# in schema kyodo_snapshot (which the subgraphs never read: they use the default schema).
_TAKE_SNAPSHOT = """
DO $$
DECLARE t text;
BEGIN
  CREATE SCHEMA kyodo_snapshot;
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('CREATE TABLE kyodo_snapshot.%I AS TABLE public.%I', t, t);
  END LOOP;
  CREATE TABLE kyodo_snapshot."kyodo sequences" AS
    SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public';
END $$;
"""

# Run in an empty database after its test: every schema a test made, with all it holds, dropped; `public` anew.
_EMPTY = """
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  CREATE SCHEMA public;
END $$;
"""

# Run in a working copy after its test: back to the snapshot, or an error if its tables differ from it.
_RESTORE = """
DO $$
DECLARE t text; tables text;
BEGIN
  IF (SELECT array_agg(tablename ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public')
     IS DISTINCT FROM (SELECT array_agg(tablename ORDER BY tablename) FROM pg_tables
                       WHERE schemaname = 'kyodo_snapshot' AND tablename <> 'kyodo sequences') THEN
    RAISE EXCEPTION 'the tables differ from the snapshot';
  END IF;
  SET LOCAL session_replication_role = replica;   -- no triggers or foreign-key checks while refilling
  SELECT string_agg(format('public.%I', tablename), ', ') INTO tables FROM pg_tables WHERE schemaname = 'public';
  EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY';
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('INSERT INTO public.%I OVERRIDING SYSTEM VALUE SELECT * FROM kyodo_snapshot.%I', t, t);
  END LOOP;
  PERFORM setval(format('public.%I', sequencename), last_value)
    FROM kyodo_snapshot."kyodo sequences" WHERE last_value IS NOT NULL;
END $$;
"""


class _SqliteTemplates:
    """One migrated SQLite file per (subgraph, seed) for the run; each test gets a copy of it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.templates: dict[tuple[str, Seed], Path] = {}

    async def migrated(self, subgraph: str, seed: Seed, target: Path) -> str:
        template = self.templates.get((subgraph, seed))
        if template is None:
            template = self.directory / f"{subgraph}_{len(self.templates) + 1}.sqlite"
            # the engine is disposed after migrating, so SQLite has folded its WAL back into the file
            await _migrate(subgraph, f"sqlite+aiosqlite:///{template}", seed)
            self.templates[(subgraph, seed)] = template
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(scope="session")
async def postgres_databases():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        yield None
        return
    databases = _PostgresDatabases(url)
    try:
        await databases.open()
        yield databases
    finally:
        await databases.close()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory) -> _SqliteTemplates:
    return _SqliteTemplates(tmp_path_factory.mktemp("sqlite-templates"))


STORAGE_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not os.environ.get(POSTGRES_ENV),
                                                        reason=f"set {POSTGRES_ENV} to run on PostgreSQL")),
]


@pytest.fixture(params=STORAGE_BACKENDS)
def storage_backend(request) -> str:
    return request.param


@pytest.fixture
async def database_url(storage_backend, tmp_path, postgres_databases) -> AsyncIterator[str]:
    """A URL of an empty database on the parametrised backend."""
    if storage_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite'}"
        return
    url = await postgres_databases.empty()
    yield url
    await postgres_databases.release(url)


@pytest.fixture
def migrated_copy(storage_backend, tmp_path, postgres_databases, sqlite_templates):
    """`async with migrated_copy(name, seed=None) as database:` the test's own copy of subgraph `name`'s
    database at the newest migration (seeded by `seed`), on the parametrised backend; disposed after."""

    numbers = itertools.count(1)

    @asynccontextmanager
    async def copy(name: str, seed: Seed = None) -> AsyncIterator[Database]:
        if storage_backend == "sqlite":
            url = await sqlite_templates.migrated(name, seed, tmp_path / f"{name}_{next(numbers)}.sqlite")
        else:
            url = await postgres_databases.migrated(name, seed)
        database = Database(name, url)
        try:
            yield database
        finally:
            await database.dispose()
            if storage_backend != "sqlite":
                await postgres_databases.release(url)

    return copy


@asynccontextmanager
async def migrated_database(name: str, url: str, seed: Seed = None) -> AsyncIterator[Database]:
    """subgraph `name`'s database at `url`, upgraded to the newest migration (and seeded), disposed after.
    Migrates on every call: fixtures use `migrated_copy`, which migrates once per run."""
    await _migrate(name, url, seed)
    database = Database(name, url)
    try:
        yield database
    finally:
        await database.dispose()


Call = Callable[..., Awaitable[dict]]


@asynccontextmanager
async def graphql_caller(name: str, database: Any, keys: Any, mint: Callable[..., str], *,
                         timeout: float = 5.0, service_issuer: Any = None) -> AsyncIterator[Call]:
    """`await call(query, variables, principal=None, token=None, bearer=None)` -> the JSON body from `name`'s
    /graphql. `bearer`: a service's own access token, sent as Authorization (checked against `service_issuer`)."""
    direct = {"service_issuer": service_issuer} if service_issuer is not None else {}
    app = importlib.import_module(f"subgraphs.{name}.app").create_app(database_url=database.url, keys=keys, **direct)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=timeout)

    async def call(query: str, variables: dict | None = None, principal: Any = None,
                   token: str | None = None, bearer: str | None = None) -> dict:
        headers = {}
        if principal is not None:
            token = mint(principal, name)
        if token is not None:
            headers["Kyodo-Context"] = token
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    try:
        yield call
    finally:
        await client.aclose()
        await app.state.database.dispose()


# --- gateway context tokens ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def gateway_key():
    from auth.gateway_keys import generate_signing_key

    return generate_signing_key()


@pytest.fixture(scope="session")
def gateway_jwks(gateway_key):
    """The public key set a subgraph would load from `KYODO_GATEWAY_JWKS`."""
    from auth.gateway_keys import import_public_keys, public_jwks

    return import_public_keys(public_jwks(gateway_key))


@pytest.fixture(scope="session")
def mint_context(gateway_key) -> Callable[..., str]:
    from auth.context_token import sign_context

    def mint(principal, subgraph: str, key=None) -> str:  # noqa: ANN001
        return sign_context(principal, subgraph, key or gateway_key)

    return mint


def make_principal(subject: str, municipality: str | None, roles=("resident",), scopes=(), assurance=None):  # noqa: ANN001, ANN201
    from auth.principal import Principal

    return Principal(subject=subject, municipality=municipality, roles=frozenset(roles), scopes=frozenset(scopes),
                     assurance=assurance)


def resident_principal(person) -> object:  # noqa: ANN001
    roles = ("resident", "guardian") if any(person.id in p.guardian_ids for p in _roster()) else ("resident",)
    return make_principal(person.id, person.municipality_code, roles, assurance="card-pin")


def staff_principal(member) -> object:  # noqa: ANN001
    return make_principal(member.id, member.municipality_code, ("staff",), member.scopes, assurance="password")


def _roster():  # noqa: ANN202
    from subgraphs.common.roster import ROSTER

    return ROSTER


@pytest.fixture(autouse=True)
def fresh_public_cache():
    """Each test starts with an empty process-wide public cache (subgraphs/common/public_cache.py) whose TTL
    is read from the environment the test set up."""
    from subgraphs.common.public_cache import reset_shared_cache

    reset_shared_cache()
    yield
    reset_shared_cache()


@pytest.fixture(autouse=True)
def audit_keys_in_tmp(tmp_path_factory, monkeypatch):
    """Audit chain and checkpoint keys, and the checkpoint sink, in a folder of this test session (never
    ./var/audit); each test starts with a fresh sink and re-reads the keys."""
    from subgraphs.common import audit_keys

    keys = tmp_path_factory.getbasetemp() / "audit-keys"
    if not (keys / "chain.key").exists():
        keys.mkdir(exist_ok=True)
        (keys / "chain.key").write_text(secrets.token_hex(32))
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        (keys / "checkpoint.key").write_bytes(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    monkeypatch.setenv(audit_keys.CHAIN_KEY_ENV, str(keys / "chain.key"))
    monkeypatch.setenv(audit_keys.CHECKPOINT_KEY_ENV, str(keys / "checkpoint.key"))
    monkeypatch.setenv(audit_keys.CHECKPOINT_DIR_ENV, str(tmp_path_factory.mktemp("checkpoints")))
    audit_keys.reset_current_keys()
    yield
    audit_keys.reset_current_keys()
