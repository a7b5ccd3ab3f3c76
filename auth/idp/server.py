"""authlib's AuthorizationServer adapted to Starlette, issuing RFC 9068 JWT access tokens.

Starlette reads bodies asynchronously and authlib is synchronous, so each endpoint reads the
query and form first and hands authlib a ready `StarletteOAuth2Request`.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections import defaultdict
from typing import Any
from urllib.parse import unquote

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from starlette.responses import JSONResponse, Response

from auth.idp.card_certificates import CardAuthority
from auth.idp.card_pin import CardPinGrant
from auth.idp.clients import Client
from auth.idp.directory import SignedInUser
from auth.idp.grants import (
    AuthorizationCodeGrant,
    CardTapGrant,
    ClientCredentialsGrant,
    KyodoOpenIDCode,
    RefreshTokenGrant,
    issuance_limiter,
    save_issued_token,
)
from auth.idp.signing_keys import ALGORITHM, SigningKeyRing
from auth.idp.store import IdpStore
from auth.throttle import FailureLockout, RateLimiter
from auth.idp.token_endpoints import KyodoIntrospectionEndpoint, KyodoRevocationEndpoint

ACCESS_TOKEN_LIFETIME = 300


class _Payload(OAuth2Payload):
    def __init__(self, values: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for key, value in values:
            self._datalist[key].append(value)
        self._data = {key: items[0] for key, items in self._datalist.items()}

    @property
    def data(self) -> dict:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    def __init__(self, method: str, url: str, headers: dict, query: list[tuple[str, str]], form: list[tuple[str, str]]):
        super().__init__(method=method, uri=url, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload(query + form)

    @property
    def args(self) -> dict:
        return self._args

    @property
    def form(self) -> dict:
        return self._form


async def oauth2_request(request) -> StarletteOAuth2Request:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        data = await request.form()
        form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    oauth_request = StarletteOAuth2Request(
        request.method, str(request.url), request.headers, list(request.query_params.multi_items()), form
    )
    oauth_request.client_address = request.client.host if request.client else ""
    return oauth_request


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: `plain` offers no protection if the authorization request leaks."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class KyodoAccessTokens(JWTBearerTokenGenerator):
    def __init__(self, server: KyodoAuthorizationServer) -> None:
        super().__init__(
            issuer=server.issuer,
            alg=ALGORITHM,
            refresh_token_generator=lambda **_: secrets.token_urlsafe(32),
            expires_generator=lambda client, grant_type: server.access_token_lifetime,
        )
        self.server = server

    def get_jwks(self):
        return self.server.keys.signing_set()

    def get_audiences(self, client, user, scope) -> str:
        return self.server.audience

    def get_acr(self, user: SignedInUser | None) -> str | None:
        return user.acr if user is not None else None

    def get_amr(self, user: SignedInUser | None) -> list[str] | None:
        return list(user.amr) if user is not None else None

    def get_auth_time(self, user: SignedInUser | None) -> int | None:
        return user.auth_time if user is not None else None

    def get_extra_claims(self, client: Client, grant_type: str, user: SignedInUser | None, scope: str) -> dict:
        if user is None:  # the client acting for itself (client credentials)
            claims: dict[str, Any] = {"roles": list(client.roles)}
            if client.municipality:
                claims["muni"] = client.municipality
            return claims
        return {"muni": user.account.municipality, "roles": list(user.account.roles)}


def _claimed_client_id(request) -> str | None:
    """The client id a token-endpoint request claims (HTTP Basic or form), before it is authenticated."""
    header = request.headers.get("authorization") or request.headers.get("Authorization") or ""
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    client_id = request.form.get("client_id") if hasattr(request, "form") else None
    return client_id if isinstance(client_id, str) and client_id else None


class ClientLockedError(OAuth2Error):
    error = "invalid_client"
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(description="too many failed client authentications; try again later")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class KyodoAuthorizationServer(AuthorizationServer):
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        clients: dict[str, Client],
        keys: SigningKeyRing,
        card_authority: CardAuthority,
        card_links: dict[str, str],
        access_token_lifetime: int = ACCESS_TOKEN_LIFETIME,
        client_lockout: FailureLockout | None = None,
        issuance_limit: RateLimiter | None = None,
    ) -> None:
        super().__init__(scopes_supported=None)
        self.issuer = issuer
        self.audience = audience
        self.clients = clients
        self.registered: Any = None     # auth.idp.registered_clients.RegisteredClients, set by create_idp_app
        self.keys = keys
        self.card_authority = card_authority
        self.card_links = card_links
        self.access_token_lifetime = access_token_lifetime
        self.store = IdpStore()
        # failed client secrets lock the client id out, with backoff (auth/throttle.py)
        self.client_lockout = client_lockout or FailureLockout()
        self.issuance_limit = issuance_limit or issuance_limiter()
        self.register_token_generator("default", KyodoAccessTokens(self))
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True), KyodoOpenIDCode(self)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(CardTapGrant)
        self.register_grant(CardPinGrant)
        self.register_endpoint(KyodoRevocationEndpoint)
        self.register_endpoint(KyodoIntrospectionEndpoint)

    def query_client(self, client_id: str) -> Client | None:
        known = self.clients.get(client_id)
        if known is None and self.registered is not None:   # a municipality's own service (registered_clients)
            return self.registered.get(client_id)
        return known

    def save_token(self, token: dict, request) -> None:
        save_issued_token(self, token, request)

    def authenticate_client(self, request, methods, endpoint="token"):
        """authlib's client authentication behind a lockout: after repeated wrong secrets a client id is
        refused, right secret or not, until its lock ends (the lock doubles with each further failure)."""
        client_id = _claimed_client_id(request)
        # keyed by client and caller address, so a stranger guessing cannot lock the real reader out
        key = f"{client_id}|{getattr(request, 'client_address', '')}"
        wait = self.client_lockout.retry_after(key) if client_id else 0
        if wait:
            raise ClientLockedError(wait)
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError:
            if client_id and self.query_client(client_id) is not None:
                self.client_lockout.failed(key)
            raise
        self.client_lockout.succeeded(key)
        return client

    def send_signal(self, name, *args, **kwargs) -> None:
        return None

    def create_oauth2_request(self, request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        raise TypeError("endpoints must pass a StarletteOAuth2Request (see oauth2_request)")

    def create_json_request(self, request):
        raise NotImplementedError("the dev IdP has no JSON endpoints")

    def handle_response(self, status: int, body: Any, headers) -> Response:
        headers = dict(headers or [])
        if isinstance(body, dict):
            headers.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=headers)
        return Response(body or "", status_code=status, headers=headers)
