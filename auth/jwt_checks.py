"""JWT checks shared by the resource server and the context token, all delegated to joserfc.

The order matters: size first (before any parsing), then the header (algorithm allow-list, key
lookup by `kid`), then the signature, and only then the claims. Every failure becomes an
`AuthenticationError` whose message says what was wrong and nothing else.
"""

from __future__ import annotations

import json
from typing import Any, Collection

from joserfc import jws
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key
from joserfc.jws import CompactSignature
from joserfc.jwt import JWTClaimsRegistry

from auth.errors import AuthenticationError

DEFAULT_MAX_TOKEN_BYTES = 8 * 1024
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


def parse_compact(token: str, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> CompactSignature:
    """Split and base64-decode a compact JWS without trusting anything in it yet."""
    if len(token) > max_bytes:
        raise AuthenticationError(f"the token is too large ({len(token)} bytes; at most {max_bytes} accepted)")
    if token.count(".") != 2:
        raise AuthenticationError("the token is not a signed JWT (expected three dot-separated parts)")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise AuthenticationError("the token is malformed") from None
    header = obj.headers()
    if not isinstance(header.get("alg"), str):
        raise AuthenticationError("the token header has no algorithm")
    return obj


def check_algorithm(alg: str, allowed: Collection[str]) -> None:
    if alg.lower() == "none":
        raise AuthenticationError("unsigned tokens (alg 'none') are not accepted")
    if alg not in allowed:
        raise AuthenticationError(f"the token algorithm '{alg}' is not allowed for this issuer")


def verify_signature(obj: CompactSignature, key: Key, alg: str) -> dict[str, Any]:
    """Check the signature with exactly one algorithm and one key; return the claims."""
    try:
        valid = jws.validate_compact(obj, key, algorithms=[alg])
    except BadSignatureError:
        valid = False
    except JoseError:
        # e.g. a key of the wrong type for the algorithm: same outcome as a bad signature
        valid = False
    if not valid:
        raise AuthenticationError("the token signature is invalid")
    try:
        claims = json.loads(obj.payload)
    except (TypeError, ValueError):
        raise AuthenticationError("the token payload is not JSON") from None
    if not isinstance(claims, dict):
        raise AuthenticationError("the token payload is not a JSON object")
    return claims


def validate_claims(
    claims: dict[str, Any],
    *,
    issuer: str,
    audiences: Collection[str],
    leeway: int,
    now: int | None = None,
) -> None:
    """iss, aud, exp are required; nbf and iat are checked when present, all with `leeway` seconds."""
    registry = JWTClaimsRegistry(
        now=now,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "values": list(audiences)},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise AuthenticationError("the token has expired") from None
    except MissingClaimError as error:
        raise AuthenticationError(f"the token lacks a required claim ({error.description})") from None
    except InvalidClaimError as error:
        claim = getattr(error, "claim", None) or ""
        message = {
            "iss": f"the token was not issued by '{issuer}'",
            "aud": "the token is not meant for this audience",
            "nbf": "the token is not yet valid",
            "iat": "the token was issued in the future",
        }.get(claim, f"the token has an invalid claim ({error.description})")
        raise AuthenticationError(message) from None
