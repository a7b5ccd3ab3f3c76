"""Fixtures shared by the subgraph tests.

Storage: `database_url` is parametrised over SQLite (a file per test) and PostgreSQL. PostgreSQL runs only when
`KYODO_TEST_POSTGRES_URL` is set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test): each test then gets
a throwaway database `kyodo_<session>_<n>` created through that server and dropped at the end of the session,
so concurrent test runs and the four subgraphs never share tables.

Identity: `gateway_key` is a test gateway signing key, `gateway_jwks` its public JWKS, and
`mint_context(principal, subgraph)` signs a `Kyodo-Context` token exactly as the gateway would.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

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
