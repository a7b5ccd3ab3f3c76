"""The gateway as an OAuth 2 resource server: validate bearer JWTs from trusted issuers.

Each trusted issuer is configured with its issuer URL, the audience(s) the gateway answers to,
the asymmetric algorithms it signs with, and either a `jwks_uri` or nothing (then OIDC
discovery). A token is checked in this order, and nothing from it is trusted before its
signature verifies, except the `iss` claim used only to pick which issuer's keys to try:

1. size (refused before any parsing), compact JWS shape;
2. `iss` is one of the trusted issuers;
3. `alg` is on that issuer's allow-list (never `none`, never HMAC: an asymmetric issuer's public
   key must not double as an HMAC secret);
4. the key named by `kid` is in the issuer's JWKS (re-fetched once, rate-limited, if not) and its
   type fits the algorithm;
5. signature, then iss/aud/exp/nbf/iat with a small clock skew;
6. for an issuer with an introspection endpoint, that the sign-in was not revoked (auth/revocation.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import aiohttp

from auth.errors import AuthenticationError
from auth.jwks_cache import JwksCache, KeyFetchError, key_fits
from auth.jwt_checks import (
    DEFAULT_MAX_TOKEN_BYTES,
    HMAC_ALGORITHMS,
    check_algorithm,
    parse_compact,
    validate_claims,
    verify_signature,
)
from auth.principal import ClaimMapping, Principal, principal_from_claims
from auth.revocation import Introspection, ensure_active

IDLE_CONNECTION_SECONDS = 4.0
from auth.trust import IssuerTrust, check_trust_configured

DEFAULT_ALGORITHMS = ("RS256", "ES256", "PS256", "EdDSA")
# A verified token is remembered this long (never past its exp), so a client reusing its token
# does not pay a signature verification per request. Bounded in entries.
VERIFIED_CACHE_SECONDS = 60.0
VERIFIED_CACHE_SIZE = 4096
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    jwks_uri: str | None = None
    claims: ClaimMapping = field(default_factory=ClaimMapping)
    # What this issuer may vouch for (auth/trust.py); None = everything, allowed only for a sole issuer.
    trust: IssuerTrust | None = None
    # Ask the issuer whether a token's sign-in was revoked (auth/revocation.py); None = signature and expiry only.
    introspection: Introspection | None = None

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ValueError("a trusted issuer needs its issuer URL")
        if not self.audiences:
            raise ValueError(f"trusted issuer {self.issuer} needs at least one audience")
        for alg in self.algorithms:
            if alg.lower() == "none" or alg in HMAC_ALGORITHMS:
                raise ValueError(f"algorithm {alg} may not be allowed for issuer {self.issuer}")
            if alg not in ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"unknown signing algorithm {alg} for issuer {self.issuer}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrustedIssuer:
        """From config (TOML/dict): issuer, audience | audiences, algorithms, jwks_uri, claims."""
        audiences = data.get("audiences", data.get("audience"))
        if isinstance(audiences, str):
            audiences = (audiences,)
        return cls(
            issuer=data["issuer"],
            audiences=tuple(audiences or ()),
            algorithms=tuple(data.get("algorithms") or DEFAULT_ALGORITHMS),
            jwks_uri=data.get("jwks_uri"),
            claims=ClaimMapping.from_mapping(data.get("claims")),
            trust=IssuerTrust.from_mapping(data["trust"], data["issuer"]) if data.get("trust") is not None else None,
        )


class ResourceServer:
    """Validates access tokens; one instance per gateway process (it owns an aiohttp session)."""

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        leeway: int = 30,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        jwks_refresh_cooldown: float = 30.0,
        jwks_max_age: float = 3600.0,
    ) -> None:
        issuers = list(issuers)
        check_trust_configured(issuers)
        self.issuers = {issuer.issuer: issuer for issuer in issuers}
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes
        self._session: aiohttp.ClientSession | None = None
        self._verified: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()
        self.caches = {
            name: JwksCache(
                name,
                jwks_uri=issuer.jwks_uri,
                session_factory=self._get_session,
                refresh_cooldown=jwks_refresh_cooldown,
                max_age=jwks_max_age,
            )
            for name, issuer in self.issuers.items()
        }

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Idle connections are dropped before an issuer's server would close them (uvicorn: 5 s), so a
            # pooled connection is not reused just as the server closes it.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit_per_host=4, keepalive_timeout=IDLE_CONNECTION_SECONDS))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def validate(self, token: str) -> Principal:
        now = time.time()
        # keyed by digest: bounded memory whatever the token size
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        remembered = self._verified.get(digest)
        if remembered is not None:
            if remembered[0] > now:
                return remembered[1]
            del self._verified[digest]
        principal, claims, issuer = await self._validate(token)
        remember = VERIFIED_CACHE_SECONDS
        if issuer.introspection is not None:
            await ensure_active(await self._get_session(), issuer.introspection, token)
            remember = min(remember, issuer.introspection.check_seconds)
        expiry = min(now + remember, float(claims["exp"]))
        if expiry > now:
            self._verified[digest] = (expiry, principal)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    async def _validate(self, token: str) -> tuple[Principal, dict[str, Any], TrustedIssuer]:
        obj = parse_compact(token, self.max_token_bytes)
        header = obj.headers()
        alg = header["alg"]
        if alg.lower() == "none":
            check_algorithm(alg, ())
        issuer = self._issuer_of(obj.payload)
        check_algorithm(alg, issuer.algorithms)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("the token's key id is malformed")
        key = await self._key_for(issuer, kid, alg)
        claims = verify_signature(obj, key, alg)
        validate_claims(claims, issuer=issuer.issuer, audiences=issuer.audiences, leeway=self.leeway)
        trust = issuer.trust or IssuerTrust.full()
        try:
            return trust.apply(principal_from_claims(claims, issuer.claims, issuer.issuer)), claims, issuer
        except ValueError as error:
            raise AuthenticationError(str(error)) from None

    def _issuer_of(self, payload: bytes) -> TrustedIssuer:
        """Read `iss` (unverified) only to choose which keys to verify with."""
        try:
            claims = json.loads(payload)
        except (TypeError, ValueError):
            raise AuthenticationError("the token payload is not JSON") from None
        iss = claims.get("iss") if isinstance(claims, dict) else None
        if not isinstance(iss, str):
            raise AuthenticationError("the token names no issuer")
        issuer = self.issuers.get(iss)
        if issuer is None:
            raise AuthenticationError(f"the token issuer '{iss[:200]}' is not trusted")
        return issuer

    async def _key_for(self, issuer: TrustedIssuer, kid: str | None, alg: str):
        cache = self.caches[issuer.issuer]
        try:
            key = cache.find(await cache.keys(), kid, alg)
            if key is None and await cache.refresh_for_unknown_kid():
                key = cache.find(await cache.keys(), kid, alg)
        except KeyFetchError as error:
            raise AuthenticationError(
                f"the signing keys of issuer '{issuer.issuer}' are unavailable ({error})",
                status=503,
                www_authenticate="",
            ) from None
        if key is None:
            raise AuthenticationError("the token is signed with an unknown key" if kid else "the token names no key id")
        if not key_fits(key, alg):
            raise AuthenticationError(f"the token algorithm '{alg}' does not match the issuer's key")
        return key
