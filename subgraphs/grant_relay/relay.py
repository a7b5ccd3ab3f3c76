"""One relay round: read identity's pending grant requests, ask currency for each, write the answer back.

Identity's outbox operations (pendingCurrencyGrants, recordCurrencyGrantOutcome) are @inaccessible in the
supergraph, so the relay asks identity directly with its own access token; the grant itself is an ordinary
mutation of currency's, asked through the gateway like any client's.

Exactly-once comes from currency's idempotency key (the request's own `identity:application:<id>`): if the
relay dies between the grant and the write-back, the next round asks again and currency returns the stored
result instead of granting twice. A refusal (cap reached, municipality not joined, no account …) is final and
recorded with currency's code and message; an answer-less failure is recorded as an attempt, and identity
parks the request after a bounded number of them (subgraphs/identity/grant_outbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from .client import GraphQLClient, RelayUnavailable, client_credentials_token
from .settings import RelaySettings

PENDING = """query PendingCurrencyGrants($limit: Int!) {
  pendingCurrencyGrants(limit: $limit) { idempotencyKey residentId applicationId activity }
}"""
GRANT = """mutation RelayGrant($input: GrantPointsInput!) {
  grantPoints(input: $input) { entryId amount }
}"""
RECORD = """mutation RecordGrantOutcome($input: CurrencyGrantOutcomeInput!) {
  recordCurrencyGrantOutcome(input: $input) { status attempts }
}"""
# currency's codes that mean "no, and asking again will not change that"
FINAL_REFUSALS = frozenset({"CAP_REACHED", "PLATFORM_NOT_JOINED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT",
                            "CONFLICT"})


@dataclass
class RelayLine:
    idempotency_key: str
    outcome: str                 # granted, refused, failed, unrecorded (identity did not take the answer)
    detail: str


@dataclass
class RelayReport:
    lines: list[RelayLine] = field(default_factory=list)
    error: str | None = None     # the round could not run at all

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.count("failed") and not self.count("unrecorded")

    def summary(self) -> str:
        rows = [f"{line.outcome:<10} {line.idempotency_key}  {line.detail}" for line in self.lines]
        if self.error:
            rows.append(f"relay round failed: {self.error}")
        rows.append(f"{len(self.lines)} request(s): {self.count('granted')} granted, {self.count('refused')} refused, "
                    f"{self.count('failed')} failed (retried next round), {self.count('unrecorded')} unrecorded")
        return "\n".join(rows)


def _first_error(body: dict[str, Any]) -> tuple[str, str]:
    error = (body.get("errors") or [{}])[0]
    return str((error.get("extensions") or {}).get("code") or "UNKNOWN"), str(error.get("message") or "no answer")


async def _ask_currency(gateway: GraphQLClient, request: dict[str, Any]) -> dict[str, Any]:
    """The outcome input for identity, from currency's answer to one grant."""
    key = request["idempotencyKey"]
    try:
        body = await gateway.execute(GRANT, {"input": {
            "residentId": request["residentId"], "activity": request["activity"],
            "reference": request["applicationId"], "idempotencyKey": key}})
    except RelayUnavailable as error:
        return {"idempotencyKey": key, "outcome": "failed", "reasonCode": "UNREACHABLE", "reason": str(error)}
    grant = (body.get("data") or {}).get("grantPoints")
    if grant:
        return {"idempotencyKey": key, "outcome": "granted", "points": grant["amount"],
                "entryId": str(grant["entryId"])}
    code, message = _first_error(body)
    outcome = "refused" if code in FINAL_REFUSALS else "failed"
    return {"idempotencyKey": key, "outcome": outcome, "reasonCode": code, "reason": message}


async def relay_round(identity: GraphQLClient, gateway: GraphQLClient, batch: int) -> RelayReport:
    """`identity`: the identity subgraph itself (the outbox); `gateway`: where currency's grant is asked."""
    report = RelayReport()
    try:
        body = await identity.execute(PENDING, {"limit": batch})
    except RelayUnavailable as error:
        report.error = str(error)
        return report
    pending = (body.get("data") or {}).get("pendingCurrencyGrants")
    if pending is None:
        report.error = "identity refused to list pending grants: %s %s" % _first_error(body)
        return report
    for request in pending:
        outcome = await _ask_currency(gateway, request)
        detail = (f"{outcome['points']} pt (entry {outcome['entryId']})" if outcome["outcome"] == "granted"
                  else f"{outcome['reasonCode']}: {outcome['reason']}")
        try:
            recorded = await identity.execute(RECORD, {"input": outcome})
        except RelayUnavailable as error:
            recorded = {"errors": [{"message": str(error), "extensions": {"code": "UNREACHABLE"}}]}
        if not (recorded.get("data") or {}).get("recordCurrencyGrantOutcome"):
            code, message = _first_error(recorded)
            report.lines.append(RelayLine(request["idempotencyKey"], "unrecorded",
                                          f"{detail}; identity did not record it ({code}: {message})"))
            continue
        report.lines.append(RelayLine(request["idempotencyKey"], outcome["outcome"], detail))
    return report


async def relay_once(settings: RelaySettings, *, http: httpx.AsyncClient | None = None) -> RelayReport:
    """Sign in with client credentials and run one round (identity directly, currency through the gateway)."""
    own = http is None
    http = http or httpx.AsyncClient(timeout=15)
    try:
        token = await client_credentials_token(http, settings)
        return await relay_round(GraphQLClient(http, settings.identity_url, token, "identity"),
                                 GraphQLClient(http, settings.gateway_url, token), settings.batch)
    except RelayUnavailable as error:
        return RelayReport(error=str(error))
    finally:
        if own:
            await http.aclose()
