"""Where the relay finds the gateway and the IdP, and who it is there (environment, dev defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_GATEWAY = "http://127.0.0.1:4000/graphql"
DEFAULT_ISSUER = "http://127.0.0.1:4400"
CLIENT_ID = "kyodo-grant-relay"
DEV_SECRET = "kyodo-grant-relay-dev-secret"   # the dev IdP's default (auth/idp/clients.py)
SCOPE = "currency:grant identity:grant-relay"


@dataclass(frozen=True)
class RelaySettings:
    gateway_url: str             # the gateway's GraphQL endpoint
    issuer: str                  # the OIDC issuer that knows the relay's client
    client_id: str = CLIENT_ID
    client_secret: str = DEV_SECRET
    batch: int = 50              # requests read per round

    @classmethod
    def from_env(cls, *, gateway_url: str | None = None, issuer: str | None = None,
                 batch: int | None = None) -> RelaySettings:
        return cls(
            gateway_url=gateway_url or os.environ.get("KYODO_RELAY_GATEWAY_URL", DEFAULT_GATEWAY),
            issuer=(issuer or os.environ.get("KYODO_RELAY_ISSUER", DEFAULT_ISSUER)).rstrip("/"),
            client_id=os.environ.get("KYODO_RELAY_CLIENT_ID", CLIENT_ID),
            client_secret=os.environ.get("KYODO_IDP_GRANT_RELAY_SECRET", DEV_SECRET),
            batch=batch or 50,
        )
