"""Alembic environment of the safety subgraph (the shared body lives in subgraphs/common)."""

from subgraphs.common.migration_env import run_migrations

run_migrations()
