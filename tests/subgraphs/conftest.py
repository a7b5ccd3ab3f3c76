"""Fixtures shared by the subgraph tests.

Storage: `database_url` is parametrised over SQLite (a file per test) and PostgreSQL. PostgreSQL runs only when
`KYODO_TEST_POSTGRES_URL` is set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test): each test then gets
a throwaway database `kyodo_<session>_<n>` created through that server and dropped at the end of the session,
so concurrent test runs and the four subgraphs never share tables.

Identity: `gateway_key` is a test gateway signing key, `gateway_jwks` its public JWKS, and
`mint_context(principal, subgraph)` signs a `Kyodo-Context` token exactly as the gateway would.

Each subgraph's conftest builds its fixtures from `migrated_database` (upgrade, optionally seed, dispose) and
`graphql_caller` (its app over ASGI, with a context token minted for the principal given).
"""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_ENV = "KYODO_TEST_POSTGRES_URL"
_SESSION_TAG = secrets.token_hex(4)


class _PostgresDatabases:
    """Creates throwaway databases on the test server and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.created: list[str] = []

    async def create(self) -> str:
        name = f"kyodo_{_SESSION_TAG}_{len(self.created) + 1}"
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            await engine.dispose()
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self.created:
            return
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for name in self.created:
                    await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await engine.dispose()


@pytest.fixture(scope="session")
async def postgres_databases():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        yield None
        return
    databases = _PostgresDatabases(url)
    yield databases
    await databases.drop_all()


STORAGE_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not os.environ.get(POSTGRES_ENV),
                                                        reason=f"set {POSTGRES_ENV} to run on PostgreSQL")),
]


@pytest.fixture(params=STORAGE_BACKENDS)
def storage_backend(request) -> str:
    return request.param


@pytest.fixture
async def database_url(storage_backend, tmp_path, postgres_databases) -> str:
    """A URL of an empty database on the parametrised backend."""
    if storage_backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite'}"
    return await postgres_databases.create()


@asynccontextmanager
async def migrated_database(name: str, url: str,
                            seed: Callable[[Any], Awaitable[None]] | None = None) -> AsyncIterator[Any]:
    """subgraph `name`'s database at `url`, upgraded to the newest migration (and seeded), disposed after."""
    from subgraphs.common.db import Database, upgrade_async

    await upgrade_async(name, url)
    database = Database(name, url)
    try:
        if seed is not None:
            async with database.transaction() as session:
                await seed(session)
        yield database
    finally:
        await database.dispose()


Call = Callable[..., Awaitable[dict]]


@asynccontextmanager
async def graphql_caller(name: str, database: Any, keys: Any, mint: Callable[..., str], *,
                         timeout: float = 5.0) -> AsyncIterator[Call]:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from `name`'s /graphql."""
    app = importlib.import_module(f"subgraphs.{name}.app").create_app(database_url=database.url, keys=keys)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=timeout)

    async def call(query: str, variables: dict | None = None, principal: Any = None,
                   token: str | None = None) -> dict:
        headers = {}
        if principal is not None:
            token = mint(principal, name)
        if token is not None:
            headers["Kyodo-Context"] = token
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
