from __future__ import annotations

import asyncio

import pytest

from subgraphs.common import co_use
from subgraphs.common.errors import PLATFORM_NOT_JOINED, PlatformNotJoined
from subgraphs.common.usage_counting import bind_caller
from tests.subgraphs.conftest import make_principal

HIMEJI, KASAI, TAKA, YABU = "282014", "282201", "283657", "282227"


async def test_seed_is_idempotent_and_includes_each_home_city(common_db):
    async with common_db.transaction() as session:
        first = await co_use.seed_memberships(session)
    async with common_db.transaction() as session:
        assert await co_use.seed_memberships(session) == 0
        assert first > 4
        for platform, home in (("childcare", HIMEJI), ("currency", KASAI), ("identity", YABU)):
            assert home in await co_use.members(session, platform)


async def test_a_municipality_that_has_not_joined_is_refused(common_db):
    async with common_db.transaction() as session:
        await co_use.seed_memberships(session)
    async with common_db.sessions() as session:
        await co_use.ensure_joined(session, "childcare", HIMEJI)
        with pytest.raises(PlatformNotJoined) as refused:
            await co_use.ensure_joined(session, "childcare", TAKA)
        assert refused.value.extensions["code"] == PLATFORM_NOT_JOINED
        assert "多可町" in refused.value.message
        with pytest.raises(PlatformNotJoined):
            await co_use.ensure_joined(session, "identity", None)


async def test_usage_counts_add_up_under_concurrency(common_db):
    async def one_request(records: int) -> None:   # ten different residents, at once
        bind_caller(make_principal(f"r-{records}", YABU))
        async with common_db.transaction() as session:
            await co_use.count_usage(session, "identity", YABU, records=records, period="2026-11")

    await asyncio.gather(*(one_request(n) for n in range(10)))
    async with common_db.sessions() as session:
        report = await co_use.usage_report(session, "identity", "2026-11")
    assert [(u.municipality_code, u.requests, u.records) for u in report] == [(YABU, 10, 45)]
