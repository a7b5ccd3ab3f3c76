"""currency: initial schema (accounts, lots, ledger, spend draws, idempotency, merchants) plus the shared
audit and co-use tables

Revision ID: currency_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.common.common_tables import create_common_tables, drop_common_tables

revision = "currency_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op)
    op.create_table(
        "currency_account",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.String(64), nullable=False, unique=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("balance", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.CheckConstraint("balance >= 0", name="currency_account_balance_not_negative"),
    )
    op.create_table(
        "currency_account_guardian",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("currency_account.id"), primary_key=True),
        sa.Column("guardian_id", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "currency_lot",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("currency_account.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("granted_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("original", sa.Integer, nullable=False),
        sa.Column("remaining", sa.Integer, nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= original", name="currency_lot_remaining_in_range"),
    )
    op.create_index("currency_lot_account_expiry", "currency_lot", ["account_id", "expires_on"])
    op.create_table(
        "currency_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("currency_account.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("balance_after", sa.Integer, nullable=False),
        sa.Column("activity_code", sa.String(32), nullable=True),
        sa.Column("occurred_on", sa.Date, nullable=True),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("merchant_id", sa.String(80), nullable=True),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("currency_lot.id"), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.CheckConstraint("amount > 0", name="currency_ledger_amount_positive"),
    )
    op.create_index("currency_ledger_caps", "currency_ledger", ["account_id", "activity_code", "occurred_on"])
    op.create_table(
        "currency_spend_draw",
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("currency_ledger.id"), primary_key=True),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("currency_lot.id"), primary_key=True),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.CheckConstraint("amount > 0", name="currency_spend_draw_amount_positive"),
    )
    op.create_table(
        "currency_idempotency",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("currency_account.id"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("currency_ledger.id"), nullable=False),
    )
    op.create_table(
        "currency_merchant",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("local_id", sa.String(72), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_kana", sa.String, nullable=True),
        sa.Column("category", sa.String, nullable=True),
        sa.Column("address", sa.String, nullable=True),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("phone", sa.String, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("joined_on", sa.Date, nullable=True),
    )


def downgrade() -> None:
    for table in ("currency_merchant", "currency_idempotency", "currency_spend_draw", "currency_ledger",
                  "currency_lot", "currency_account_guardian", "currency_account"):
        op.drop_table(table)
    drop_common_tables(op)
