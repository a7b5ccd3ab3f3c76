"""One-stop online applications. Completing one asks the currency platform for a grant.

Identity never calls currency: completion writes a `CurrencyGrantRequest` (an outbox row) carrying an
idempotency key (`identity:application:<id>`); the grant relay (subgraphs/grant_relay) hands it to currency,
which grants exactly once, and records currency's answer (subgraphs/identity/grant_outbox.py). How many points
an application earns is currency's earning rules' business alone: identity names the activity, never an amount.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden, NotFound

from .access import authorize, check_id, load_resident, require_principal
from .clock import utc_now
from .models import Application, CurrencyGrantRequest

# Application kinds of the pilot. Their points are set by currency's earning rules (activity below).
APPLICATION_KINDS: tuple[str, ...] = (
    "moving-notice",          # 転居届
    "child-allowance",        # 児童手当認定請求
    "nursery-admission",      # 保育所等入所申込
    "residence-certificate",  # 住民票の写し交付請求
    "bulky-waste",            # 粗大ごみ収集申込
)
GRANT_ACTIVITY = "online-application"   # an alias of currency's ONLINE_APPLICATION rule


def check_idempotency_key(key: str) -> str:
    text = str(key).strip()
    if not 8 <= len(text) <= 128 or not text.isascii() or not text.isprintable():
        raise BadUserInput("idempotency key must be 8-128 printable ASCII characters", field="idempotencyKey")
    return text


async def submit(ctx: RequestContext, session: AsyncSession, kind: str, idempotency_key: str) -> Application:
    """The resident applies for themselves; a retry with the same key returns the first application."""
    if kind not in APPLICATION_KINDS:
        raise BadUserInput(f"unknown application kind {kind!r}", field="kind")
    key = check_idempotency_key(idempotency_key)
    principal = require_principal(ctx)
    resident = await load_resident(session, principal.subject) if "resident" in principal.roles else None
    if resident is None:
        raise Forbidden("only residents submit applications, for themselves")
    await authorize(ctx, session, resident, fields=["application"], purpose=f"online application {kind}", write=True)
    existing = (await session.execute(select(Application).where(
        Application.resident_id == resident.id, Application.idempotency_key == key))).scalar_one_or_none()
    if existing is not None:
        if existing.kind != kind:
            raise Conflict("this idempotency key was used for another application", field="idempotencyKey")
        return existing
    application = Application(id=f"app-{uuid.uuid4().hex[:20]}", resident_id=resident.id, kind=kind,
                              status="submitted", idempotency_key=key, submitted_at=utc_now())
    session.add(application)
    await session.flush()
    return application


async def complete(ctx: RequestContext, session: AsyncSession, application_id: str) -> Application:
    """Staff of the applicant's municipality complete it; the grant request is written once."""
    require_principal(ctx)
    application = await session.get(Application, check_id(application_id, "application id"))
    if application is None:
        raise NotFound("no such application")
    resident = await load_resident(session, application.resident_id)
    kind = await authorize(ctx, session, resident, fields=["application"], purpose="complete online application",
                           write=True)
    if kind != "staff":
        raise Forbidden("only staff of the applicant's municipality complete applications")
    if application.status == "completed":
        return application
    application.status, application.completed_at = "completed", utc_now()
    session.add(CurrencyGrantRequest(idempotency_key=grant_key(application.id), resident_id=resident.id,
                                     application_id=application.id, activity=GRANT_ACTIVITY,
                                     status="pending",
                                     created_at=utc_now()))
    await session.flush()
    return application


def grant_key(application_id: str) -> str:
    return f"identity:application:{application_id}"


async def grant_request_for(session: AsyncSession, application_id: str) -> CurrencyGrantRequest | None:
    rows = await session.execute(select(CurrencyGrantRequest).where(
        CurrencyGrantRequest.application_id == application_id))
    return rows.scalar_one_or_none()
