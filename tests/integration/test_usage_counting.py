"""Issue 10 finding 7 / issue 11 item 7 through the real gateway: 50 identical cheap queries by one resident
count once that day, and each connected application (OAuth client) is counted apart."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from auth.principal import Principal
from subgraphs.common.co_use import Usage, current_period
from subgraphs.common.db import Database
from subgraphs.common.roster import by_label
from subgraphs.common.usage_counting import DailyUse, caller_of, today_utc
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import demo_card, sign_in_with_pkce, tap_card

RESIDENT = by_label("himeji-1/hanako")        # guardian of two children on Himeji's childcare platform
CHILDREN = "{ me { children { id } } }"


async def _rows(stack, key: str) -> list[tuple[str, str]]:  # noqa: ANN001
    database = Database("childcare", stack.subgraphs["childcare"].database_url)
    try:
        async with database.sessions() as session:
            rows = await session.execute(select(DailyUse.client_id, DailyUse.municipality_code).where(
                DailyUse.caller == key, DailyUse.platform == "childcare", DailyUse.day == today_utc()))
            return sorted(rows.all())
    finally:
        await database.dispose()


async def _requests(stack) -> int:  # noqa: ANN001
    database = Database("childcare", stack.subgraphs["childcare"].database_url)
    try:
        async with database.sessions() as session:
            return (await session.execute(select(func.coalesce(func.sum(Usage.requests), 0)).where(
                Usage.platform == "childcare", Usage.municipality_code == RESIDENT.municipality_code,
                Usage.period == current_period()))).scalar_one()
    finally:
        await database.dispose()


async def test_fifty_identical_queries_count_once_and_applications_apart(stack):
    key = caller_of(Principal(subject=RESIDENT.id, municipality=RESIDENT.municipality_code, roles=frozenset(),
                              scopes=frozenset(), issuer=stack.idp_url)).key
    web_token = await sign_in_with_pkce(stack.idp_url, RESIDENT.id)
    before = await _requests(stack)
    first = (await post_graphql(stack.graphql_url, CHILDREN, token=web_token)).json()
    assert len(first["data"]["me"]["children"]) == 2, first
    counted_first = await _requests(stack) - before
    bodies = await asyncio.gather(*(post_graphql(stack.graphql_url, CHILDREN, token=web_token) for _ in range(49)))
    failed = [b.text for b in bodies if b.status_code != 200 or "errors" in b.json()]
    assert not failed, failed[:2]
    assert await _requests(stack) - before == counted_first <= 1     # 50 queries: at most the one first use
    assert await _rows(stack, key) == [("kyodo-web", RESIDENT.municipality_code)]

    card_token = await tap_card(stack.idp_url, demo_card(stack.idp_app, RESIDENT.id))
    assert "errors" not in (await post_graphql(stack.graphql_url, CHILDREN, token=card_token)).json()
    assert await _rows(stack, key) == [("kyodo-card-reader", RESIDENT.municipality_code),
                                       ("kyodo-web", RESIDENT.municipality_code)]
