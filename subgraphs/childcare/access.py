"""Loading children and applying the personal-data rule to them.

A child's checkups and vaccinations are 要配慮個人情報. They go only to the child (as they grow), a guardian,
or staff of the child's municipality holding `childcare:read` (`childcare:write` to record), where that
municipality has joined the childcare platform; never to vendors or anonymous callers. Every decision is
audited (subgraphs/common/audit.py) — reads and refusals in the request's one audit transaction
(subgraphs/common/request_audit.py), since the caller's may roll back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.childcare.models import Child, Guardianship

from subgraphs.common import audit
from subgraphs.common.context import (RequestContext, SubjectRef, authorize_personal, note_access, personal_refusal,
                                      relation)
from subgraphs.common.errors import BadUserInput, Forbidden, KyodoError, NotFound, Unauthenticated

PLATFORM = "childcare"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def check_id(value: str, field: str = "childId") -> str:
    text = str(value)
    if not _ID.match(text):
        raise BadUserInput(f"{field}: not a resident id", field=field)
    return text


async def guardian_ids(session: AsyncSession, child_id: str) -> tuple[str, ...]:
    rows = await session.execute(select(Guardianship.guardian_id).where(Guardianship.child_id == child_id)
                                 .order_by(Guardianship.guardian_id))
    return tuple(rows.scalars())


async def subject_of(session: AsyncSession, child: Child) -> SubjectRef:
    return SubjectRef(child.id, child.municipality_code, await guardian_ids(session, child.id))


async def load_child(ctx: RequestContext, session: AsyncSession, child_id: str) -> Child:
    """The child row; a missing child is refused exactly as a forbidden one (issue 10, finding 6): staff of one
    city must not learn which child ids exist in another."""
    child = await session.get(Child, check_id(child_id))
    if child is None:
        raise missing_child_error(ctx)
    return child


def missing_child_error(ctx: RequestContext) -> KyodoError:
    """What a caller learns about an id the platform does not hold: exactly what a forbidden child answers
    (issue 10, finding 6), so staff of one city cannot learn which child ids exist in another."""
    return personal_refusal(ctx.principal)


async def guardians_of_children(session: AsyncSession, child_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each child's guardian ids (sorted), for many children with one query."""
    found: dict[str, list[str]] = {}
    rows = await session.execute(select(Guardianship.child_id, Guardianship.guardian_id)
                                 .where(Guardianship.child_id.in_(set(child_ids)))
                                 .order_by(Guardianship.child_id, Guardianship.guardian_id))
    for child_id, guardian_id in rows:
        found.setdefault(child_id, []).append(guardian_id)
    return {child_id: tuple(found.get(child_id, ())) for child_id in child_ids}


async def authorize_child(ctx: RequestContext, session: AsyncSession, child: Child, *, fields: Iterable[str],
                          purpose: str, write: bool = False,
                          allow: tuple[str, ...] = ("self", "guardian", "staff")) -> str:
    """The caller's relation to the child if it is in `allow`; audited either way. Raises otherwise."""
    fields = tuple(fields)
    subject = await subject_of(session, child)
    kind = relation(ctx.principal, subject, PLATFORM, write=write)
    if kind not in allow:
        await _record_refusal(ctx, session, subject, fields, purpose)
        raise personal_refusal(ctx.principal)
    return await authorize_personal(ctx, session, subject, PLATFORM, fields=fields, purpose=purpose, write=write)


async def _record_refusal(ctx: RequestContext, session: AsyncSession, subject: SubjectRef,
                          fields: tuple[str, ...], purpose: str) -> None:
    await note_access(ctx, session, subject, fields, purpose, "denied")


def require_self_or_staff(ctx: RequestContext, resident_id: str) -> None:
    """Listing a guardian's children: the guardian themselves, or staff (each child is then checked)."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("children's data needs a caller vouched for by the gateway")
    if "vendor" in principal.roles:
        raise Forbidden("vendors never see personal data")
    if principal.subject != resident_id and "staff" not in principal.roles:
        raise Forbidden("only the guardian or staff may list a guardian's children")
