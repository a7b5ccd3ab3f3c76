"""The currency grant outbox as the relay sees it: read pending requests, record currency's answer.

Only an integration client holding `identity:grant-relay` (the IdP's `kyodo-grant-relay`), calling identity
directly with its own access token (subgraphs/common/service_callers.py), may do either. Recording is idempotent per request: once a request has a final
answer (granted or refused) a repeated report of the same answer changes nothing, and a different one is a
CONFLICT. Failures without an answer (currency unreachable, a 5xx) count attempts; after MAX_ATTEMPTS the
request is parked as `failed` so one broken request is not retried forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from .clock import utc_now
from .models import CurrencyGrantRequest, Resident

RELAY_SCOPE = "identity:grant-relay"
RELAY_ROLE = "integration"
MAX_ATTEMPTS = 5
MAX_BATCH = 200
PENDING, GRANTED, REFUSED, FAILED = "pending", "granted", "refused", "failed"
OUTCOMES = (GRANTED, REFUSED, FAILED)


@dataclass(frozen=True)
class Outcome:
    """What the relay learnt from currency for one request."""

    kind: str                       # granted, refused, failed (no answer)
    points: int | None = None       # granted: currency's amount
    entry_id: str | None = None     # granted: currency's ledger entry
    reason_code: str | None = None  # refused/failed: currency's extensions.code, or the transport's
    reason: str | None = None


def require_relay(ctx: RequestContext) -> Any:
    """The relay's principal. It calls identity directly with its own access token (these operations are
    @inaccessible: the gateway never plans them), so only `service_principal` counts here."""
    principal = ctx.service_principal
    if principal is None:
        raise Unauthenticated("the grant relay calls identity directly, with its own access token")
    if RELAY_ROLE not in principal.roles or RELAY_SCOPE not in principal.scopes:
        raise Forbidden(f"only the grant relay (role {RELAY_ROLE}, scope {RELAY_SCOPE}) may do this")
    return principal


async def pending(ctx: RequestContext, session: AsyncSession, limit: int) -> list[CurrencyGrantRequest]:
    require_relay(ctx)
    if not 1 <= limit <= MAX_BATCH:
        raise BadUserInput(f"limit must be 1..{MAX_BATCH}", field="limit")
    rows = await session.execute(select(CurrencyGrantRequest).where(CurrencyGrantRequest.status == PENDING)
                                 .order_by(CurrencyGrantRequest.id).limit(limit))
    return list(rows.scalars())


def _check(outcome: Outcome) -> Outcome:
    if outcome.kind not in OUTCOMES:
        raise BadUserInput(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    if outcome.kind == GRANTED and (outcome.points is None or outcome.points < 1):
        raise BadUserInput("a granted outcome carries currency's positive amount", field="points")
    if outcome.kind != GRANTED and outcome.points is not None:
        raise BadUserInput("only a granted outcome carries points", field="points")
    if outcome.kind != GRANTED and not outcome.reason_code:
        raise BadUserInput("a refused or failed outcome carries a reason code", field="reasonCode")
    return outcome


async def record(ctx: RequestContext, session: AsyncSession, idempotency_key: str,
                 outcome: Outcome) -> CurrencyGrantRequest:
    relay = require_relay(ctx)
    outcome = _check(outcome)
    row = (await session.execute(select(CurrencyGrantRequest).where(
        CurrencyGrantRequest.idempotency_key == str(idempotency_key)))).scalar_one_or_none()
    if row is None:
        raise NotFound("no such currency grant request")
    if row.status in (GRANTED, REFUSED):
        if outcome.kind == row.status and outcome.points == row.points:
            return row   # the relay repeated a report it had already made (e.g. its first ack was lost)
        raise Conflict(f"this grant request already has currency's answer ({row.status})", field="idempotencyKey")
    if row.status == FAILED:
        raise Conflict("this grant request was parked as failed; a person has to look at it", field="idempotencyKey")
    if outcome.kind == FAILED:
        row.attempts += 1
        row.reason_code, row.reason = outcome.reason_code, (outcome.reason or "")[:300]
        if row.attempts >= MAX_ATTEMPTS:
            row.status, row.relayed_at = FAILED, utc_now()
    else:
        row.status, row.relayed_at = outcome.kind, utc_now()
        row.points, row.currency_entry_id = outcome.points, outcome.entry_id
        row.reason_code = outcome.reason_code
        row.reason = (outcome.reason or "")[:300] or None
    resident = await session.get(Resident, row.resident_id)
    await audit.record(session, relay, row.resident_id, ["currencyGrant"], "relay currency grant",
                       "written", subject_municipality=resident.municipality_code if resident else None,
                       subgraph=ctx.subgraph)
    await session.flush()
    return row
