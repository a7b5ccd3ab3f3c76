"""identity: initial schema (residents, households, cards, sign-ins, shelter stays, applications, voting)

Revision ID: identity_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.common.common_tables import create_common_tables, drop_common_tables

revision = "identity_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op)
    op.create_table(
        "identity_household",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("pets", sa.Text, nullable=False),
    )
    op.create_table(
        "identity_resident",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("municipal_id", sa.String(32), nullable=False, unique=True),
        sa.Column("family_name", sa.String(64), nullable=False),
        sa.Column("given_name", sa.String(64), nullable=False),
        sa.Column("family_kana", sa.String(64), nullable=False),
        sa.Column("given_kana", sa.String(64), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.Integer, nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("household_id", sa.String(64), sa.ForeignKey("identity_household.id"), nullable=False,
                  index=True),
        sa.Column("care_needs", sa.Text, nullable=False),
    )
    op.create_table(
        "identity_guardianship",
        sa.Column("child_id", sa.String(64), sa.ForeignKey("identity_resident.id"), primary_key=True),
        sa.Column("guardian_id", sa.String(64), sa.ForeignKey("identity_resident.id"), primary_key=True),
    )
    op.create_table(
        "identity_card_link",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("serial_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "identity_sign_in",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("terminal", sa.String(128), nullable=False),
    )
    op.create_table(
        "identity_shelter_stay",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("household_id", sa.String(64), nullable=False, index=True),
        sa.Column("shelter_id", sa.String(80), nullable=False, index=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("checkout_reason", sa.String(32), nullable=True),
        sa.Column("care_needs", sa.Text, nullable=False),
        sa.Column("pets", sa.Integer, nullable=False),
    )
    op.create_table(
        "identity_application",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("resident_id", "idempotency_key"),
    )
    op.create_table(
        "identity_currency_grant_request",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), nullable=False, index=True),
        sa.Column("application_id", sa.String(40), sa.ForeignKey("identity_application.id"), nullable=False),
        sa.Column("activity", sa.String(40), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identity_election",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("announced_on", sa.Date, nullable=False),
        sa.Column("election_day", sa.Date, nullable=False),
    )
    op.create_table(
        "identity_voting_participation",
        sa.Column("election_id", sa.String(40), sa.ForeignKey("identity_election.id"), primary_key=True),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("identity_resident.id"), primary_key=True),
        sa.Column("declared_on", sa.Date, nullable=False),
    )
    op.create_table(
        "identity_voting_declaration",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("election_id", sa.String(40), sa.ForeignKey("identity_election.id"), nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("declared_on", sa.Date, nullable=False),
    )


def downgrade() -> None:
    for table in ("identity_voting_declaration", "identity_voting_participation", "identity_election",
                  "identity_currency_grant_request", "identity_application", "identity_shelter_stay",
                  "identity_sign_in", "identity_card_link", "identity_guardianship", "identity_resident",
                  "identity_household"):
        op.drop_table(table)
    drop_common_tables(op)
