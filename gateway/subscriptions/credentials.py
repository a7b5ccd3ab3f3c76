"""A subscription's credentials: the same token rules as HTTP, checked when the connection opens.

The token comes from the `Authorization` header (the WebSocket upgrade request, or the SSE request),
or, for a WebSocket, from the connection_init payload `{"Authorization": "Bearer …"}` (browsers cannot
set headers on a WebSocket); the payload's wins when both are sent. The gateway's authenticator
(gateway/security.py) validates it exactly as for a query.

A token outlives its check: a subscription ends when its token expires (`exp`), with an error event
(TOKEN_EXPIRED) and then its end; the client subscribes again with a fresh token.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping

import orjson

INIT_PAYLOAD_KEYS = ("Authorization", "authorization")


class CredentialRequest:
    """What the authenticator reads of a request (its headers), for a token not sent as a header."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = {name.lower(): value for name, value in headers.items()}


def authorization_from_init(payload: Any) -> str | None:
    """The Authorization value of a connection_init payload, None if it has none; ValueError if malformed."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise ValueError("connection_init's payload must be an object")
    for key in INIT_PAYLOAD_KEYS:
        if key in payload:
            value = payload[key]
            if not isinstance(value, str):
                raise ValueError("connection_init's Authorization must be a string")
            return value
    return None


def token_expiry(authorization: str | None) -> float | None:
    """The `exp` of the bearer token in an Authorization value that the authenticator has accepted
    (so its signature is already checked); None when there is no token or no `exp`."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(segment))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None
