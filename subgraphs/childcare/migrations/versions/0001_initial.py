"""childcare: initial schema (children, guardianships, checkup attendance, vaccinations, learning records,
childcare facilities) plus the shared audit and co-use tables

Revision ID: childcare_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.common.common_tables import create_common_tables, drop_common_tables

revision = "childcare_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op)
    op.create_table(
        "childcare_child",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.Integer, nullable=False),
    )
    op.create_table(
        "childcare_guardianship",
        sa.Column("child_id", sa.String(64), sa.ForeignKey("childcare_child.id"), primary_key=True),
        sa.Column("guardian_id", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "childcare_checkup_attendance",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("child_id", sa.String(64), sa.ForeignKey("childcare_child.id"), nullable=False, index=True),
        sa.Column("checkup_code", sa.String(16), nullable=False),
        sa.Column("attended_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("child_id", "checkup_code"),
    )
    op.create_table(
        "childcare_vaccination",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("child_id", sa.String(64), sa.ForeignKey("childcare_child.id"), nullable=False, index=True),
        sa.Column("vaccine_code", sa.String(16), nullable=False),
        sa.Column("given_on", sa.Date, nullable=False),
        sa.Column("lot_number", sa.String(32), nullable=True),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("child_id", "vaccine_code", "given_on"),
    )
    op.create_table(
        "childcare_learning_record",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("child_id", sa.String(64), sa.ForeignKey("childcare_child.id"), nullable=False, index=True),
        sa.Column("school_year", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("note", sa.String(400), nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "childcare_facility",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("local_id", sa.String(72), nullable=False),
        sa.Column("municipality_name", sa.String, nullable=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_kana", sa.String, nullable=True),
        sa.Column("name_en", sa.String, nullable=True),
        sa.Column("kind", sa.String, nullable=True, index=True),
        sa.Column("address", sa.String, nullable=True),
        sa.Column("address_prefecture", sa.String, nullable=True),
        sa.Column("address_city", sa.String, nullable=True),
        sa.Column("address_town", sa.String, nullable=True),
        sa.Column("address_block", sa.String, nullable=True),
        sa.Column("building", sa.String, nullable=True),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("phone", sa.String, nullable=True),
        sa.Column("extension", sa.String, nullable=True),
        sa.Column("email", sa.String, nullable=True),
        sa.Column("postal_code", sa.String, nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("accepted_ages", sa.String, nullable=True),
        sa.Column("available_days", sa.String, nullable=True),
        sa.Column("start_time", sa.String, nullable=True),
        sa.Column("end_time", sa.String, nullable=True),
        sa.Column("temporary_care", sa.Boolean, nullable=True),
        sa.Column("sick_child_care", sa.Boolean, nullable=True),
        sa.Column("nursing_room", sa.Boolean, nullable=True),
        sa.Column("diaper_station", sa.Boolean, nullable=True),
        sa.Column("url", sa.String, nullable=True),
        sa.Column("note", sa.String, nullable=True),
    )


def downgrade() -> None:
    for table in ("childcare_facility", "childcare_learning_record", "childcare_vaccination",
                  "childcare_checkup_attendance", "childcare_guardianship", "childcare_child"):
        op.drop_table(table)
    drop_common_tables(op)
