from __future__ import annotations

import pytest

from subgraphs.currency.seed import seed
from tests.subgraphs.conftest import Call, graphql_caller


@pytest.fixture
async def currency_db(migrated_copy):
    """A migrated, seeded currency database on the parametrised backend."""
    async with migrated_copy("currency", seed) as database:
        yield database


@pytest.fixture
async def call(currency_db, gateway_jwks, mint_context) -> Call:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from currency's /graphql."""
    # a long timeout: the concurrency tests queue many mutations on one account
    async with graphql_caller("currency", currency_db, gateway_jwks, mint_context, timeout=120) as caller:
        yield caller
