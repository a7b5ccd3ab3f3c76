"""`kyodo subgraph safety`: the Kakogawa safety platform as a Starlette app."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.db import Database

from .schema import schema

NAME = "safety"


def create_app(database_url: str | None = None, keys: Any = None, *, database: Database | None = None) -> Starlette:
    """The safety subgraph app; `keys` are the gateway's public keys (default `$KYODO_GATEWAY_JWKS`)."""
    return create_subgraph_app(NAME, schema, database=database, database_url=database_url, keys=keys)
