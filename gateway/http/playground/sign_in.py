"""Whether the playground offers "Sign in" against a dev IdP, and with which client.

Off unless configured: a production gateway never shows it. `kyodo dev` turns it on by setting
`KYODO_PLAYGROUND_SIGN_IN_ISSUER` for the gateway it starts (the dev IdP's issuer URL); the
client defaults to the dev IdP's public `kyodo-web` client (code + PKCE, loopback redirects).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

log = logging.getLogger("kyodo.gateway.playground")

ENV_ISSUER = "KYODO_PLAYGROUND_SIGN_IN_ISSUER"
ENV_CLIENT_ID = "KYODO_PLAYGROUND_SIGN_IN_CLIENT_ID"
DEFAULT_CLIENT_ID = "kyodo-web"
# What kyodo-web may ask for (offline_access: a refresh token, which the page keeps in memory
# only); the IdP grants only what the signed-in account holds.
DEFAULT_SCOPE = (
    "openid profile offline_access childcare:read childcare:write safety:read safety:write currency:read "
    "currency:write identity:read identity:write audit:read childcare:audit safety:audit currency:audit "
    "identity:audit childcare:co-use safety:co-use currency:co-use identity:co-use"
)
# The IdP sends the browser back here (the playground page itself answers GET /graphql?code=…).
REDIRECT_PATH = "/graphql"


@dataclass(frozen=True)
class SignInConfig:
    issuer: str
    client_id: str = DEFAULT_CLIENT_ID
    scope: str = DEFAULT_SCOPE
    redirect_path: str = REDIRECT_PATH

    def to_js(self) -> dict[str, str]:
        return {"issuer": self.issuer, "clientId": self.client_id, "scope": self.scope,
                "redirectPath": self.redirect_path}


def sign_in_config(issuer: str, client_id: str = "") -> SignInConfig | None:
    """A config for `issuer`, or None (sign-in off) when it is empty or not an http(s) URL."""
    issuer = issuer.strip().rstrip("/")
    if not issuer:
        return None
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.warning("playground sign-in is off: %s=%r is not an http(s) URL", ENV_ISSUER, issuer)
        return None
    return SignInConfig(issuer=issuer, client_id=client_id.strip() or DEFAULT_CLIENT_ID)


def sign_in_from_environment(environ: Mapping[str, str] | None = None) -> SignInConfig | None:
    environ = os.environ if environ is None else environ
    return sign_in_config(environ.get(ENV_ISSUER, ""), environ.get(ENV_CLIENT_ID, ""))
