"""The gateway's security stage: who is calling, and what each subgraph is told about it.

`GatewaySecurity(settings)` reads the `[auth]` table of the gateway settings, validated once by
`AuthSettings` in gateway/settings.py (every key and default: docs/operations.md):

```toml
[auth]
anonymous_only = false                              # true: no issuer, open data only (logged loudly)
context_key_file = "var/gateway-context-key.json"   # the gateway's ES256 key (created on first run)
clock_skew_seconds = 30
max_token_bytes = 8192
jwks_refresh_cooldown_seconds = 30                  # at most one unknown-kid re-fetch per issuer per this
jwks_max_age_seconds = 3600
policy_hook = "mypackage.policies:decide"          # @policy decisions: decide(principal, name) -> bool

[[auth.issuers]]
issuer = "http://127.0.0.1:4400"
audience = "urn:kyodo:gateway"                      # or audiences = [...]
algorithms = ["RS256", "ES256"]                     # never none/HS*; default RS256 ES256 PS256 EdDSA
# jwks_uri = "..."                                  # else OIDC discovery
# claims = { municipality = "muni", roles = "roles", scopes = ["scope", "scp"], assurance = "acr" }
```

No `Authorization` header means an anonymous caller (open data still answers); a header that is
present but unacceptable is an `AuthenticationError`, never a silent downgrade to anonymous.
"""

from __future__ import annotations

import importlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from joserfc.jwk import ECKey
from pydantic import ValidationError

from auth.context_token import CONTEXT_HEADER, LIFETIME_SECONDS, sign_context
from auth.errors import AuthenticationError, bearer_challenge
from auth.gateway_keys import load_or_create_signing_key, public_jwks
from auth.principal import Principal
from auth.resource_server import ResourceServer
from gateway.settings import AuthSettings, SettingsError, describe_validation_error

# Served by the HTTP stage so subgraphs may set KYODO_GATEWAY_JWKS to a URL.
CONTEXT_JWKS_PATH = "/.well-known/kyodo-context-jwks.json"
# Header-name prefix reserved for gateway→subgraph traffic; a client must never set these.
INTERNAL_HEADER_PREFIX = "kyodo-"
# A context token is reused while it has at least this much life left (signing costs CPU).
CONTEXT_REUSE_MIN_REMAINING = LIFETIME_SECONDS // 2
CONTEXT_CACHE_SIZE = 4096


def load_policy_hook(reference: str) -> Callable[[Principal | None, str], bool] | None:
    """Import "package.module:function" (the @policy decider); None when not configured."""
    if not reference:
        return None
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"policy_hook must look like 'package.module:function', not {reference!r}")
    hook = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(hook):
        raise ValueError(f"policy_hook {reference!r} is not a callable")
    return hook


def is_internal_header(name: str) -> bool:
    return name.lower().startswith(INTERNAL_HEADER_PREFIX)


def strip_internal_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Drop every client-sent `kyodo-*` header (e.g. a forged Kyodo-Context)."""
    return {name: value for name, value in headers.items() if not is_internal_header(name)}


class SecuritySettings:
    """Reads `[auth]` into the validated `AuthSettings` (gateway/settings.py validates it, nowhere else)."""

    @staticmethod
    def from_mapping(data: Mapping[str, Any] | None) -> AuthSettings:
        try:
            return AuthSettings.model_validate(dict(data or {}))
        except ValidationError as error:
            raise SettingsError(f"auth.{describe_validation_error(error)}") from None

    @classmethod
    def of(cls, settings: Any) -> AuthSettings:
        """Accepts AuthSettings, the gateway Settings (its `auth` table), or a plain mapping."""
        if isinstance(settings, AuthSettings):
            return settings
        if settings is None:
            return AuthSettings()
        auth = getattr(settings, "auth", None)
        if isinstance(auth, AuthSettings):
            return auth
        if isinstance(settings, Mapping):
            return cls.from_mapping(settings)
        raise TypeError(f"cannot read security settings from {type(settings).__name__}")


@dataclass
class _ContextCache:
    entries: "OrderedDict[tuple[Principal, str], tuple[str, float]]" = field(default_factory=OrderedDict)


class GatewaySecurity:
    def __init__(self, settings: Any = None, *, signing_key: ECKey | None = None) -> None:
        self.settings = SecuritySettings.of(settings)
        self.resource_server = ResourceServer(
            self.settings.trusted_issuers(),
            leeway=self.settings.clock_skew_seconds,
            max_token_bytes=self.settings.max_token_bytes,
            jwks_refresh_cooldown=self.settings.jwks_refresh_cooldown_seconds,
            jwks_max_age=self.settings.jwks_max_age_seconds,
        )
        self.signing_key = signing_key or load_or_create_signing_key(self.settings.context_key_file)
        self._contexts = _ContextCache()
        self.policy_hook = load_policy_hook(self.settings.policy_hook)

    async def authenticate(self, request: Any) -> Principal | None:
        """The caller's Principal, None when no credentials were sent; AuthenticationError otherwise."""
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError(
                "the Authorization header must use the Bearer scheme",
                www_authenticate=bearer_challenge("invalid_request", "use the Bearer scheme"),
            )
        token = token.strip()
        if not token:
            raise AuthenticationError(
                "the Authorization header carries no token",
                www_authenticate=bearer_challenge("invalid_request", "no token"),
            )
        if not self.settings.issuers:
            raise AuthenticationError("this gateway trusts no token issuer; send no Authorization header")
        return await self.resource_server.validate(token)

    def context_headers(self, principal: Principal | None, subgraph_name: str) -> dict[str, str]:
        """`{"Kyodo-Context": <JWT for that subgraph>}`; empty for an anonymous caller."""
        if principal is None:
            return {}
        key = (principal, subgraph_name)
        now = time.time()
        cached = self._contexts.entries.get(key)
        if cached is not None and cached[1] - now >= CONTEXT_REUSE_MIN_REMAINING:
            self._contexts.entries.move_to_end(key)
            return {CONTEXT_HEADER: cached[0]}
        issued = int(now)
        token = sign_context(principal, subgraph_name, self.signing_key, now=issued)
        self._contexts.entries[key] = (token, issued + LIFETIME_SECONDS)
        if len(self._contexts.entries) > CONTEXT_CACHE_SIZE:
            self._contexts.entries.popitem(last=False)
        return {CONTEXT_HEADER: token}

    def public_jwks(self) -> dict:
        """The document to serve at CONTEXT_JWKS_PATH."""
        return public_jwks(self.signing_key)

    async def jwks_endpoint(self, request: Any) -> Any:
        """A Starlette endpoint for CONTEXT_JWKS_PATH."""
        from starlette.responses import JSONResponse

        return JSONResponse(self.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

    async def close(self) -> None:
        await self.resource_server.close()
