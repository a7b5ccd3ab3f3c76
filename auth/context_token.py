"""The `Kyodo-Context` token: the gateway's signed statement of who the caller is.

The gateway verifies the client's token once, then tells each subgraph who is calling with a
short-lived ES256 JWT signed by its own key, whose audience names that one subgraph (a token
captured at one subgraph is useless at another). This module is the only code that writes or
reads it.

Claims: iss "kyodo-gateway", aud "kyodo-subgraph:<name>", iat, nbf, exp (+60 s), jti, sub,
muni, roles (list), scope (space separated), acr, `idp` (the upstream token's issuer) and `cid` (its client id).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from auth.errors import AuthenticationError
from auth.gateway_keys import CONTEXT_ALGORITHM, PublicKeySource, import_public_keys, public_key_source
from auth.jwt_checks import check_algorithm, parse_compact, validate_claims, verify_signature
from auth.principal import Principal, normalize_municipality

CONTEXT_HEADER = "Kyodo-Context"
CONTEXT_ISSUER = "kyodo-gateway"
AUDIENCE_PREFIX = "kyodo-subgraph:"
LIFETIME_SECONDS = 60
# Gateway and subgraphs run on clocks synchronised by the same infrastructure.
LEEWAY_SECONDS = 5
MAX_CONTEXT_BYTES = 8 * 1024

VerificationKeys = KeySet | ECKey | dict | str | PublicKeySource | None


def context_audience(subgraph: str) -> str:
    """Accepts "childcare" or "kyodo-subgraph:childcare"; returns the latter."""
    return subgraph if subgraph.startswith(AUDIENCE_PREFIX) else AUDIENCE_PREFIX + subgraph


def sign_context(principal: Principal, audience: str, key: ECKey, *, now: int | None = None) -> str:
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": CONTEXT_ISSUER,
        "aud": context_audience(audience),
        "iat": issued,
        "nbf": issued,
        "exp": issued + LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(12),
        "sub": principal.subject,
        "muni": principal.municipality,
        "roles": sorted(principal.roles),
        "scope": " ".join(sorted(principal.scopes)),
        "acr": principal.assurance,
    }
    if principal.issuer:
        claims["idp"] = principal.issuer
    if principal.client_id:
        claims["cid"] = principal.client_id
    key.ensure_kid()
    header = {"alg": CONTEXT_ALGORITHM, "kid": key.kid, "typ": "kyodo-context+jwt"}
    return jwt.encode(header, claims, key, algorithms=[CONTEXT_ALGORITHM])


def _resolve_keys(keys: VerificationKeys) -> tuple[KeySet, PublicKeySource | None]:
    if isinstance(keys, KeySet):
        return keys, None
    if isinstance(keys, ECKey):
        return KeySet([keys]), None
    if isinstance(keys, dict):
        return import_public_keys(keys), None
    source = keys if isinstance(keys, PublicKeySource) else public_key_source(keys)
    try:
        return source.keys(), source
    except (OSError, ValueError, JoseError) as error:
        # Misconfiguration on the subgraph's side: refuse, and say where the keys were expected.
        raise AuthenticationError(f"the gateway's public keys could not be loaded from {source.source}: {error}") from None


def _find_key(key_set: KeySet, kid: Any) -> ECKey | None:
    for key in key_set:
        if key.kid == kid and isinstance(key, ECKey):
            return key
    return None


def verify_context(token: str, audience: str, keys: VerificationKeys = None, *, now: int | None = None) -> Principal:
    """Verify a `Kyodo-Context` token for subgraph `audience` and return its Principal.

    `keys`: a KeySet/JWKS dict/key, or a file path or URL of the gateway's public JWKS, or None
    for `$KYODO_GATEWAY_JWKS`. A file/URL source is cached and re-read (rate-limited) when a
    token names a `kid` it does not hold, so a gateway key rotation needs no subgraph restart.
    Raises AuthenticationError on any problem.
    """
    obj = parse_compact(token, MAX_CONTEXT_BYTES)
    header = obj.headers()
    check_algorithm(header["alg"], (CONTEXT_ALGORITHM,))
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AuthenticationError("the context token names no key id")
    key_set, source = _resolve_keys(keys)
    key = _find_key(key_set, kid)
    if key is None and source is not None:
        try:
            if source.reload_for_unknown_kid():
                key = _find_key(source.keys(), kid)
        except (OSError, ValueError, JoseError):
            key = None
    if key is None:
        raise AuthenticationError("the context token is signed with an unknown key")
    claims = verify_signature(obj, key, CONTEXT_ALGORITHM)
    validate_claims(
        claims, issuer=CONTEXT_ISSUER, audiences=(context_audience(audience),), leeway=LEEWAY_SECONDS, now=now
    )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise AuthenticationError("the context token has no subject")
    roles = claims.get("roles") or []
    scope = claims.get("scope") or ""
    if not isinstance(roles, list) or not isinstance(scope, str):
        raise AuthenticationError("the context token has malformed roles or scope")
    acr = claims.get("acr")
    idp = claims.get("idp")
    cid = claims.get("cid")
    return Principal(
        subject=claims["sub"],
        municipality=normalize_municipality(claims.get("muni")),
        roles=frozenset(r for r in roles if isinstance(r, str)),
        scopes=frozenset(scope.split()),
        assurance=acr if isinstance(acr, str) else None,
        issuer=idp if isinstance(idp, str) else None,
        client_id=cid if isinstance(cid, str) and cid else None,
    )
