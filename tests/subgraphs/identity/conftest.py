from __future__ import annotations

import pytest

from subgraphs.identity.seed import seed
from tests.subgraphs.conftest import Call, graphql_caller


@pytest.fixture
async def identity_db(migrated_copy):
    """A migrated, seeded identity database on the parametrised backend."""
    async with migrated_copy("identity", seed) as database:
        yield database


@pytest.fixture
async def call(identity_db, gateway_jwks, mint_context) -> Call:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from identity's /graphql."""
    async with graphql_caller("identity", identity_db, gateway_jwks, mint_context) as caller:
        yield caller
