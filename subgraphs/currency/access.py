"""Who may read or change a point account (the personal-data rule of docs/architecture.md, narrowed).

- read (balance, lots, ledger): the resident, their guardian (a child's account), or staff of the resident's
  municipality with `currency:read`;
- spend: the resident only — a payment is the holder's own act;
- grant: staff of the resident's municipality with `currency:write`, or an integration client (identity's
  one-stop applications, health devices) holding `currency:grant` — never the resident themselves;
- vendors (merchants) never see personal data; every call needs the gateway's context token;
- and only where the resident's municipality has joined the currency platform.
Every decision is audited (subgraphs/common/audit.py); reads and refusals in the request's one audit transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.context import RequestContext, SubjectRef, authorize_personal, note_access, relation
from subgraphs.common.errors import Forbidden, Unauthenticated
from subgraphs.currency.models import AccountGuardian, PointAccount

PLATFORM = "currency"
GRANT_SCOPE = "currency:grant"


async def subject_of(session: AsyncSession, account: PointAccount) -> SubjectRef:
    guardians: tuple[str, ...] = ()
    if account.id is not None:
        rows = await session.execute(select(AccountGuardian.guardian_id)
                                     .where(AccountGuardian.account_id == account.id))
        guardians = tuple(rows.scalars())
    return SubjectRef(id=account.resident_id, municipality_code=account.municipality_code, guardian_ids=guardians)


async def _refuse(ctx: RequestContext, session: AsyncSession, subject: SubjectRef, fields: tuple[str, ...],
                  purpose: str) -> None:
    """Audit a refusal (noted for the request's audit transaction: the caller's is about to roll back), raise."""
    await note_access(ctx, session, subject, fields, purpose, "denied")
    if ctx.principal is None:
        raise Unauthenticated("personal data needs a caller vouched for by the gateway")
    raise Forbidden("not allowed to act on this point account")


@dataclass(frozen=True)
class Permission:
    """A decision to allow one access, not yet audited (see `record`)."""

    kind: str                     # self, guardian, staff or integration
    subject: SubjectRef
    fields: tuple[str, ...]
    purpose: str
    write: bool


async def check_account(ctx: RequestContext, session: AsyncSession, account: PointAccount, *,
                        fields: Iterable[str], purpose: str, write: bool = False,
                        allow: tuple[str, ...] = ("self", "guardian", "staff")) -> Permission:
    """Decide without writing in the caller's transaction. A refusal is audited in a transaction of its own and
    raised, before the caller takes any lock — on SQLite that audit would otherwise wait for the caller's."""
    fields = tuple(fields)
    subject = await subject_of(session, account)
    kind = relation(ctx.principal, subject, PLATFORM, write=write)
    if kind not in allow:
        await _refuse(ctx, session, subject, fields, purpose)
    if not await co_use.joined(session, PLATFORM, account.municipality_code):
        await _refuse_not_joined(ctx, session, subject, fields, purpose)
    return Permission(kind, subject, fields, purpose, write)


async def check_grant(ctx: RequestContext, session: AsyncSession, account: PointAccount, *,
                      fields: Iterable[str], purpose: str) -> Permission:
    """Staff with currency:write of the holder's municipality, or an integration client with currency:grant."""
    fields = tuple(fields)
    principal = ctx.principal
    subject = await subject_of(session, account)
    is_integration = (principal is not None and GRANT_SCOPE in principal.scopes and "vendor" not in principal.roles
                      and principal.subject != account.resident_id
                      and relation(principal, subject, PLATFORM, write=True) != "staff")
    if not is_integration:
        return await check_account(ctx, session, account, fields=fields, purpose=purpose, write=True,
                                   allow=("staff",))
    if not await co_use.joined(session, PLATFORM, account.municipality_code):
        await _refuse_not_joined(ctx, session, subject, fields, purpose)
    return Permission("integration", subject, fields, purpose, True)


async def record(ctx: RequestContext, session: AsyncSession, permission: Permission) -> None:
    """Audit a permitted access and count usage, in the caller's transaction (it commits with the data)."""
    if permission.kind == "integration":
        subject = permission.subject
        await audit.record(session, ctx.principal, subject.id, permission.fields, permission.purpose, "written",
                           subject_municipality=subject.municipality_code, subgraph=ctx.subgraph)
        await co_use.count_usage(session, PLATFORM, subject.municipality_code, records=1)
        return
    await authorize_personal(ctx, session, permission.subject, PLATFORM, fields=permission.fields,
                             purpose=permission.purpose, write=permission.write)


async def authorize_account(ctx: RequestContext, session: AsyncSession, account: PointAccount, *,
                            fields: Iterable[str], purpose: str, write: bool = False,
                            allow: tuple[str, ...] = ("self", "guardian", "staff")) -> str:
    """check_account + record in one step (reads): the relation, audited; raises when refused."""
    permission = await check_account(ctx, session, account, fields=fields, purpose=purpose, write=write, allow=allow)
    await record(ctx, session, permission)
    return permission.kind


async def _refuse_not_joined(ctx: RequestContext, session: AsyncSession, subject: SubjectRef,
                             fields: tuple[str, ...], purpose: str) -> None:
    await note_access(ctx, session, subject, fields, purpose, "not-joined")
    await co_use.ensure_joined(session, PLATFORM, subject.municipality_code)  # raises PLATFORM_NOT_JOINED
