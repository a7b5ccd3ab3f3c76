from __future__ import annotations

import pytest
from sqlalchemy import text
from starlette.requests import Request

from subgraphs.common import audit, co_use
from subgraphs.common.context import RequestContext, SubjectRef, authorize_personal, relation, request_context
from subgraphs.common.errors import Forbidden, PlatformNotJoined, Unauthenticated
from tests.subgraphs.conftest import make_principal

HIMEJI, KASAI, TAKA = "282014", "282201", "283657"
CHILD = SubjectRef("r-child", HIMEJI, ("r-mother",))


@pytest.mark.parametrize("principal, write, expected", [
    (make_principal("r-child", HIMEJI), False, "self"),
    (make_principal("r-mother", HIMEJI, ("resident", "guardian")), True, "guardian"),
    (make_principal("s-1", HIMEJI, ("staff",), ("childcare:read",)), False, "staff"),
    (make_principal("s-1", HIMEJI, ("staff",), ("childcare:read",)), True, None),         # read scope only
    (make_principal("s-2", KASAI, ("staff",), ("childcare:read", "childcare:write")), False, None),  # other city
    (make_principal("s-3", HIMEJI, ("staff",), ("currency:read",)), False, None),         # other platform
    (make_principal("r-neighbour", HIMEJI), False, None),
    (make_principal("r-child", HIMEJI, ("vendor",)), False, None),                         # vendors never
    (None, False, None),
])
def test_personal_data_rule(principal, write, expected):
    assert relation(principal, CHILD, "childcare", write=write) == expected


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": raw})


def test_valid_context_token_gives_the_principal(mint_context, gateway_jwks):
    who = make_principal("r-child", HIMEJI, scopes=("childcare:read",))
    ctx = request_context(_request({"Kyodo-Context": mint_context(who, "childcare")}), "childcare", keys=gateway_jwks)
    assert ctx.principal == who and ctx.context_error is None


def test_forged_or_misdirected_context_is_anonymous(mint_context, gateway_jwks):
    from auth.gateway_keys import generate_signing_key

    who = make_principal("r-child", HIMEJI)
    forged = mint_context(who, "childcare", key=generate_signing_key())
    for token in (forged, mint_context(who, "currency"), "not-a-jwt", "a.b.c"):
        ctx = request_context(_request({"Kyodo-Context": token}), "childcare", keys=gateway_jwks)
        assert ctx.principal is None and ctx.context_error
    assert request_context(_request({}), "childcare", keys=gateway_jwks).principal is None


async def test_authorize_personal_audits_permits_and_refusals(common_db):
    async with common_db.transaction() as session:
        await co_use.seed_memberships(session)

    async def attempt(principal, subject=CHILD):  # noqa: ANN001, ANN202
        ctx = RequestContext("childcare", principal, "req-1", database=common_db)
        try:
            async with common_db.transaction() as session:
                return await authorize_personal(ctx, session, subject, "childcare", fields=["name"], purpose="test")
        finally:   # the request ends: its noted reads and refusals are written (SubgraphGraphQL does this)
            await ctx.audit_log.flush(common_db)

    assert await attempt(make_principal("r-mother", HIMEJI)) == "guardian"
    with pytest.raises(Forbidden):
        await attempt(make_principal("r-neighbour", HIMEJI))
    with pytest.raises(Unauthenticated):
        await attempt(None)
    taka_child = SubjectRef("r-taka", TAKA, ("r-taka-mother",))
    with pytest.raises(PlatformNotJoined):
        await attempt(make_principal("r-taka-mother", TAKA), taka_child)
    async with common_db.sessions() as session:
        rows = await audit.query_log(session, make_principal("s", HIMEJI, ("staff",), ("childcare:audit",)),
                                     "childcare")
        assert [(r.actor, r.result) for r in reversed(rows)] == [
            ("r-mother", "permitted"), ("r-neighbour", "denied"), ("anonymous", "denied")]
        assert await audit.verify_chain(session) == []
        usage = await co_use.usage_report(session, "childcare")
    assert [(u.municipality_code, u.requests, u.records) for u in usage] == [(HIMEJI, 1, 1)]


async def test_an_exhausted_pool_answers_database_busy_instead_of_holding_the_request(database_url):
    """One pooled connection, held: the next transaction waits only the configured moment, then DATABASE_BUSY."""
    from subgraphs.common.db import Database
    from subgraphs.common.errors import DatabaseBusy
    from subgraphs.common.serving_settings import ServingSettings

    database = Database("common", database_url, ServingSettings(pool_size=1, pool_overflow=0, pool_timeout=0.1))
    try:
        async with database.transaction() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(DatabaseBusy) as refused:
                async with database.transaction() as second:
                    await second.execute(text("SELECT 1"))
        assert refused.value.extensions["code"] == "DATABASE_BUSY"
        async with database.transaction() as again:   # the pool is usable once the holder is done
            assert (await again.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await database.dispose()
