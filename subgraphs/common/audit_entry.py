"""The audit log as GraphQL: one entry type per subgraph (each names its own, so the composed schema has
ChildcareAuditEntry, CurrencyAuditEntry, IdentityAuditEntry) and the read every `<name>AuditLog` root field
does — staff holding that platform's audit scope (`childcare:audit`, …) see records about or by their own
municipality (subgraphs/common/audit.py)."""

from __future__ import annotations

import json
from typing import Any, Optional

import strawberry
from strawberry.federation.schema_directives import Tag  # contracts: audit records are personal data
from strawberry.types import Info

from subgraphs.common import audit
from subgraphs.common.audit import AuditRecord


def audit_entry_type(type_name: str, description: str) -> Any:
    """A strawberry type named `type_name` for one audit record."""

    @strawberry.type(name=type_name, description=description, directives=[Tag(name="personal")])
    class AuditEntry:
        id: int
        at: str
        actor: str
        actor_municipality: Optional[str]
        subject: str
        subject_municipality: Optional[str]
        fields: list[str]
        purpose: str
        result: str
        hash: str
        actor_issuer: Optional[str] = None      # how the actor signed in (audit.actor_auth)
        actor_client: Optional[str] = None
        actor_assurance: Optional[str] = None

        @classmethod
        def from_row(cls, row: AuditRecord) -> AuditEntry:
            return cls(id=row.id, at=row.at, actor=row.actor, actor_municipality=row.actor_municipality,
                       subject=row.subject, subject_municipality=row.subject_municipality,
                       fields=json.loads(row.fields), purpose=row.purpose, result=row.result, hash=row.hash,
                       **_auth_fields(row.actor_auth))

    AuditEntry.__name__ = AuditEntry.__qualname__ = type_name
    return AuditEntry


def _auth_fields(actor_auth: str | None) -> dict:
    details = json.loads(actor_auth) if actor_auth else {}
    return {"actor_issuer": details.get("iss"), "actor_client": details.get("cid"),
            "actor_assurance": details.get("acr")}


async def read_audit_log(info: Info, entry_type: Any, subject: Optional[strawberry.ID], limit: int) -> list:
    """The records the calling staff member may read, newest first, as `entry_type`."""
    async with info.context.transaction() as session:
        rows = await audit.query_log(session, info.context.principal, info.context.subgraph,
                                     subject=str(subject) if subject else None, limit=limit)
        return [entry_type.from_row(r) for r in rows]
