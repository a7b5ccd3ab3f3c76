"""The currency grant outbox: only the relay reads and answers it; answers are final, failures are bounded.

The outbox operations are @inaccessible in the supergraph; the relay calls identity directly with its own access
token. Here that token comes from a local OIDC issuer (discovery + JWKS over real HTTP) that identity trusts as
its service issuer, and carries the claims of the principal a test names."""

from __future__ import annotations

import pytest

from auth.resource_server import TrustedIssuer
from subgraphs.common.roster import by_label
from subgraphs.identity.grant_outbox import MAX_ATTEMPTS
from tests.security.servers import serve_factory
from tests.security.token_issuer import AUDIENCE, LocalIssuer, new_rsa_key
from tests.subgraphs.conftest import graphql_caller, make_principal, resident_principal

SUBMIT = """mutation($key: String!) { submitApplication(kind: MOVING_NOTICE, idempotencyKey: $key) { id } }"""
COMPLETE = """mutation($id: ID!) { completeApplication(applicationId: $id) { id } }"""
PENDING = """{ pendingCurrencyGrants { idempotencyKey residentId applicationId activity status points attempts } }"""
RECORD = """mutation($input: CurrencyGrantOutcomeInput!) { recordCurrencyGrantOutcome(input: $input) {
  idempotencyKey status points attempts reasonCode reason relayedAt } }"""
OUTBOX = ("pendingCurrencyGrants", "recordCurrencyGrantOutcome")
YUMI = by_label("kasai-1/yumi")
RELAY = make_principal("kyodo-grant-relay", None, ("integration",), ("currency:grant", "identity:grant-relay"))
KASAI_STAFF = make_principal("s-kasai-counter", "282201", ("staff",), ("identity:read", "identity:write"))


@pytest.fixture(scope="module")
def relay_issuer():
    issuer = LocalIssuer()

    def app(url: str):  # noqa: ANN202
        issuer.url = url
        return issuer.app()
    with serve_factory(app):
        yield issuer


@pytest.fixture
async def call(identity_db, gateway_jwks, mint_context, relay_issuer):
    """Like the identity `call`, except that the outbox operations go as the relay sends them: the principal's
    own access token from the service issuer (`via_gateway=True` sends a gateway context token instead)."""
    trusted = TrustedIssuer(relay_issuer.url, (AUDIENCE,))
    async with graphql_caller("identity", identity_db, gateway_jwks, mint_context, service_issuer=trusted) as caller:
        async def outbox_call(query, variables=None, principal=None, via_gateway=False, bearer=None):  # noqa: ANN001, ANN202
            if bearer is not None:
                return await caller(query, variables, bearer=bearer)
            if principal is None or via_gateway or not any(op in query for op in OUTBOX):
                return await caller(query, variables, principal=principal)
            bearer = relay_issuer.token(sub=principal.subject, roles=sorted(principal.roles),
                                        scope=" ".join(sorted(principal.scopes)), muni=principal.municipality)
            return await caller(query, variables, bearer=bearer)
        yield outbox_call


async def _completed(call, key: str) -> str:  # noqa: ANN001
    app = (await call(SUBMIT, {"key": key}, principal=resident_principal(YUMI)))["data"]["submitApplication"]
    await call(COMPLETE, {"id": app["id"]}, principal=KASAI_STAFF)
    return f"identity:application:{app['id']}"


async def test_only_the_relay_reads_and_answers_the_outbox(call, relay_issuer):
    key = await _completed(call, "outbox-who-0001")
    for principal in (None, resident_principal(YUMI), KASAI_STAFF,
                      make_principal("kyodo-vendor", None, ("vendor",), ("currency:grant", "identity:grant-relay"))):
        body = await call(PENDING, principal=principal)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}, body
        body = await call(RECORD, {"input": {"idempotencyKey": key, "outcome": "granted", "points": 100}},
                          principal=principal)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}, body
    # the relay's principal vouched for by a gateway does not count: these operations are never planned there
    body = await call(PENDING, principal=RELAY, via_gateway=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    forged = relay_issuer.token(key=new_rsa_key(), sub=RELAY.subject, roles=["integration"],
                                scope="currency:grant identity:grant-relay")
    body = await call(PENDING, bearer=forged)   # the relay's claims, signed by a key its issuer never published
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    pending = (await call(PENDING, principal=RELAY))["data"]["pendingCurrencyGrants"]
    assert [p for p in pending if p["idempotencyKey"] == key] == [{
        "idempotencyKey": key, "residentId": YUMI.id, "applicationId": key.rsplit(":", 1)[1],
        "activity": "online-application", "status": "pending", "points": None, "attempts": 0}]


async def test_granted_answer_is_final_and_repeatable(call):
    key = await _completed(call, "outbox-grant-0001")
    granted = {"idempotencyKey": key, "outcome": "granted", "points": 100, "entryId": "7"}
    first = (await call(RECORD, {"input": granted}, principal=RELAY))["data"]["recordCurrencyGrantOutcome"]
    assert (first["status"], first["points"], first["attempts"]) == ("granted", 100, 0) and first["relayedAt"]
    again = (await call(RECORD, {"input": granted}, principal=RELAY))["data"]["recordCurrencyGrantOutcome"]
    assert again == first
    other = await call(RECORD, {"input": {"idempotencyKey": key, "outcome": "refused", "reasonCode": "CAP_REACHED"}},
                       principal=RELAY)
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    pending = (await call(PENDING, principal=RELAY))["data"]["pendingCurrencyGrants"]
    assert key not in [p["idempotencyKey"] for p in pending]


async def test_refusal_keeps_its_reason_and_leaves_the_queue(call):
    key = await _completed(call, "outbox-refuse-01")
    body = await call(RECORD, {"input": {"idempotencyKey": key, "outcome": "refused", "reasonCode": "CAP_REACHED",
                                         "reason": "no points granted: the yearly cap is reached"}}, principal=RELAY)
    row = body["data"]["recordCurrencyGrantOutcome"]
    assert (row["status"], row["points"], row["reasonCode"]) == ("refused", None, "CAP_REACHED")
    assert "yearly cap" in row["reason"]
    pending = (await call(PENDING, principal=RELAY))["data"]["pendingCurrencyGrants"]
    assert key not in [p["idempotencyKey"] for p in pending]


async def test_failures_are_retried_a_bounded_number_of_times(call):
    key = await _completed(call, "outbox-fail-0001")
    failed = {"idempotencyKey": key, "outcome": "failed", "reasonCode": "UNREACHABLE", "reason": "connection refused"}
    statuses = []
    for _ in range(MAX_ATTEMPTS):
        statuses.append((await call(RECORD, {"input": failed}, principal=RELAY))["data"]["recordCurrencyGrantOutcome"])
    assert [s["status"] for s in statuses] == ["pending"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert statuses[-1]["attempts"] == MAX_ATTEMPTS and statuses[-1]["reasonCode"] == "UNREACHABLE"
    pending = (await call(PENDING, principal=RELAY))["data"]["pendingCurrencyGrants"]
    assert key not in [p["idempotencyKey"] for p in pending]
    late = await call(RECORD, {"input": {"idempotencyKey": key, "outcome": "granted", "points": 100}}, principal=RELAY)
    assert late["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_malformed_outcomes_are_bad_user_input(call):
    key = await _completed(call, "outbox-bad-00001")
    for bad in ({"outcome": "maybe"}, {"outcome": "granted"}, {"outcome": "granted", "points": 0},
                {"outcome": "refused"}, {"outcome": "refused", "reasonCode": "X", "points": 5}):
        body = await call(RECORD, {"input": {"idempotencyKey": key, **bad}}, principal=RELAY)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
    body = await call(RECORD, {"input": {"idempotencyKey": "identity:application:nope", "outcome": "granted",
                                         "points": 1}}, principal=RELAY)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await call(PENDING.replace("pendingCurrencyGrants", "pendingCurrencyGrants(limit: 0)"), principal=RELAY)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
