"""A municipality's own service account linked to a resident (issue 11 item 5: identity co-used alone)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ServiceAccountLink(SQLModel, table=True):
    """One service's account id for one resident. No My Number, no card serial: the resident is known by the
    pseudonymous id, the service by its OIDC client id (`muni-<code>-<name>`)."""

    __tablename__ = "identity_service_account_link"
    __table_args__ = (UniqueConstraint("client_id", "service_account_id"), UniqueConstraint("client_id", "resident_id"))

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, index=True)
    service_account_id: str = Field(max_length=64)
    resident_id: str = Field(foreign_key="identity_resident.id", max_length=64, index=True)
    linked_at: datetime
