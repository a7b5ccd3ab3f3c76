"""RFC 7009 token revocation and RFC 7662 token introspection for the dev IdP, on authlib's endpoint classes.

Both take the IdP's two token kinds: opaque refresh tokens (looked up in the store) and RFC 9068 JWT access
tokens (verified with the IdP's own keys, then checked against the revoked `jti`s). Revoking a refresh token
revokes its whole family, access tokens included (RFC 7009 §2.1 "SHOULD").

Who may call: revocation — the client the token was issued to (public clients by `client_id`, as RFC 7009
allows); introspection — the resource server's own client (`kyodo-gateway`) for any token, and a confidential
client for its own tokens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc import jwt
from joserfc.errors import JoseError

from auth.idp.signing_keys import ALGORITHM
from auth.idp.store import RefreshToken

RESOURCE_SERVER_CLIENT = "kyodo-gateway"


@dataclass
class AccessToken:
    """A verified JWT access token of this IdP, seen through authlib's token protocol."""

    claims: dict[str, Any]
    revoked: bool

    def check_client(self, client) -> bool:
        return self.claims.get("client_id") == client.get_client_id()

    def get_scope(self) -> str:
        return self.claims.get("scope", "")

    def is_expired(self) -> bool:
        return time.time() >= float(self.claims.get("exp", 0))

    def is_revoked(self) -> bool:
        return self.revoked


def read_access_token(server, token: str) -> AccessToken | None:
    try:
        decoded = jwt.decode(token, server.keys.signing_set(), algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError):
        return None
    claims = decoded.claims
    if claims.get("iss") != server.issuer or not isinstance(claims.get("jti"), str):
        return None
    return AccessToken(claims, server.store.access_revoked(claims["jti"]))


def query(server, token: str, hint: str | None) -> AccessToken | RefreshToken | None:
    order = ("refresh_token", "access_token") if hint == "refresh_token" else ("access_token", "refresh_token")
    for kind in order:
        if kind == "access_token" and token.count(".") == 2:
            found = read_access_token(server, token)
        elif kind == "refresh_token":
            found = server.store.find_refresh(token)
        else:
            found = None
        if found is not None:
            return found
    return None


class KyodoRevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None):
        return query(self.server, token_string, token_type_hint)

    def revoke_token(self, token, request) -> None:
        if isinstance(token, RefreshToken):
            self.server.store.revoke_family(token.family)
        elif isinstance(token, AccessToken):
            self.server.store.revoke_access(token.claims["jti"], float(token.claims.get("exp", 0)))


class KyodoIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None):
        return query(self.server, token_string, token_type_hint)

    def check_permission(self, token, client, request) -> bool:
        return client.get_client_id() == RESOURCE_SERVER_CLIENT or token.check_client(client)

    def introspect_token(self, token) -> dict:
        if isinstance(token, AccessToken):
            claims = token.claims
            payload = {key: claims[key] for key in ("sub", "client_id", "scope", "exp", "iat", "iss", "aud", "jti",
                                                     "acr", "muni", "roles") if key in claims}
            return {"active": True, "token_type": "Bearer", **payload}
        return {"active": True, "token_type": "refresh_token", "client_id": token.client_id, "scope": token.scope,
                "sub": token.user.account.sub, "exp": int(token.expires_at), "iss": self.server.issuer}
