"""currency: audit records carry how the actor signed in (issuer, client id, acr/amr)

Revision ID: currency_audit_actor_auth
Revises: currency_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from subgraphs.common.common_tables import add_audit_actor_auth, drop_audit_actor_auth

revision = "currency_audit_actor_auth"
down_revision = "currency_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_audit_actor_auth(op)


def downgrade() -> None:
    drop_audit_actor_auth(op)
