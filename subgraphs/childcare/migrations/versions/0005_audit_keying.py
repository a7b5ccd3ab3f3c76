"""childcare: keyed audit chaining — each audit record names the chain key it was hashed with, and the head says
from which record on a keyed hash is due (subgraphs/common/audit.py, common_tables.add_audit_keying).

Revision ID: childcare_audit_keying
Revises: childcare_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from subgraphs.common.common_tables import add_audit_keying, drop_audit_keying

revision = "childcare_audit_keying"
down_revision = "childcare_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_audit_keying(op)


def downgrade() -> None:
    drop_audit_keying(op)
