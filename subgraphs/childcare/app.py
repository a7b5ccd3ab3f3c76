"""`create_app()` for `kyodo subgraph childcare` (Himeji's platform)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.db import Database

NAME = "childcare"


def create_app(database_url: str | None = None, keys: Any = None, database: Database | None = None) -> Starlette:
    """`database_url` defaults to `$KYODO_CHILDCARE_DATABASE_URL` or var/childcare.sqlite; `keys` to the
    gateway JWKS at `$KYODO_GATEWAY_JWKS`."""
    from .schema import schema

    return create_subgraph_app(NAME, schema, database=database, database_url=database_url, keys=keys)
