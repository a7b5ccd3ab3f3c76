"""`create_app()` for `kyodo subgraph identity` (the pattern the other subgraphs follow)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.common.app import create_subgraph_app

NAME = "identity"


def create_app(database_url: str | None = None, keys: Any = None, service_issuer: Any = None) -> Starlette:
    """`database_url` defaults to `$KYODO_IDENTITY_DATABASE_URL` or var/identity.sqlite; `keys` to the
    gateway JWKS at `$KYODO_GATEWAY_JWKS`; `service_issuer` (the grant relay's IdP, for its direct calls to the
    outbox operations) to `$KYODO_SERVICE_ISSUER`."""
    from .schema import schema

    return create_subgraph_app(NAME, schema, database_url=database_url, keys=keys, service_issuer=service_issuer)
