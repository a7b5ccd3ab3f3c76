"""Who is calling a subgraph, and what they may see.

The caller is whoever the gateway vouches for in the `Kyodo-Context` header (`auth.context_token`). No header,
or one that fails verification (forged, expired, meant for another subgraph), makes the call anonymous:
open data still answers, personal data is refused.

Personal-data rule (docs/architecture.md): the person, their guardian, or staff of the resident's municipality
holding `<platform>:read` (`:write` for changes); vendors never; and only where the resident's municipality
has joined the platform. `authorize_personal` applies the rule, counts usage and writes the audit record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.errors import Forbidden, Unauthenticated
from subgraphs.common.usage_counting import bind_caller

log = logging.getLogger("kyodo.subgraphs.context")

CONTEXT_HEADER = "Kyodo-Context"
REQUEST_ID_HEADER = "X-Request-Id"


@dataclass
class RequestContext:
    """What every resolver sees as `info.context`."""

    subgraph: str
    principal: Any | None                     # auth.principal.Principal, or None when anonymous
    request_id: str
    database: Any | None = None               # subgraphs.common.db.Database
    request: Any | None = None                # the Starlette request (None in direct schema tests)
    response: Any | None = None
    context_error: str | None = None          # why a presented context token was refused (for logs only)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def is_anonymous(self) -> bool:
        return self.principal is None

    def transaction(self):  # -> AsyncContextManager[AsyncSession]
        if self.database is None:
            raise RuntimeError("this request context has no database")
        return self.database.transaction()


def principal_from_token(token: str | None, subgraph: str, keys: Any = None) -> tuple[Any | None, str | None]:
    """(principal, None) for a valid context token; (None, reason) otherwise. Never raises."""
    if not token:
        return None, None
    from auth.context_token import verify_context  # the security module owns the token format
    from auth.errors import AuthenticationError

    try:
        return verify_context(token, subgraph, keys), None
    except AuthenticationError as error:
        return None, error.message
    except Exception as error:  # noqa: BLE001 - a malformed token must never become a 500
        return None, f"unreadable context token ({type(error).__name__})"


def request_context(request: Any, subgraph_name: str, *, database: Any = None, keys: Any = None,
                    response: Any = None) -> RequestContext:
    """Build the context from a Starlette request's headers."""
    headers = request.headers
    principal, error = principal_from_token(headers.get(CONTEXT_HEADER), subgraph_name, keys)
    bind_caller(principal)   # usage is counted per distinct caller (subgraphs.common.usage_counting)
    if error:
        log.info("refused Kyodo-Context on %s: %s", subgraph_name, error)
    request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
    return RequestContext(subgraph=subgraph_name, principal=principal, request_id=request_id[:64],
                          database=database, request=request, response=response, context_error=error)


# --- the personal-data rule ------------------------------------------------------------------------------

class PersonalSubject(Protocol):
    """What the rule needs to know about the person whose data is asked for."""

    id: str
    municipality_code: str
    guardian_ids: Iterable[str]


@dataclass(frozen=True)
class SubjectRef:
    id: str
    municipality_code: str
    guardian_ids: tuple[str, ...] = ()


def relation(principal: Any | None, subject: PersonalSubject, platform: str, *, write: bool = False) -> str | None:
    """How the principal may reach the subject's data: "self", "guardian", "staff", or None.

    Co-use (has the municipality joined) is checked separately because it needs the database.
    """
    if principal is None or "vendor" in principal.roles:
        return None
    if principal.subject == subject.id:
        return "self"
    if principal.subject in tuple(subject.guardian_ids):
        return "guardian"
    scope = f"{platform}:{'write' if write else 'read'}"
    if "staff" in principal.roles and principal.municipality == subject.municipality_code \
            and scope in principal.scopes:
        return "staff"
    return None


def may_access(principal: Any | None, subject: PersonalSubject, platform: str, *, write: bool = False) -> bool:
    return relation(principal, subject, platform, write=write) is not None


async def authorize_personal(ctx: RequestContext, session: AsyncSession, subject: PersonalSubject, platform: str,
                             *, fields: Iterable[str], purpose: str, write: bool = False, records: int = 1) -> str:
    """Allow or refuse one personal-data read/write; audit either way; count permitted usage.

    Returns the relation ("self", "guardian", "staff"). Raises UNAUTHENTICATED (no valid context), FORBIDDEN,
    or PLATFORM_NOT_JOINED. A refusal is audited in a transaction of its own (the caller's is about to roll
    back); a permitted access is audited in `session`, so it commits with the data it describes.
    """
    fields = tuple(fields)
    principal = ctx.principal
    kind = relation(principal, subject, platform, write=write)
    if kind is None:
        await _audit_refusal(ctx, session, subject, fields, purpose, "denied")
        if principal is None:
            raise Unauthenticated("personal data needs a caller vouched for by the gateway")
        raise Forbidden("not allowed to see this person's data")
    if not await co_use.joined(session, platform, subject.municipality_code):
        await _audit_refusal(ctx, session, subject, fields, purpose, "not-joined")
        await co_use.ensure_joined(session, platform, subject.municipality_code)  # raises with the message
    await audit.record(session, principal, subject.id, fields, purpose, "written" if write else "permitted",
                       subject_municipality=subject.municipality_code, subgraph=ctx.subgraph)
    await co_use.count_usage(session, platform, subject.municipality_code, records=records)
    return kind


async def _audit_refusal(ctx: RequestContext, session: AsyncSession, subject: PersonalSubject,
                         fields: tuple[str, ...], purpose: str, result: str) -> None:
    if ctx.database is None:
        await audit.record(session, ctx.principal, subject.id, fields, purpose, result,
                           subject_municipality=subject.municipality_code, subgraph=ctx.subgraph)
        return
    async with ctx.database.transaction() as own:
        await audit.record(own, ctx.principal, subject.id, fields, purpose, result,
                           subject_municipality=subject.municipality_code, subgraph=ctx.subgraph)
