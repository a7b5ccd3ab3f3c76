"""Who is calling a subgraph, and what they may see.

The caller is whoever the gateway vouches for in the `Kyodo-Context` header (`auth.context_token`). No header,
or one that fails verification (forged, expired, meant for another subgraph), makes the call anonymous:
open data still answers, personal data is refused.

Personal-data rule (docs/architecture.md): the person, their guardian, or staff of the resident's municipality
holding `<platform>:read` (`:write` for changes); vendors never; and only where the resident's municipality
has joined the platform. `authorize_personal` applies the rule, counts usage and writes the audit record.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.errors import Forbidden, KyodoError, PlatformNotJoined, Unauthenticated
from subgraphs.common.public_cache import shared_cache
from subgraphs.common.request_audit import RequestAudit
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
    # A back-end service calling this subgraph directly with its own access token (service_callers.py); read
    # only by the operations meant for services, so to every other resolver such a caller is anonymous.
    service_principal: Any | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    audit_log: RequestAudit = field(default_factory=RequestAudit)   # reads noted now, written once at the end
    connection_share: int = 2                 # database connections this request may hold at once
    max_entities: int = 1000                  # representations one `_entities` call may carry

    @property
    def is_anonymous(self) -> bool:
        return self.principal is None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction on the subgraph's database, within this request's share of the pool.

        Sixty aliased fields of one request queue here for its `connection_share` connections instead of
        taking the whole pool from everyone else. A transaction opened while this task already holds one
        (nested) does not wait for a second slot, so a request can never deadlock on its own share."""
        if self.database is None:
            raise RuntimeError("this request context has no database")
        if _holding.get() is self:
            async with self.database.transaction() as session:
                yield session
            return
        slots = self.extras.get(_SLOTS_KEY)
        if slots is None:
            slots = self.extras[_SLOTS_KEY] = asyncio.Semaphore(max(1, self.connection_share))
        async with slots:
            token = _holding.set(self)
            try:
                async with self.database.transaction() as session:
                    yield session
            finally:
                _holding.reset(token)

    def note_read(self, subject: PersonalSubject, fields: Iterable[str], purpose: str, result: str) -> None:
        """Note one read (or refused access) for the request's single audit transaction."""
        self.audit_log.note(self.principal, subject.id, fields, purpose, result,
                            subject_municipality=subject.municipality_code, subgraph=self.subgraph)


_SLOTS_KEY = "kyodo.request.connection_slots"
# The request whose connection slot the current task holds (nested transactions must not wait for another).
_holding: ContextVar[RequestContext | None] = ContextVar("kyodo_holding_connection", default=None)


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
                    response: Any = None, connection_share: int = 2, max_entities: int = 1000) -> RequestContext:
    """Build the context from a Starlette request's headers."""
    headers = request.headers
    principal, error = principal_from_token(headers.get(CONTEXT_HEADER), subgraph_name, keys)
    bind_caller(principal)   # usage is counted per distinct caller (subgraphs.common.usage_counting)
    if error:
        log.info("refused Kyodo-Context on %s: %s", subgraph_name, error)
    request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
    return RequestContext(subgraph=subgraph_name, principal=principal, request_id=request_id[:64],
                          database=database, request=request, response=response, context_error=error,
                          connection_share=connection_share, max_entities=max_entities)


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
    or PLATFORM_NOT_JOINED. See `decide_personal` for where each outcome is audited.
    """
    (decision,) = await decide_personal(ctx, session, [subject], platform, fields=fields, purpose=purpose,
                                        write=write, records=records)
    if isinstance(decision, KyodoError):
        raise decision
    return decision


def personal_refusal(principal: Any | None) -> KyodoError:
    """The one refusal of personal data, the same whether the person exists or not (issue 10, finding 6)."""
    if principal is None:
        return Unauthenticated("personal data needs a caller vouched for by the gateway")
    return Forbidden("not allowed to see this person's data")


async def decide_personal(ctx: RequestContext, session: AsyncSession, subjects: Sequence[PersonalSubject],
                          platform: str, *, fields: Iterable[str], purpose: str, write: bool = False,
                          records: int = 1) -> list[str | KyodoError]:
    """The rule for many subjects at once (a batch of entity references): for each, its relation or the
    refusal to raise. Membership is looked up once per municipality and usage counted once per municipality.

    Reads and refusals are noted for the request's one audit transaction (`RequestAudit`); a permitted write
    is recorded in `session`, so it commits with the data it describes.
    """
    fields = tuple(fields)
    principal = ctx.principal
    joined: dict[str | None, KyodoError | None] = {}
    usage: Counter[str] = Counter()
    decisions: list[str | KyodoError] = []
    for subject in subjects:
        kind = relation(principal, subject, platform, write=write)
        if kind is None:
            await note_access(ctx, session, subject, fields, purpose, "denied")
            decisions.append(personal_refusal(principal))
            continue
        code = subject.municipality_code
        if code not in joined:
            joined[code] = None
            if not await _joined(ctx, session, platform, code):
                try:
                    await co_use.ensure_joined(session, platform, code)   # raises, with the message to show
                except PlatformNotJoined as refusal:
                    joined[code] = refusal
        refusal = joined[code]
        if refusal is not None:
            await note_access(ctx, session, subject, fields, purpose, "not-joined")
            decisions.append(PlatformNotJoined(refusal.message, platform=platform, municipality=code))
            continue
        if write:
            await audit.record(session, principal, subject.id, fields, purpose, "written",
                               subject_municipality=code, subgraph=ctx.subgraph)
        else:
            await note_access(ctx, session, subject, fields, purpose, "permitted")
        usage[code] += 1
        decisions.append(kind)
    for code, count in usage.items():
        # one use of the platform by this caller (counted once a day, usage_counting), however many records
        await co_use.count_usage(session, platform, code, records=records * count)
    return decisions


async def _joined(ctx: RequestContext, session: AsyncSession, platform: str, code: str | None) -> bool:
    """Has the municipality joined the platform: memberships are the same for every caller and change rarely
    (by migration or the CLI), so a recent answer is reused. A miss reads with the caller's own session: a
    caller holding a connection never waits for a second one (100 such callers would empty the pool)."""
    cache, key = shared_cache(), ("co_use.joined", getattr(ctx.database, "url", None), platform, code)
    known = cache.peek(key)
    if known is not None:
        return known
    answer = await co_use.joined(session, platform, code)
    cache.put(key, answer)
    return answer


async def note_access(ctx: RequestContext, session: AsyncSession, subject: PersonalSubject, fields: tuple[str, ...],
                purpose: str, result: str) -> None:
    if ctx.database is None:   # a context without a database (direct schema tests): record in the caller's
        await audit.record(session, ctx.principal, subject.id, fields, purpose, result,
                           subject_municipality=subject.municipality_code, subgraph=ctx.subgraph)
        return
    ctx.note_read(subject, fields, purpose, result)
