"""identity: usage counted per distinct principal and day per connected application (co_use_daily_use).

Revision ID: identity_0004
Revises: identity_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from subgraphs.common.common_tables import create_daily_use_table, drop_daily_use_table

revision = "identity_0004"
down_revision = "identity_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_daily_use_table(op)


def downgrade() -> None:
    drop_daily_use_table(op)
