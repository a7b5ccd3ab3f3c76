"""A minimal OIDC token issuer for tests: discovery + JWKS over real HTTP, keys it can rotate.

It signs tokens with joserfc; tests use it to mint good and deliberately bad tokens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

AUDIENCE = "urn:kyodo:gateway"


def new_rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, private=True)
    key.ensure_kid()
    return key


@dataclass
class LocalIssuer:
    url: str = ""
    keys: list[RSAKey] = field(default_factory=lambda: [new_rsa_key()])
    jwks_hits: int = 0
    jwks_down: bool = False   # set: the JWKS endpoint answers 503, as in a provider outage

    @property
    def key(self) -> RSAKey:
        return self.keys[-1]

    def rotate(self) -> RSAKey:
        """A new signing key (new kid) is published; the old one stays published for a while."""
        self.keys.append(new_rsa_key())
        return self.key

    def claims(self, **overrides: Any) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "res-282014-0001",
            "iat": now,
            "exp": now + 300,
            "scope": "openid childcare:read",
            "roles": ["resident"],
            "muni": "282014",
            "acr": "card-pin",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: RSAKey | None = None, header: dict | None = None, **overrides: Any) -> str:
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, self.claims(**overrides), key)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.url, "jwks_uri": self.url + "/jwks"})

        async def jwks(request: Request) -> JSONResponse:
            self.jwks_hits += 1
            if self.jwks_down:
                return JSONResponse({"error": "unavailable"}, status_code=503)
            return JSONResponse({"keys": [k.as_dict(private=False) for k in self.keys]})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
        ])
