"""identity: a municipality's own service accounts linked to residents (co-use of identity alone).

Revision ID: identity_0008
Revises: identity_audit_keying
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0008"
down_revision = "identity_audit_keying"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_service_account_link",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False, index=True),
        sa.Column("service_account_id", sa.String(64), nullable=False),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("client_id", "service_account_id"),
        sa.UniqueConstraint("client_id", "resident_id"),
    )


def downgrade() -> None:
    op.drop_table("identity_service_account_link")
