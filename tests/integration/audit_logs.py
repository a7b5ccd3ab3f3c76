"""Read a running subgraph's audit log straight from its database (what `kyodo audit verify` also reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    subject: str
    fields: str
    purpose: str
    result: str


async def _with_session(database_url: str, work):  # noqa: ANN001, ANN202
    from subgraphs.common.db import Database

    database = Database("audit-reader", database_url)
    try:
        async with database.sessions() as session:
            return await work(session)
    finally:
        await database.dispose()


async def last_audit_id(database_url: str) -> int:
    from subgraphs.common.audit import AuditRecord

    async def work(session):  # noqa: ANN001, ANN202
        return int(await session.scalar(select(func.coalesce(func.max(AuditRecord.id), 0))))

    return await _with_session(database_url, work)


async def audit_entries_after(database_url: str, after_id: int) -> list[AuditEntry]:
    from subgraphs.common.audit import AuditRecord

    async def work(session):  # noqa: ANN001, ANN202
        rows = await session.execute(select(AuditRecord).where(AuditRecord.id > after_id).order_by(AuditRecord.id))
        return [AuditEntry(r.id, r.actor, r.subject, r.fields, r.purpose, r.result) for r in rows.scalars()]

    return await _with_session(database_url, work)


async def broken_audit_records(database_url: str) -> list[int]:
    from subgraphs.common.audit import verify_chain

    return await _with_session(database_url, verify_chain)
