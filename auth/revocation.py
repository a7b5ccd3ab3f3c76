"""Revocation seen by the gateway: a sign-in ended at its issuer (logout, a stolen refresh token reused, a
replayed code) ends at the gateway too, within `check_seconds`.

A JWT access token is valid by its signature until it expires; an issuer that revokes a sign-in can only
say so when asked. So for an issuer configured with an RFC 7662 introspection endpoint, the gateway asks
it whether a token is still active the first time it sees the token and again every `check_seconds`
(until then the answer is remembered with the verified token). An inactive token is refused (401). If the
issuer cannot be asked (down, slow, a non-JSON answer), the token is refused too: a gateway that cannot
tell whether a sign-in was revoked does not serve personal data on it (fail closed).

The gateway authenticates to the endpoint as its own confidential client (`client_secret_basic`); the
secret comes from an environment variable, never from the settings file.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from auth.errors import AuthenticationError

INTROSPECTION_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Introspection:
    endpoint: str                    # the issuer's RFC 7662 introspection endpoint
    client_id: str                   # the gateway's client at that issuer
    client_secret_env: str           # the environment variable holding its secret
    check_seconds: float = 30.0      # how long an "active" answer is trusted

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("https://", "http://")):
            raise ValueError("introspection.endpoint must be an http(s) URL")
        if not self.client_id:
            raise ValueError("introspection.client_id is required")
        if self.check_seconds < 0:
            raise ValueError("introspection.check_seconds must not be negative")

    def secret(self) -> str:
        value = os.environ.get(self.client_secret_env, "")
        if not value:
            raise ValueError(f"introspection needs the gateway's client secret in ${self.client_secret_env}")
        return value


def _basic(client_id: str, secret: str) -> str:
    """client_secret_basic (RFC 6749 §2.3.1: both parts form-urlencoded first); aiohttp's BasicAuth is deprecated."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode()


async def ensure_active(session: aiohttp.ClientSession, introspection: Introspection, token: str) -> None:
    """Raise AuthenticationError unless the issuer says the token is active."""
    answer = None
    # Introspection changes nothing at the issuer, so a pooled connection the issuer closed under us is tried
    # once more on a fresh one; any other failure is final (fail closed).
    for attempt in range(2):
        try:
            async with session.post(
                introspection.endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                headers={"Authorization": _basic(introspection.client_id, introspection.secret())},
                timeout=aiohttp.ClientTimeout(total=INTROSPECTION_TIMEOUT_SECONDS),
            ) as response:
                answer = await response.json(content_type=None) if response.status == 200 else None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            if attempt == 0:
                continue
        except (aiohttp.ClientError, TimeoutError, ValueError):
            pass
        break
    if not isinstance(answer, dict):
        raise AuthenticationError("the token's issuer could not confirm that the sign-in is still active")
    if answer.get("active") is not True:
        raise AuthenticationError("the sign-in behind this token has ended (revoked at its issuer)")
