"""Usage per distinct principal and day, per connected application: one caller cannot inflate a share."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

from subgraphs.common import co_use
from subgraphs.common.usage_counting import (
    UNKNOWN_CLIENT, bind_caller, caller_of, month_bounds, monthly_usage, record_use,
)
from tests.subgraphs.conftest import make_principal

HIMEJI, YABU = "282014", "282201"
WEB, PARTNER_APP = "kyodo-web", "himeji-kosodate-app"


def _resident(subject: str, client: str | None = WEB):  # noqa: ANN202
    return replace(make_principal(subject, HIMEJI), issuer="http://idp", client_id=client)


async def test_fifty_identical_queries_by_one_resident_count_once_a_day(common_db):
    async def one_query() -> None:
        bind_caller(_resident("r-spammer"))
        async with common_db.transaction() as session:
            await co_use.count_usage(session, "childcare", HIMEJI, period="2026-11")

    await asyncio.gather(*(one_query() for _ in range(50)))
    bind_caller(_resident("r-honest"))
    async with common_db.transaction() as session:
        await co_use.count_usage(session, "childcare", HIMEJI, period="2026-11")
    async with common_db.sessions() as session:
        counters = await co_use.usage_report(session, "childcare", "2026-11")
        lines = await monthly_usage(session, co_use.current_period())
    assert [(u.municipality_code, u.requests) for u in counters] == [(HIMEJI, 2)]
    assert [(u.client_id, u.principal_days, u.distinct_principals) for u in lines] == [(WEB, 2, 2)]


async def test_days_and_applications_are_counted_apart(common_db):
    taro = caller_of(_resident("r-taro"))
    via_partner = caller_of(_resident("r-taro", PARTNER_APP))
    async with common_db.transaction() as session:
        for day in (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 2), date(2026, 12, 1)):
            await record_use(session, "safety", HIMEJI, caller=taro, day=day)
        assert await record_use(session, "safety", HIMEJI, caller=via_partner, day=date(2026, 11, 2)) is True
        assert await record_use(session, "safety", HIMEJI, caller=via_partner, day=date(2026, 11, 2)) is False
        await record_use(session, "safety", YABU, caller=caller_of(make_principal("r-x", YABU)), day=date(2026, 11, 30))
    async with common_db.sessions() as session:
        lines = await monthly_usage(session, "2026-11")
    assert [(u.municipality_code, u.client_id, u.principal_days, u.distinct_principals) for u in lines] == [
        (HIMEJI, PARTNER_APP, 1, 1), (HIMEJI, WEB, 2, 1), (YABU, UNKNOWN_CLIENT, 1, 1)]


def test_the_caller_key_is_not_the_subject_and_issuers_differ():
    one = caller_of(_resident("r-taro"))
    assert "r-taro" not in one.key and len(one.key) == 32
    assert caller_of(replace(_resident("r-taro"), issuer="http://other-idp")).key != one.key
    assert caller_of(None).key == "unattributed"


def test_month_bounds():
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    for bad in ("2026-13", "2026-1", "11-2026", "2026-11-01", ""):
        try:
            month_bounds(bad)
        except ValueError as error:
            assert "YYYY-MM" in str(error)
        else:
            raise AssertionError(bad)


def test_the_connected_application_reaches_the_subgraph_in_the_context_token():
    from auth.context_token import sign_context, verify_context
    from auth.gateway_keys import generate_signing_key
    from auth.principal import ClaimMapping, principal_from_claims

    claims = {"sub": "r-taro", "muni": HIMEJI, "roles": ["resident"], "client_id": PARTNER_APP}
    principal = principal_from_claims(claims, ClaimMapping(), "http://idp")
    assert principal.client_id == PARTNER_APP
    assert principal_from_claims({"sub": "r-taro", "azp": WEB}, ClaimMapping(), None).client_id == WEB
    key = generate_signing_key()
    assert verify_context(sign_context(principal, "childcare", key), "childcare", key).client_id == PARTNER_APP
