"""identity: visitor stays (non-resident shelter check-in from the card's basic information) and shelter
closures (the on-close step that starts the visitors' retention clock).

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_visitor_stay",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("shelter_id", sa.String(80), nullable=False, index=True),
        sa.Column("shelter_municipality", sa.String(6), nullable=False, index=True),
        sa.Column("party_id", sa.String(32), nullable=False, index=True),
        sa.Column("visitor_key", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.Integer, nullable=False),
        sa.Column("card_holder", sa.Boolean, nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("checkout_reason", sa.String(32), nullable=True),
        sa.Column("care_needs", sa.Text, nullable=False, server_default="[]"),
        sa.Column("pets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recorded_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "identity_shelter_closure",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shelter_id", sa.String(80), nullable=False, index=True),
        sa.Column("shelter_municipality", sa.String(6), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("closed_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_shelter_closure")
    op.drop_table("identity_visitor_stay")
