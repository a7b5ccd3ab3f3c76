"""The currency grant relay end to end: resident applies, Yabu staff complete, the relay (client credentials of
the dev IdP's kyodo-grant-relay, through the gateway) grants on currency and records the answer on identity."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from subgraphs.common.roster import STAFF, by_label
from subgraphs.currency.rules import current_rules
from subgraphs.grant_relay.relay import relay_once
from subgraphs.grant_relay.settings import RelaySettings
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce
from tests.integration.stack import Stack

CHIYO = by_label("yabu-2/chiyo")           # 養父市: identity and currency both joined
YABU_IDENTITY_STAFF = next(s for s in STAFF if s.municipality_code == CHIYO.municipality_code
                           and "identity:write" in s.scopes)
SUBMIT = """mutation($key: String!) { submitApplication(kind: RESIDENCE_CERTIFICATE, idempotencyKey: $key) { id } }"""
COMPLETE = """mutation($id: ID!) { completeApplication(applicationId: $id) { id status
  currencyGrant { idempotencyKey status points reasonCode } } }"""
BALANCE = """query($id: ID!) { pointAccount(residentId: $id) { balance } }"""


def _identity_db(stack: Stack) -> str:
    return make_url(stack.subgraphs["identity"].database_url).database


def _grant_rows(stack: Stack) -> dict[str, tuple]:
    with sqlite3.connect(_identity_db(stack)) as db:
        rows = db.execute("SELECT idempotency_key, status, points, reason_code, currency_entry_id, attempts "
                          "FROM identity_currency_grant_request WHERE resident_id = ?", (CHIYO.id,)).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
async def tokens(stack: Stack) -> dict[str, str]:
    return {"resident": await sign_in_with_pkce(stack.idp_url, CHIYO.id),
            "staff": await sign_in_with_pkce(stack.idp_url, YABU_IDENTITY_STAFF.id,
                                             scope="openid identity:read identity:write")}


async def _apply_and_complete(stack: Stack, tokens: dict[str, str], key: str) -> dict:
    submitted = await post_graphql(stack.graphql_url, SUBMIT, {"key": key}, token=tokens["resident"])
    app_id = submitted.json()["data"]["submitApplication"]["id"]
    done = await post_graphql(stack.graphql_url, COMPLETE, {"id": app_id}, token=tokens["staff"])
    return done.json()["data"]["completeApplication"]


async def _balance(stack: Stack, tokens: dict[str, str]) -> int:
    body = (await post_graphql(stack.graphql_url, BALANCE, {"id": CHIYO.id}, token=tokens["resident"])).json()
    return body["data"]["pointAccount"]["balance"]


def _settings(stack: Stack, **overrides) -> RelaySettings:  # noqa: ANN003
    return RelaySettings(**{"gateway_url": stack.graphql_url, "issuer": stack.idp_url, **overrides})


async def test_relay_grants_currencys_amount_once_and_records_refusals(stack: Stack, tokens: dict[str, str]):
    rule = current_rules().activity("online-application")
    per_day = rule.daily_cap // rule.points          # applications that fit under the daily cap
    before = await _balance(stack, tokens)
    completed = [await _apply_and_complete(stack, tokens, f"chiyo-relay-{n:04d}") for n in range(per_day + 1)]
    for app in completed:   # identity names no amount: that is currency's answer
        assert app["status"] == "completed"
        assert app["currencyGrant"]["status"] == "pending" and app["currencyGrant"]["points"] is None
    keys = [app["currencyGrant"]["idempotencyKey"] for app in completed]

    report = await relay_once(_settings(stack))
    assert report.error is None, report.summary()
    by_key = {line.idempotency_key: line.outcome for line in report.lines}
    assert [by_key[k] for k in keys] == ["granted"] * per_day + ["refused"], report.summary()
    assert report.ok

    rows = _grant_rows(stack)
    assert [rows[k][:3] for k in keys[:per_day]] == [("granted", rule.points, None)] * per_day
    assert rows[keys[-1]][:3] == ("refused", None, "CAP_REACHED")
    assert await _balance(stack, tokens) == before + per_day * rule.points

    # Identity shows currency's answer to whoever may see the application.
    shown = await post_graphql(stack.graphql_url, COMPLETE, {"id": completed[0]["id"]}, token=tokens["staff"])
    assert shown.json()["data"]["completeApplication"]["currencyGrant"]["points"] == rule.points

    # Nothing pending: a second round asks currency nothing.
    again = await relay_once(_settings(stack))
    assert again.error is None and [line for line in again.lines if line.idempotency_key in keys] == []

    # The relay died after currency granted but before identity recorded it: the next round asks again, with
    # the same idempotency key, and currency answers with the grant it already made instead of granting twice.
    entry_id = rows[keys[0]][3]
    with sqlite3.connect(_identity_db(stack)) as db:
        db.execute("UPDATE identity_currency_grant_request SET status = 'pending', points = NULL, "
                   "currency_entry_id = NULL, relayed_at = NULL WHERE idempotency_key = ?", (keys[0],))
    retried = await relay_once(_settings(stack))
    assert [(line.idempotency_key, line.outcome) for line in retried.lines] == [(keys[0], "granted")]
    assert _grant_rows(stack)[keys[0]][:4] == ("granted", rule.points, None, entry_id)
    assert await _balance(stack, tokens) == before + per_day * rule.points


async def test_relay_without_valid_credentials_or_gateway_changes_nothing(stack: Stack, tokens: dict[str, str]):
    app = await _apply_and_complete(stack, tokens, "chiyo-relay-down-01")
    key = app["currencyGrant"]["idempotencyKey"]
    wrong_secret = await relay_once(_settings(stack, client_secret="not-the-secret"))
    assert wrong_secret.error and "client credentials" in wrong_secret.error and not wrong_secret.ok
    no_gateway = await relay_once(_settings(stack, gateway_url="http://127.0.0.1:9/graphql"))
    assert no_gateway.error and "gateway" in no_gateway.error
    assert _grant_rows(stack)[key][:3] == ("pending", None, None)

    # A resident's own token cannot play the relay through the gateway: refused at the edge (@requiresScopes).
    body = (await post_graphql(stack.graphql_url, "{ pendingCurrencyGrants { idempotencyKey } }",
                               token=tokens["resident"])).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    body = (await post_graphql(stack.graphql_url, """mutation($i: CurrencyGrantOutcomeInput!) {
        recordCurrencyGrantOutcome(input: $i) { status } }""", {"i": {
        "idempotencyKey": key, "outcome": "granted", "points": 100000}}, token=tokens["staff"])).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert _grant_rows(stack)[key][:3] == ("pending", None, None)

    # Once the relay is itself again the request gets currency's answer (granted, or refused at the daily cap
    # when the test above ran first today) and leaves the queue.
    report = await relay_once(_settings(stack))
    [(relayed, outcome)] = [(line.idempotency_key, line.outcome) for line in report.lines]
    assert relayed == key and outcome in {"granted", "refused"}, report.summary()
    assert _grant_rows(stack)[key][0] == outcome
