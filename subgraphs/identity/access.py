"""Loading residents and applying the personal-data rule to them (identity's side of docs' rules)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.context import RequestContext, SubjectRef, authorize_personal
from subgraphs.common.errors import BadUserInput, Forbidden, Unauthenticated

from .models import Guardianship, Resident

PLATFORM = "identity"
MAX_ID_LENGTH = 64


def check_id(value: str, what: str = "resident id") -> str:
    text = str(value).strip()
    if not text or len(text) > MAX_ID_LENGTH or not text.isascii() or not text.isprintable():
        raise BadUserInput(f"{what} is malformed", field=what)
    return text


# One refusal for "no such resident" and "not yours" (issue 10, finding 6): the answer never tells whether an id
# exists. The text is the personal-data rule's own refusal (subgraphs.common.context.authorize_personal).
REFUSAL = "not allowed to see this person's data"


async def load_resident(session: AsyncSession, resident_id: str, ctx: RequestContext | None = None) -> Resident:
    """The resident row; an unknown id is refused exactly as a forbidden one would be."""
    row = await session.get(Resident, check_id(resident_id))
    if row is None:
        if ctx is not None and ctx.principal is None:
            raise Unauthenticated("personal data needs a caller vouched for by the gateway")
        raise Forbidden(REFUSAL)
    return row


async def guardian_ids(session: AsyncSession, resident_id: str) -> tuple[str, ...]:
    rows = await session.execute(select(Guardianship.guardian_id).where(Guardianship.child_id == resident_id))
    return tuple(rows.scalars())


async def subject_of(session: AsyncSession, resident: Resident) -> SubjectRef:
    return SubjectRef(resident.id, resident.municipality_code, await guardian_ids(session, resident.id))


async def authorize(ctx: RequestContext, session: AsyncSession, resident: Resident, *, fields: Iterable[str],
                    purpose: str, write: bool = False) -> str:
    """The rule from subgraphs.common.context, audited; returns "self", "guardian" or "staff"."""
    return await authorize_personal(ctx, session, await subject_of(session, resident), PLATFORM,
                                    fields=fields, purpose=purpose, write=write)


def require_principal(ctx: RequestContext):  # noqa: ANN201 - Principal
    if ctx.principal is None:
        raise Unauthenticated("this needs a caller vouched for by the gateway")
    return ctx.principal


def require_role(ctx: RequestContext, *roles: str):  # noqa: ANN201
    principal = require_principal(ctx)
    if not principal.roles & set(roles):
        raise Forbidden(f"only {' or '.join(roles)} callers may do this")
    return principal
