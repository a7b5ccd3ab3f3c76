"""The currency grant outbox: only the relay reads and answers it; answers are final, failures are bounded."""

from __future__ import annotations

from subgraphs.common.roster import by_label
from subgraphs.identity.grant_outbox import MAX_ATTEMPTS
from tests.subgraphs.conftest import make_principal, resident_principal

SUBMIT = """mutation($key: String!) { submitApplication(kind: MOVING_NOTICE, idempotencyKey: $key) { id } }"""
COMPLETE = """mutation($id: ID!) { completeApplication(applicationId: $id) { id } }"""
PENDING = """{ pendingCurrencyGrants { idempotencyKey residentId applicationId activity status points attempts } }"""
RECORD = """mutation($input: CurrencyGrantOutcomeInput!) { recordCurrencyGrantOutcome(input: $input) {
  idempotencyKey status points attempts reasonCode reason relayedAt } }"""
YUMI = by_label("kasai-1/yumi")
RELAY = make_principal("kyodo-grant-relay", None, ("integration",), ("currency:grant", "identity:grant-relay"))
KASAI_STAFF = make_principal("s-kasai-counter", "282201", ("staff",), ("identity:read", "identity:write"))


async def _completed(call, key: str) -> str:  # noqa: ANN001
    app = (await call(SUBMIT, {"key": key}, principal=resident_principal(YUMI)))["data"]["submitApplication"]
    await call(COMPLETE, {"id": app["id"]}, principal=KASAI_STAFF)
    return f"identity:application:{app['id']}"


async def test_only_the_relay_reads_and_answers_the_outbox(call):
    key = await _completed(call, "outbox-who-0001")
    for principal in (None, resident_principal(YUMI), KASAI_STAFF,
                      make_principal("kyodo-vendor", None, ("vendor",), ("currency:grant", "identity:grant-relay"))):
        body = await call(PENDING, principal=principal)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}, body
        body = await call(RECORD, {"input": {"idempotencyKey": key, "outcome": "granted", "points": 100}},
                          principal=principal)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}, body
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
