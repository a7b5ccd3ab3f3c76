"""identity: currency grant requests become a relay outbox (currency's answer, attempts, refusal reason);
the amount is no longer identity's: `points` holds what currency granted, null until it answered.

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None

TABLE = "identity_currency_grant_request"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("points", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("reason_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(300), nullable=True))
        batch.add_column(sa.Column("currency_entry_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True))
    # Requests written before the relay existed carried identity's own amount, which currency never granted.
    op.execute(sa.text(f"UPDATE {TABLE} SET points = NULL WHERE status = 'pending'"))


def downgrade() -> None:
    op.execute(sa.text(f"UPDATE {TABLE} SET points = 0 WHERE points IS NULL"))
    with op.batch_alter_table(TABLE) as batch:
        for column in ("relayed_at", "currency_entry_id", "reason", "reason_code", "attempts"):
            batch.drop_column(column)
        batch.alter_column("points", existing_type=sa.Integer, nullable=False)
