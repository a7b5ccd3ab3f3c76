"""Alembic operations for the tables every subgraph database carries (audit log, co-use).

Call `create_common_tables(op)` from a subgraph's first migration and `drop_common_tables(op)` from its
downgrade. Later changes to these tables get new versioned functions here, never edits to this one.
"""

from __future__ import annotations

import sqlalchemy as sa

from subgraphs.common.audit import GENESIS_HASH


def create_common_tables(op) -> None:  # noqa: ANN001 - alembic.op
    op.create_table(
        "audit_record",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("subgraph", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False, index=True),
        sa.Column("actor_municipality", sa.String(6), nullable=True, index=True),
        sa.Column("subject", sa.String(128), nullable=False, index=True),
        sa.Column("subject_municipality", sa.String(6), nullable=True, index=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(128), nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])
    op.create_table(
        "co_use_membership",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("municipality_code", sa.String(6), primary_key=True),
        sa.Column("joined_on", sa.Date, nullable=False),
    )
    op.create_table(
        "co_use_usage",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("municipality_code", sa.String(6), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
    )


def create_daily_use_table(op) -> None:  # noqa: ANN001 - alembic.op
    """co_use_daily_use (subgraphs.common.usage_counting): one row per principal, day, platform, municipality and
    connected application."""
    op.create_table(
        "co_use_daily_use",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("municipality_code", sa.String(6), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("caller", sa.String(32), primary_key=True),
    )


def drop_daily_use_table(op) -> None:  # noqa: ANN001
    op.drop_table("co_use_daily_use")


def add_membership_left_on(op) -> None:  # noqa: ANN001 - alembic.op
    """co_use_membership.left_on (subgraphs.common.membership_dates): the day a municipality stops using it."""
    with op.batch_alter_table("co_use_membership") as batch:
        batch.add_column(sa.Column("left_on", sa.Date, nullable=True))


def drop_membership_left_on(op) -> None:  # noqa: ANN001
    with op.batch_alter_table("co_use_membership") as batch:
        batch.drop_column("left_on")


def drop_common_tables(op) -> None:  # noqa: ANN001
    for table in ("co_use_usage", "co_use_membership", "audit_head", "audit_record"):
        op.drop_table(table)


def add_audit_actor_auth(op) -> None:  # noqa: ANN001
    """Audit records name how the actor signed in: issuer, client, acr/amr (issue 10, finding 1)."""
    op.add_column("audit_record", sa.Column("actor_auth", sa.String(512), nullable=True))


def drop_audit_actor_auth(op) -> None:  # noqa: ANN001
    op.drop_column("audit_record", "actor_auth")


def add_audit_keying(op) -> None:  # noqa: ANN001 - alembic.op
    """Keyed chaining (issue 10): each record names the chain key it was hashed with; the head says from which
    record on a keyed hash is due (records before keep their plain SHA-256 and still verify)."""
    with op.batch_alter_table("audit_record") as batch:
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_from", sa.Integer, nullable=True))
    op.execute("UPDATE audit_head SET keyed_from = last_id + 1")


def drop_audit_keying(op) -> None:  # noqa: ANN001
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
    with op.batch_alter_table("audit_record") as batch:
        batch.drop_column("key_id")
