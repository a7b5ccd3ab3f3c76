"""Append-only, hash-chained audit log of personal-data access (one log per subgraph database).

Each record's `hash` is HMAC-SHA256, keyed with the chain key kept outside the database (`audit_keys`), over a
canonical JSON of its content, the key's id and the previous record's hash; record ids are consecutive
(1, 2, 3…). Records written before keyed chaining began (ids below the head's `keyed_from`) keep their plain
SHA-256. Signed checkpoints outside the database (`audit_checkpoints`) catch truncation; `audit_verify`
checks both and names edits, deletions, truncation and re-chaining apart. A one-row `audit_head` holds the last id and hash; `record` updates it
first, which takes a row lock (PostgreSQL) or the write lock (SQLite), so concurrent writers are serialised
and the chain never forks. Editing a record breaks its hash; deleting one leaves a gap in the ids (or a head
that points past the end); `verify_chain` names both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from subgraphs.common.audit_keys import current_keys
from subgraphs.common.errors import Forbidden

GENESIS_HASH = "0" * 64
AUDIT_READ_SCOPE = "audit:read"


def audit_scope(platform: str) -> str:
    """The scope that opens one platform's audit log, e.g. `childcare:audit`."""
    return f"{platform}:audit"


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_record"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=32)                    # ISO 8601 UTC, kept as text so it hashes identically everywhere
    subgraph: str = Field(max_length=32)
    actor: str = Field(max_length=128, index=True)    # principal subject, or "anonymous"
    actor_municipality: str | None = Field(default=None, max_length=6, index=True)
    subject: str = Field(max_length=128, index=True)  # whose data (resident id), or a resource id
    subject_municipality: str | None = Field(default=None, max_length=6, index=True)
    fields: str                                        # JSON list of field names, sorted
    purpose: str = Field(max_length=128)
    result: str = Field(max_length=32)                # permitted, denied, written, rejected…
    # How the actor signed in: JSON {iss, sub (as the issuer wrote it), cid, acr, amr}; None for anonymous/system.
    actor_auth: str | None = Field(default=None, max_length=512)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=16)   # the chain key's id; None: plain SHA-256 (legacy)


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_id: int = 0
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)
    keyed_from: int | None = None   # first record id that must carry a keyed hash


HASHED_COLUMNS = ("id", "at", "subgraph", "actor", "actor_municipality", "subject", "subject_municipality",
                  "fields", "purpose", "result", "prev_hash")
KEYED_COLUMNS = (*HASHED_COLUMNS, "key_id")
# What a verifier reads of a record: the hashed columns and `actor_auth`, covered when filled in.
STORED_COLUMNS = (*KEYED_COLUMNS, "actor_auth")


def canonical_bytes(values: dict, columns: tuple[str, ...] = HASHED_COLUMNS) -> bytes:
    """The serialization the hash covers: sorted keys, no whitespace, UTF-8."""
    content = {name: values[name] for name in columns}
    if values.get("actor_auth") is not None:  # absent from records written before the column existed
        content["actor_auth"] = values["actor_auth"]
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(values: dict, key: bytes | None = None) -> str:
    """Plain SHA-256 of the legacy columns without `key`; HMAC-SHA256 with it (covering the key id too)."""
    if key is None:
        return hashlib.sha256(canonical_bytes(values)).hexdigest()
    return hmac.new(key, canonical_bytes(values, KEYED_COLUMNS), hashlib.sha256).hexdigest()


def _actor_parts(actor) -> tuple[str, str | None]:  # noqa: ANN001 - Principal | str | None
    if actor is None:
        return "anonymous", None
    if isinstance(actor, str):
        return actor, None
    return actor.subject, actor.municipality


@dataclass(frozen=True)
class AuditEvent:
    """One access to record: who, whose data, which fields, why, and the outcome."""

    actor: str
    actor_municipality: str | None
    subject: str
    subject_municipality: str | None
    fields: tuple[str, ...]
    purpose: str
    result: str
    subgraph: str = ""
    actor_auth: str | None = None   # how the actor signed in (issuer, client, acr/amr), see actor_auth()

    @classmethod
    def of(cls, actor, subject: str, fields: Iterable[str], purpose: str, result: str, *,  # noqa: ANN001
           subject_municipality: str | None = None, subgraph: str = "") -> AuditEvent:
        actor_id, actor_municipality = _actor_parts(actor)
        return cls(actor_id, actor_municipality, subject, subject_municipality, tuple(fields), purpose, result,
                   subgraph, actor_auth(actor))


def actor_auth(actor) -> str | None:  # noqa: ANN001 - Principal | str | None
    """Issuer, issuer-side subject, client and sign-in method of a Principal, as compact JSON."""
    if actor is None or isinstance(actor, str) or not getattr(actor, "issuer", None):
        return None
    details = {"iss": actor.issuer, "sub": getattr(actor, "issuer_subject", None),
               "cid": getattr(actor, "client_id", None), "acr": actor.assurance,
               "amr": list(getattr(actor, "methods", ()) or ()) or None}
    text = json.dumps({k: v for k, v in details.items() if v}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return text[:512]


async def record(session: AsyncSession, actor, subject: str, fields: Iterable[str], purpose: str,  # noqa: ANN001
                 result: str, *, subject_municipality: str | None = None, subgraph: str = "") -> AuditRecord:
    """Append one record in the caller's transaction (it commits or rolls back with the data it describes).

    `actor` is a Principal, a subject string, or None for an anonymous caller.
    """
    event = AuditEvent.of(actor, subject, fields, purpose, result, subject_municipality=subject_municipality,
                          subgraph=subgraph)
    return (await record_many(session, [event]))[0]


async def record_many(session: AsyncSession, events: list[AuditEvent]) -> list[AuditRecord]:
    """Append `events` in order, in the caller's transaction, taking the chain head once for all of them."""
    entries, _ = await record_many_at_head(session, events)
    return entries


async def record_many_at_head(session: AsyncSession, events: list[AuditEvent]) -> tuple[list[AuditRecord], int]:
    """`record_many`, also returning the head's `keyed_from` (what a checkpoint of this head must say)."""
    if not events:
        return [], 0
    keys = current_keys()   # no chain key, no record: an unverifiable log is refused, not written
    # Take the chain head first: this write is what serialises concurrent appenders.
    bumped = await session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id + len(events))
        .returning(AuditHead.last_id, AuditHead.last_hash, AuditHead.keyed_from)
    )
    row = bumped.first()
    if row is None:  # first record in a fresh database: create the head, then take it
        session.add(AuditHead(id=1, last_id=0, last_hash=GENESIS_HASH, keyed_from=1))
        await session.flush()
        return await record_many_at_head(session, events)
    last_id, prev_hash, keyed_from = row
    first_id = last_id - len(events) + 1
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entries: list[AuditRecord] = []
    for offset, event in enumerate(events):
        values = {
            "id": first_id + offset,
            "at": at,
            "subgraph": event.subgraph,
            "actor": event.actor,
            "actor_municipality": event.actor_municipality,
            "subject": event.subject,
            "subject_municipality": event.subject_municipality,
            "fields": json.dumps(sorted(set(event.fields)), ensure_ascii=False),
            "purpose": event.purpose,
            "result": event.result,
            "actor_auth": event.actor_auth,
            "prev_hash": prev_hash,
            "key_id": keys.key_id,
        }
        values["hash"] = prev_hash = compute_hash(values, keys.chain_key)
        entries.append(AuditRecord(**values))
    session.add_all(entries)
    head_values = {"last_hash": prev_hash}
    if keyed_from is None:   # a head from before keyed chaining: keyed from here on
        head_values["keyed_from"] = keyed_from = first_id
    await session.execute(update(AuditHead).where(AuditHead.id == 1).values(**head_values))
    await session.flush()
    return entries, keyed_from


@dataclass(frozen=True)
class ChainBreak:
    record_id: int
    reason: str   # "edited", "deleted", "truncated" or "rechained" (see audit_verify)


async def find_breaks(session: AsyncSession) -> list[ChainBreak]:
    """Walk the chain from the first record (no checkpoint): every record edited, missing or re-chained."""
    from subgraphs.common.audit_verify import check_chain

    return [ChainBreak(f.record_id, f.kind) for f in (await check_chain(session, current_keys())).findings
            if f.record_id is not None]


async def chain_head(session: AsyncSession) -> tuple[int, str]:
    """(last record id, its hash). Writing it down elsewhere (a ticket, a printout) lets a later check notice
    even a wholesale rewrite of the log, which no chain can detect on its own."""
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    return (head.last_id, head.last_hash) if head else (0, GENESIS_HASH)


async def verify_chain(session: AsyncSession) -> list[int]:
    """Ids of broken records (edited, or deleted: then the missing id). Empty means the chain is intact."""
    return sorted({b.record_id for b in await find_breaks(session)})


async def query_log(session: AsyncSession, principal, platform: str, *, subject: str | None = None,  # noqa: ANN001
                    since: str | None = None, until: str | None = None, limit: int = 100) -> list[AuditRecord]:
    """Records about or by the staff member's own municipality, newest first. Needs staff holding this
    platform's audit scope (`childcare:audit`, …): who may read one platform's log is not who may read
    another's, since each log names the children, residents and fields that platform's staff looked at."""
    scope = audit_scope(platform)
    if principal is None or "staff" not in principal.roles or scope not in principal.scopes \
            or not principal.municipality:
        raise Forbidden(f"the {platform} audit log is open only to staff with {scope}, for their own municipality")
    municipality = principal.municipality
    statement = select(AuditRecord).where(or_(AuditRecord.subject_municipality == municipality,
                                              AuditRecord.actor_municipality == municipality))
    if subject:
        statement = statement.where(AuditRecord.subject == subject)
    if since:
        statement = statement.where(AuditRecord.at >= since)
    if until:
        statement = statement.where(AuditRecord.at < until)
    statement = statement.order_by(AuditRecord.id.desc()).limit(max(1, min(limit, 1000)))
    return list((await session.execute(statement)).scalars())
