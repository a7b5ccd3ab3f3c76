"""Back-end services that call a subgraph directly, with their own access token, not through the gateway.

Operations only a back-end job uses (identity's grant-relay outbox) are `@inaccessible` in the supergraph: no
client sees them and the gateway cannot plan them. The job calls the owning subgraph itself, with the access
token it gets from the IdP by client credentials (`Authorization: Bearer …`), the service-to-service path
Apollo recommends for internal operations. The subgraph checks that token as the gateway would (issuer,
audience, signature by the issuer's JWKS, expiry; auth/resource_server.py), from one trusted issuer named in
`$KYODO_SERVICE_ISSUER` (JSON, the keys of a gateway.toml `[[auth.issuers]]` entry):

    KYODO_SERVICE_ISSUER='{"issuer": "https://id.example/realms/kyodo", "audience": "urn:kyodo:gateway",
                           "jwks_uri": "http://keycloak:8080/realms/kyodo/protocol/openid-connect/certs",
                           "claims": {"scopes": ["scp"]}}'

The principal it yields is `RequestContext.service_principal`, read only by the operations meant for
services (each still checks the caller's role and scope); every other resolver sees a direct caller as
anonymous, so a token presented here never reaches personal data. Unset: nobody calls directly.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from auth.errors import AuthenticationError
from auth.resource_server import ResourceServer, TrustedIssuer

log = logging.getLogger("kyodo.subgraphs.service_callers")

SERVICE_ISSUER_ENV = "KYODO_SERVICE_ISSUER"


class ServiceCallerSettingsError(ValueError):
    """$KYODO_SERVICE_ISSUER is not a usable issuer description."""


def service_issuer_from_env(environ: dict[str, str] | None = None) -> TrustedIssuer | None:
    raw = (environ if environ is not None else os.environ).get(SERVICE_ISSUER_ENV, "").strip()
    if not raw:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return TrustedIssuer.from_mapping(data)
    except (ValueError, TypeError, KeyError) as error:
        raise ServiceCallerSettingsError(
            f"{SERVICE_ISSUER_ENV}: must be a JSON object with issuer and audience ({error})") from None


class ServiceCallers:
    """Validates the bearer tokens of services calling this subgraph directly."""

    def __init__(self, issuer: TrustedIssuer) -> None:
        self.issuer = issuer
        self.server = ResourceServer([issuer])

    async def principal(self, authorization: str | None) -> tuple[Any | None, str | None]:
        """(principal, None) for a valid bearer token; (None, why) for a bad one; (None, None) for none."""
        if not authorization:
            return None, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "Authorization is not a bearer token"
        try:
            return await self.server.validate(token.strip()), None
        except AuthenticationError as error:
            return None, error.message
        except Exception as error:  # noqa: BLE001 - a bad token (or an unreachable JWKS) is never a 500
            return None, f"service token not checked ({type(error).__name__})"

    async def close(self) -> None:
        await self.server.close()


def service_callers_from_env() -> ServiceCallers | None:
    issuer = service_issuer_from_env()
    return ServiceCallers(issuer) if issuer else None
