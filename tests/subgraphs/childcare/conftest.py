from __future__ import annotations

import pytest

from subgraphs.childcare.seed import seed
from tests.subgraphs.conftest import Call, graphql_caller


@pytest.fixture
async def childcare_empty_db(migrated_copy):
    """A migrated, empty childcare database on the parametrised backend."""
    async with migrated_copy("childcare") as database:
        yield database


@pytest.fixture
async def childcare_db(childcare_empty_db):
    """The same, seeded from the shared roster."""
    async with childcare_empty_db.transaction() as session:
        await seed(session)
    return childcare_empty_db


@pytest.fixture
async def call(childcare_db, gateway_jwks, mint_context) -> Call:
    """`await call(query, variables, principal=None, token=None)` -> the JSON body from childcare's /graphql."""
    async with graphql_caller("childcare", childcare_db, gateway_jwks, mint_context) as caller:
        yield caller
