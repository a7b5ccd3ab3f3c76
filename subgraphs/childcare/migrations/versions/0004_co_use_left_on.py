"""childcare: a co-use membership can end on a given day (co_use_membership.left_on).

Revision ID: childcare_0003
Revises: childcare_audit_actor_auth
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from subgraphs.common.common_tables import add_membership_left_on, drop_membership_left_on

revision = "childcare_0003"
down_revision = "childcare_audit_actor_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_membership_left_on(op)


def downgrade() -> None:
    drop_membership_left_on(op)
