from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from subgraphs.childcare.app import create_app
from subgraphs.childcare.seed import seed
from subgraphs.common.db import Database, upgrade_async


@pytest.fixture
async def childcare_empty_db(database_url):
    """A migrated, empty childcare database on the parametrised backend."""
    await upgrade_async("childcare", database_url)
    database = Database("childcare", database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def childcare_db(childcare_empty_db):
    """The same, seeded from the shared roster."""
    async with childcare_empty_db.transaction() as session:
        await seed(session)
    return childcare_empty_db


@pytest.fixture
async def call(childcare_db, gateway_jwks, mint_context) -> Callable[..., Awaitable[dict]]:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from childcare's /graphql."""
    app = create_app(database_url=childcare_db.url, keys=gateway_jwks)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://childcare")

    async def _call(query: str, variables: dict | None = None, principal=None, token: str | None = None) -> dict:  # noqa: ANN001
        headers = {}
        if principal is not None:
            token = mint_context(principal, "childcare")
        if token is not None:
            headers["Kyodo-Context"] = token
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    yield _call
    await client.aclose()
    await app.state.database.dispose()
