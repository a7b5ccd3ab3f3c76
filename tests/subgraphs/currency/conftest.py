from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from subgraphs.common.db import Database, upgrade_async
from subgraphs.currency.app import create_app
from subgraphs.currency.seed import seed


@pytest.fixture
async def currency_db(database_url):
    """A migrated, seeded currency database on the parametrised backend."""
    await upgrade_async("currency", database_url)
    database = Database("currency", database_url)
    async with database.transaction() as session:
        await seed(session)
    yield database
    await database.dispose()


@pytest.fixture
async def call(currency_db, gateway_jwks, mint_context) -> Callable[..., Awaitable[dict]]:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from currency's /graphql."""
    app = create_app(database_url=currency_db.url, keys=gateway_jwks)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://currency", timeout=120)

    async def _call(query: str, variables: dict | None = None, principal=None, token: str | None = None) -> dict:  # noqa: ANN001
        headers = {}
        if principal is not None:
            token = mint_context(principal, "currency")
        if token is not None:
            headers["Kyodo-Context"] = token
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    yield _call
    await client.aclose()
    await app.state.database.dispose()
