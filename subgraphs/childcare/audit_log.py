"""The audit log as GraphQL: staff with `audit:read` see records about or by their own municipality."""

from __future__ import annotations

import json
from typing import Optional

import strawberry

from subgraphs.common.audit import AuditRecord


@strawberry.type(description="One record of this subgraph's hash-chained audit log")
class ChildcareAuditEntry:
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

    @classmethod
    def from_row(cls, row: AuditRecord) -> ChildcareAuditEntry:
        return cls(id=row.id, at=row.at, actor=row.actor, actor_municipality=row.actor_municipality,
                   subject=row.subject, subject_municipality=row.subject_municipality,
                   fields=json.loads(row.fields), purpose=row.purpose, result=row.result, hash=row.hash)
