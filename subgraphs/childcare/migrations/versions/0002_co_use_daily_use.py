"""childcare: usage counted per distinct principal and day per connected application (co_use_daily_use).

Revision ID: childcare_0002
Revises: childcare_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from subgraphs.common.common_tables import create_daily_use_table, drop_daily_use_table

revision = "childcare_0002"
down_revision = "childcare_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_daily_use_table(op)


def downgrade() -> None:
    drop_daily_use_table(op)
