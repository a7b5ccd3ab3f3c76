"""`create_app()` for `kyodo subgraph currency` (Kasai's platform)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.db import Database

NAME = "currency"


def create_app(database_url: str | None = None, keys: Any = None, database: Database | None = None) -> Starlette:
    """`database_url` defaults to `$KYODO_CURRENCY_DATABASE_URL` or var/currency.sqlite; `keys` to the
    gateway JWKS at `$KYODO_GATEWAY_JWKS`; earning rules from `$KYODO_CURRENCY_RULES` or the bundled file."""
    from .schema import schema

    return create_subgraph_app(NAME, schema, database=database, database_url=database_url, keys=keys)
