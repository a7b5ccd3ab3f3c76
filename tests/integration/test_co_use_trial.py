"""Issue 11 item 2, trial use (試用), through the real gateway and the dev IdP.

Himeji's childcare staff start a 14-day trial of childcare for 多可町 (which has joined nothing). A synthetic
trial guardian of 多可町 signs in (`kyodo token --trial 283657`, the same code) and sees his synthetic children on
childcare, every answer marked `extensions.coUse`; the trial never reaches a real row, and a real caller never
reaches a trial row. A trial that ended answers PLATFORM_NOT_JOINED by its date alone. Trial use is counted in the
sandbox and reported on lines of its own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auth.dev_token import dev_token
from subgraphs.common import audit
from subgraphs.common.db import Database
from subgraphs.common.membership_dates import today_in_japan
from subgraphs.common.municipality import HIMEJI, INAMI, TAKA
from subgraphs.common.roster import STAFF, by_label
from subgraphs.common.sandbox import sandbox_url
from subgraphs.common.trial import start_trial
from subgraphs.common.trial_roster import trial_guardian, trial_people
from subgraphs.common.usage_counting import DailyUse
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce

HIMEJI_CHILDCARE = next(s for s in STAFF if s.municipality_code == HIMEJI and "childcare:co-use" in s.scopes)
START = 'mutation($code: String!, $days: Int!) { startChildcareTrial(municipalityCode: $code, days: $days) ' \
        '{ platform municipalityCode startsOn endsOn } }'
ME = "{ me { id name children { id birthDate } pointAccount { balance } } }"
RESIDENT = 'query($id: ID!) { resident(id: $id) { id name children { id } } }'


def _codes(body: dict) -> dict[tuple, str]:
    return {tuple(e.get("path") or ()): e.get("extensions", {}).get("code") for e in body.get("errors", [])}


@pytest.fixture(scope="module")
async def taka_trial(stack) -> dict:
    token = await sign_in_with_pkce(stack.idp_url, HIMEJI_CHILDCARE.id, scope="openid childcare:co-use")
    response = await post_graphql(stack.graphql_url, START, {"code": TAKA, "days": 14}, token=token)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
async def trial_token(stack, taka_trial) -> str:
    return await dev_token(stack.idp_url, trial=TAKA)     # what `kyodo token --trial 283657` prints


async def test_the_home_city_starts_a_trial_and_it_is_audited(stack, taka_trial):
    today = today_in_japan()
    assert "errors" not in taka_trial, taka_trial
    assert taka_trial["data"]["startChildcareTrial"] == {
        "platform": "childcare", "municipalityCode": TAKA, "startsOn": today.isoformat(),
        "endsOn": (today + timedelta(days=13)).isoformat()}
    database = Database("childcare", stack.subgraphs["childcare"].database_url)
    try:
        async with database.sessions() as session:
            rows = (await session.execute(select(audit.AuditRecord).where(
                audit.AuditRecord.subject == f"municipality:{TAKA}"))).scalars().all()
    finally:
        await database.dispose()
    assert [(r.actor, r.result) for r in rows] == [(HIMEJI_CHILDCARE.id, "written")]


async def test_only_the_home_city_with_the_co_use_scope_starts_one(stack, taka_trial):
    taka_staff = next(s for s in STAFF if s.municipality_code == TAKA)          # childcare:read, no co-use scope
    token = await sign_in_with_pkce(stack.idp_url, taka_staff.id, scope="openid childcare:read")
    body = (await post_graphql(stack.graphql_url, START, {"code": INAMI, "days": 3}, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    again = await sign_in_with_pkce(stack.idp_url, HIMEJI_CHILDCARE.id, scope="openid childcare:co-use")
    body = (await post_graphql(stack.graphql_url, START, {"code": TAKA, "days": 14}, token=again)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "already has a trial" in str(body)
    body = (await post_graphql(stack.graphql_url, START, {"code": "282103", "days": 5}, token=again)).json()
    assert "is a member of childcare" in body["errors"][0]["message"]      # Kakogawa joined: no trial


async def test_a_trial_guardian_sees_synthetic_children_marked_as_trial(stack, trial_token):
    guardian = trial_guardian(TAKA)
    children = {p.id for p in trial_people(TAKA) if guardian.id in p.guardian_ids}
    response = await post_graphql(stack.graphql_url, ME, token=trial_token)
    body = response.json()
    me = body["data"]["me"]
    assert me["id"] == guardian.id and guardian.id.startswith("t-")
    assert {c["id"] for c in me["children"]} == children
    # identity and currency are not on trial for 多可町: their fields refuse, as for a real non-member
    assert me["name"] is None and me["pointAccount"] is None
    assert set(_codes(body).values()) == {"PLATFORM_NOT_JOINED"}
    assert "多可町 has no trial of the identity platform" in {e["message"] for e in body["errors"]}
    co_use = body["extensions"]["coUse"]
    assert co_use["sandbox"] is True
    end = (today_in_japan() + timedelta(days=13)).isoformat()
    assert co_use["trials"] == [{"platform": "childcare", "municipality": TAKA,
                                 "startsOn": today_in_japan().isoformat(), "endsOn": end, "active": True}]


async def test_every_answer_to_a_trial_caller_is_marked(stack, trial_token):
    for query in ('{ shelters(municipalityCode: "282103") { id } }', "{ __typename }"):
        body = (await post_graphql(stack.graphql_url, query, token=trial_token)).json()
        assert body["extensions"]["coUse"]["sandbox"] is True, (query, body)


async def test_a_trial_token_never_reads_a_real_resident(stack, trial_token):
    real = by_label("taka-1/kenichi")
    body = (await post_graphql(stack.graphql_url, RESIDENT, {"id": real.id}, token=trial_token)).json()
    assert body["data"]["resident"] is None and set(_codes(body).values()) == {"FORBIDDEN"}
    assert real.family_name not in str(body)


async def test_a_real_caller_never_reads_a_trial_resident(stack, taka_trial):
    trial_child = trial_people(TAKA)[2]
    real_guardian = by_label("taka-1/kenichi")
    token = await sign_in_with_pkce(stack.idp_url, real_guardian.id)
    body = (await post_graphql(stack.graphql_url, ME, token=token)).json()
    assert "coUse" not in body.get("extensions", {})                    # no trial mark on a real answer
    assert all(c is None for c in body["data"]["me"]["children"] or [])  # 多可町 has not joined childcare
    taka_staff = next(s for s in STAFF if s.municipality_code == TAKA)
    staff = await sign_in_with_pkce(stack.idp_url, taka_staff.id, scope="openid identity:read childcare:read")
    body = (await post_graphql(stack.graphql_url, RESIDENT, {"id": trial_child.id}, token=staff)).json()
    assert body["data"]["resident"] is None and set(_codes(body).values()) == {"FORBIDDEN"}
    assert "試用" not in str(body)


async def test_a_trial_ends_on_its_date_without_a_job(stack, taka_trial):
    """稲美町's trial ran 10 to 8 days ago: its trial guardian is refused today, by the date alone."""
    sandbox = Database("childcare", sandbox_url("childcare", stack.subgraphs["childcare"].database_url))
    real = Database("childcare", stack.subgraphs["childcare"].database_url)
    try:
        async with real.sessions() as real_session, sandbox.transaction() as session:
            trial = await start_trial(real_session, session, "childcare", INAMI, 3,
                                      on=today_in_japan() - timedelta(days=10))
    finally:
        await sandbox.dispose()
        await real.dispose()
    token = await dev_token(stack.idp_url, trial=INAMI)
    guardian = trial_guardian(INAMI)
    child = next(p for p in trial_people(INAMI) if guardian.id in p.guardian_ids)
    body = (await post_graphql(stack.graphql_url, 'query($id: ID!) { child(id: $id) { id } }', {"id": child.id},
                               token=token)).json()
    assert body["data"]["child"] is None
    (refusal,) = body["errors"]
    assert refusal["extensions"]["code"] == "PLATFORM_NOT_JOINED"
    assert refusal["message"] == f"the trial of the childcare platform for 稲美町 ended on {trial.ends_on.isoformat()}"
    assert body["extensions"]["coUse"]["trials"] == [{
        "platform": "childcare", "municipality": INAMI, "startsOn": trial.starts_on.isoformat(),
        "endsOn": trial.ends_on.isoformat(), "active": False}]
    me = (await post_graphql(stack.graphql_url, ME, token=token)).json()
    assert me["data"]["me"]["children"] == []          # a child the caller may not see is left out


async def test_trial_use_is_counted_in_the_sandbox_only(stack, trial_token):
    await post_graphql(stack.graphql_url, ME, token=trial_token)
    counted = {}
    for tenant, url in (("real", stack.subgraphs["childcare"].database_url),
                        ("trial", sandbox_url("childcare", stack.subgraphs["childcare"].database_url))):
        database = Database("childcare", url)
        try:
            async with database.sessions() as session:
                counted[tenant] = (await session.execute(select(DailyUse).where(
                    DailyUse.municipality_code == TAKA))).scalars().all()
        finally:
            await database.dispose()
    assert counted["real"] == [] and len(counted["trial"]) >= 1
    from subgraphs.common.usage_report import build_rows, collect

    month = today_in_japan().strftime("%Y-%m")
    rows = build_rows(month, await collect(month, {"childcare": stack.subgraphs["childcare"].database_url}))
    trial_rows = [r for r in rows if r.line.municipality_code == TAKA]
    assert trial_rows and all(r.line.tenant == "trial" and r.platform_share_percent is None for r in trial_rows)
    assert all(r.line.tenant == "real" for r in rows if r.platform_share_percent is not None)
