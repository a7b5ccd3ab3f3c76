"""How the relay reads currency's answers (final refusal vs. retry later) and what it writes back to identity,
with a scripted identity and gateway; the end-to-end run is tests/integration/test_grant_relay.py."""

from __future__ import annotations

from typing import Any

import pytest

from subgraphs.grant_relay.client import RelayUnavailable
from subgraphs.grant_relay.relay import relay_round

PENDING = [{"idempotencyKey": "identity:application:app-1", "residentId": "r-1", "applicationId": "app-1",
            "activity": "online-application"}]


class ScriptedGateway:
    """Answers pendingCurrencyGrants with PENDING, grantPoints with `grant`, and records what identity is told."""

    def __init__(self, grant: dict[str, Any] | Exception) -> None:
        self.grant = grant
        self.recorded: list[dict[str, Any]] = []

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "pendingCurrencyGrants" in query:
            return {"data": {"pendingCurrencyGrants": PENDING}}
        if "grantPoints" in query:
            assert variables["input"] == {"residentId": "r-1", "activity": "online-application",
                                          "reference": "app-1", "idempotencyKey": "identity:application:app-1"}
            if isinstance(self.grant, Exception):
                raise self.grant
            return self.grant
        self.recorded.append(variables["input"])
        return {"data": {"recordCurrencyGrantOutcome": {"status": "x", "attempts": 0}}}


class Only:
    """One endpoint of the relay's: passes on the operations meant for it, fails the test on any other."""

    def __init__(self, script: ScriptedGateway, *fields: str) -> None:
        self.script, self.fields = script, fields

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        assert any(field in query for field in self.fields), f"sent to the wrong endpoint: {query}"
        return await self.script.execute(query, variables)


def relay_round_on(script: ScriptedGateway):  # noqa: ANN201
    """The outbox operations go to identity directly, the grant to the gateway."""
    return relay_round(Only(script, "pendingCurrencyGrants", "recordCurrencyGrantOutcome"),  # type: ignore[arg-type]
                       Only(script, "grantPoints"), batch=10)  # type: ignore[arg-type]


def _error(code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": f"said {code}", "extensions": {"code": code}}]}


@pytest.mark.parametrize(("answer", "outcome", "reason_code"), [
    ({"data": {"grantPoints": {"entryId": "42", "amount": 100}}}, "granted", None),
    (_error("CAP_REACHED"), "refused", "CAP_REACHED"),
    (_error("PLATFORM_NOT_JOINED"), "refused", "PLATFORM_NOT_JOINED"),
    (_error("FORBIDDEN"), "refused", "FORBIDDEN"),
    (_error("INTERNAL_SERVER_ERROR"), "failed", "INTERNAL_SERVER_ERROR"),
    (_error("UNAUTHENTICATED"), "failed", "UNAUTHENTICATED"),
    (RelayUnavailable("cannot reach the gateway"), "failed", "UNREACHABLE"),
])
async def test_answers_become_outcomes(answer, outcome: str, reason_code: str | None) -> None:
    gateway = ScriptedGateway(answer)
    report = await relay_round_on(gateway)
    [recorded] = gateway.recorded
    assert (recorded["outcome"], recorded.get("reasonCode")) == (outcome, reason_code)
    if outcome == "granted":
        assert (recorded["points"], recorded["entryId"]) == (100, "42")
    else:
        assert "points" not in recorded and recorded["reason"]
    assert [(line.idempotency_key, line.outcome) for line in report.lines] == [(PENDING[0]["idempotencyKey"], outcome)]
    assert report.ok == (outcome != "failed")


async def test_an_answer_identity_did_not_take_is_reported() -> None:
    class Refusing(ScriptedGateway):
        async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            if "recordCurrencyGrantOutcome" in query:
                return _error("CONFLICT")
            return await super().execute(query, variables)

    report = await relay_round_on(Refusing({"data": {"grantPoints": {"entryId": "1", "amount": 100}}}))
    assert [line.outcome for line in report.lines] == ["unrecorded"] and not report.ok
    assert "CONFLICT" in report.summary()
