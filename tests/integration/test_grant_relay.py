"""The currency grant relay end to end: resident applies, Yabu staff complete, the relay (client credentials of
the dev IdP's kyodo-grant-relay) reads identity's outbox directly (its operations are @inaccessible in the
supergraph), grants on currency through the gateway and records the answer on identity directly."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from sqlalchemy.engine import make_url

from gateway.supergraph import load_supergraph

from subgraphs.common.roster import STAFF, by_label
from subgraphs.currency.rules import current_rules
from subgraphs.grant_relay.client import client_credentials_token
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
    return RelaySettings(**{"gateway_url": stack.graphql_url, "identity_url": stack.subgraphs["identity"].url,
                            "issuer": stack.idp_url, **overrides})


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


async def test_relay_without_valid_credentials_or_identity_changes_nothing(stack: Stack, tokens: dict[str, str]):
    app = await _apply_and_complete(stack, tokens, "chiyo-relay-down-01")
    key = app["currencyGrant"]["idempotencyKey"]
    wrong_secret = await relay_once(_settings(stack, client_secret="not-the-secret"))
    assert wrong_secret.error and "client credentials" in wrong_secret.error and not wrong_secret.ok
    no_identity = await relay_once(_settings(stack, identity_url="http://127.0.0.1:9/graphql"))
    assert no_identity.error and "identity" in no_identity.error
    assert _grant_rows(stack)[key][:3] == ("pending", None, None)

    # Identity answers but the gateway (currency's grant) does not: an attempt without an answer, still pending.
    no_gateway = await relay_once(_settings(stack, gateway_url="http://127.0.0.1:9/graphql"))
    assert [(line.idempotency_key, line.outcome) for line in no_gateway.lines] == [(key, "failed")]
    assert "gateway" in no_gateway.lines[0].detail
    assert _grant_rows(stack)[key][:3] + _grant_rows(stack)[key][4:] == ("pending", None, "UNREACHABLE", 1)

    # Once the relay is itself again the request gets currency's answer (granted, or refused at the daily cap
    # when the test above ran first today) and leaves the queue.
    report = await relay_once(_settings(stack))
    [(relayed, outcome)] = [(line.idempotency_key, line.outcome) for line in report.lines]
    assert relayed == key and outcome in {"granted", "refused"}, report.summary()
    assert _grant_rows(stack)[key][0] == outcome


PENDING = "{ pendingCurrencyGrants { idempotencyKey } }"
RECORD = """mutation($i: CurrencyGrantOutcomeInput!) { recordCurrencyGrantOutcome(input: $i) { status } }"""


async def _relay_token(stack: Stack) -> str:
    async with httpx.AsyncClient(timeout=15) as http:
        return await client_credentials_token(http, _settings(stack))


async def test_relay_only_operations_are_not_in_the_gateways_schema(stack: Stack, tokens: dict[str, str]):
    """@inaccessible: not in the API schema, not in introspection, not plannable — not even for the relay."""
    api = load_supergraph(stack.supergraph_sdl).api_schema
    assert "pendingCurrencyGrants" not in api.query_type.fields
    assert "recordCurrencyGrantOutcome" not in api.mutation_type.fields
    assert api.get_type("CurrencyGrantOutcomeInput") is None
    shown = (await post_graphql(stack.graphql_url, """{ __schema { queryType { fields { name } } }
        __type(name: "CurrencyGrantOutcomeInput") { name } }""", token=tokens["resident"])).json()
    assert "pendingCurrencyGrants" not in {f["name"] for f in shown["data"]["__schema"]["queryType"]["fields"]}
    assert shown["data"]["__type"] is None

    relay = await _relay_token(stack)
    for token in (relay, tokens["resident"]):
        body = (await post_graphql(stack.graphql_url, PENDING, token=token)).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    body = (await post_graphql(stack.graphql_url, RECORD, {"i": {
        "idempotencyKey": "identity:application:x", "outcome": "granted", "points": 100000}}, token=relay)).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body


async def test_identity_takes_the_outbox_operations_only_from_the_relays_own_token(stack: Stack,
                                                                                   tokens: dict[str, str]):
    app = await _apply_and_complete(stack, tokens, "chiyo-relay-direct-01")
    key = app["currencyGrant"]["idempotencyKey"]
    identity = stack.subgraphs["identity"].url
    tampered = "x" + (await _relay_token(stack))[1:]
    for token, code in ((None, "UNAUTHENTICATED"), (tampered, "UNAUTHENTICATED"),
                        (tokens["resident"], "FORBIDDEN"), (tokens["staff"], "FORBIDDEN")):
        for query, variables in ((PENDING, None), (RECORD, {"i": {"idempotencyKey": key, "outcome": "granted",
                                                                  "points": 100000}})):
            body = (await post_graphql(identity, query, variables, token=token)).json()
            assert body["errors"][0]["extensions"]["code"] == code, (token and token[:12], body)
    assert _grant_rows(stack)[key][:3] == ("pending", None, None)

    # A direct token is not a gateway's context: to identity's other fields the relay is anonymous.
    body = (await post_graphql(identity, "query($id: ID!) { resident(id: $id) { name } }", {"id": CHIYO.id},
                               token=await _relay_token(stack))).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body

    listed = (await post_graphql(identity, PENDING, token=await _relay_token(stack))).json()
    assert key in {row["idempotencyKey"] for row in listed["data"]["pendingCurrencyGrants"]}
