"""safety: each river gauge names its basin (水系), what `riverAlertChanged(basin:)` subscribes to.

Gauges already stored take their river's name as their basin (right for a main river's gauges, such as 国包 and
板波 on the 加古川); a gauge on a tributary is corrected by setting its basin to the main river's name.
Added in place (no table copy: observations reference the gauges).

Revision ID: safety_river_gauge_basin
Revises: safety_audit_keying
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "safety_river_gauge_basin"
down_revision = "safety_audit_keying"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("safety_river_gauge", sa.Column("basin", sa.String(64), nullable=False, server_default=""))
    op.execute("UPDATE safety_river_gauge SET basin = substr(river_name, 1, 64)")
    if op.get_bind().dialect.name != "sqlite":   # SQLite cannot drop a column default in place
        op.alter_column("safety_river_gauge", "basin", server_default=None)
    op.create_index("ix_safety_river_gauge_basin", "safety_river_gauge", ["basin"])


def downgrade() -> None:
    op.drop_index("ix_safety_river_gauge_basin", table_name="safety_river_gauge")
    op.drop_column("safety_river_gauge", "basin")
