from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from subgraphs.common.db import Database
from subgraphs.safety.app import create_app
from subgraphs.safety.seed import seed

Post = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def safety_db(migrated_copy):
    """An empty safety database at the newest migration, on the parametrised backend."""
    async with migrated_copy("safety") as database:
        yield database


@pytest.fixture
async def seeded_db(safety_db):
    """Seeded relative to the current time, so "last 24 hours" and sensor health mean what they say."""
    async with safety_db.transaction() as session:
        await seed(session, now=datetime.now(timezone.utc))
    return safety_db


@pytest.fixture
def make_post(gateway_jwks, mint_context) -> Callable[[Database], Post]:
    """post(query, variables=None, principal=None, context_header=None) -> JSON body, against a fresh app."""

    def for_database(database: Database) -> Post:
        app = create_app(database=database, keys=gateway_jwks)

        async def post(query: str, variables: dict | None = None, principal: Any = None,
                       context_header: str | None = None) -> dict[str, Any]:
            headers = {}
            if principal is not None:
                headers["Kyodo-Context"] = mint_context(principal, "safety")
            if context_header is not None:
                headers["Kyodo-Context"] = context_header
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://safety") as client:
                response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                             headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        return post

    return for_database


@pytest.fixture
def post(seeded_db, make_post) -> Post:
    return make_post(seeded_db)
