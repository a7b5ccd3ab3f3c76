"""safety: open-data facilities, flood sensors, river gauges, watch tags; audit and co-use tables.

Revision ID: safety_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.common.common_tables import create_common_tables, drop_common_tables

revision = "safety_0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _facility_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("local_id", sa.String(72), nullable=False),
        sa.Column("municipality_name", sa.String, nullable=True),
        sa.Column("name", sa.String, nullable=False),
        *[sa.Column(name, sa.String, nullable=True) for name in (
            "name_kana", "name_en", "address", "address_prefecture", "address_city", "address_town",
            "address_block", "building")],
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("elevation", sa.Float, nullable=True),
        *[sa.Column(name, sa.String, nullable=True) for name in (
            "phone", "extension", "email", "postal_code", "url", "note")],
    ]


def _hazard_columns() -> list[sa.Column]:
    return [
        sa.Column(f"hazard_{name}", sa.Boolean, nullable=False)
        for name in ("flood", "landslide", "storm_surge", "earthquake", "tsunami", "large_fire",
                     "inland_flood", "volcano")
    ]


def upgrade() -> None:
    create_common_tables(op)
    op.create_table(
        "safety_evacuation_space",
        *_facility_columns(),
        *_hazard_columns(),
        sa.Column("also_shelter", sa.Boolean, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("target_communities", sa.String, nullable=True),
    )
    op.create_table(
        "safety_shelter",
        *_facility_columns(),
        *_hazard_columns(),
        sa.Column("accepted_persons", sa.String, nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("pets_allowed", sa.Boolean, nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        _timestamp("opened_at"),
        _timestamp("closed_at"),
        sa.Column("evacuees", sa.Integer, nullable=True),
        sa.Column("households", sa.Integer, nullable=True),
        sa.Column("special_care", sa.Integer, nullable=True),
    )
    op.create_table(
        "safety_aed",
        *_facility_columns(),
        sa.Column("location_in_facility", sa.String, nullable=True),
        sa.Column("available_days", sa.String, nullable=True),
        sa.Column("start_time", sa.String, nullable=True),
        sa.Column("end_time", sa.String, nullable=True),
        sa.Column("availability_note", sa.String, nullable=True),
        sa.Column("pediatric", sa.Boolean, nullable=True),
    )
    op.create_table(
        "safety_flood_sensor",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("local_id", sa.String(72), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("wet", sa.Boolean, nullable=False),
        _timestamp("last_report_at"),
        sa.Column("battery_percent", sa.Integer, nullable=True),
        sa.Column("rssi_dbm", sa.Integer, nullable=True),
    )
    op.create_table(
        "safety_river_gauge",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("local_id", sa.String(72), nullable=False),
        sa.Column("river_name", sa.String, nullable=False),
        sa.Column("station_name", sa.String, nullable=False),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("standby_level", sa.Float, nullable=False),
        sa.Column("caution_level", sa.Float, nullable=False),
        sa.Column("evacuation_decision_level", sa.Float, nullable=False),
        sa.Column("danger_level", sa.Float, nullable=False),
    )
    op.create_table(
        "safety_river_observation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gauge_id", sa.String(80), sa.ForeignKey("safety_river_gauge.id"), nullable=False, index=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("level", sa.Float, nullable=False),
        sa.Column("flooding_observed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("gauge_id", "observed_at", name="uq_safety_river_observation_time"),
    )
    op.create_table(
        "safety_watch_tag",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("guardian_id", sa.String(64), nullable=False, index=True),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        _timestamp("registered_at", nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "safety_tag_detector",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False, index=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
    )
    op.create_table(
        "safety_tag_detection",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tag_id", sa.String(64), sa.ForeignKey("safety_watch_tag.id"), nullable=False, index=True),
        sa.Column("detector_id", sa.String(64), sa.ForeignKey("safety_tag_detector.id"), nullable=True),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("place_name", sa.String, nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("safety_tag_detection", "safety_tag_detector", "safety_watch_tag", "safety_river_observation",
                  "safety_river_gauge", "safety_flood_sensor", "safety_aed", "safety_shelter",
                  "safety_evacuation_space"):
        op.drop_table(table)
    drop_common_tables(op)
