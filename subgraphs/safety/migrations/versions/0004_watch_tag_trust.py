"""safety: pairing codes for watch tags, registered citizen-app instances, how each sighting was reported

Revision ID: safety_watch_tag_trust
Revises: safety_audit_actor_auth
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "safety_watch_tag_trust"
down_revision = "safety_audit_actor_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_tag_pairing",
        sa.Column("tag_id", sa.String(64), primary_key=True),
        sa.Column("code_salt", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("provisioned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "safety_watch_app_instance",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.add_column("safety_tag_detection", sa.Column("reported_via", sa.String(24), nullable=True))


def downgrade() -> None:
    op.drop_column("safety_tag_detection", "reported_via")
    op.drop_table("safety_watch_app_instance")
    op.drop_table("safety_tag_pairing")
