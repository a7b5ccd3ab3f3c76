"""authlib grants wired to the dev IdP's directory and store, plus the card-tap grant.

The card-tap grant (`urn:kyodo:params:oauth:grant-type:card-tap`) is used by the card-reader
client: it posts the tapped card's certificate (PEM), a challenge it fetched from
`/card/challenge`, and the card's signature of that challenge (base64url). The resident linked
to the card is signed in with acr "card-tap" — lower assurance than card + PIN.
"""

from __future__ import annotations

import base64
import binascii
import time

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, UnauthorizedClientError
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode

from auth.card_serial import hash_serial
from auth.idp.card_certificates import CardError, read_tapped_card
from auth.idp.clients import CARD_TAP_GRANT
from auth.idp.directory import SignedInUser, find_account
from auth.idp.store import CODE_LIFETIME, REFRESH_LIFETIME, AuthorizationCode, RefreshToken

CARD_TAP_ACR = "card-tap"


def account_scope(user: SignedInUser, client_scope: str) -> str:
    """What the client asked for (already limited to the client), limited to what the account holds."""
    held = set(user.account.scopes)
    return " ".join(s for s in client_scope.split() if s in held)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request) -> AuthorizationCode:
        data = request.payload.data
        item = AuthorizationCode(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri or "",
            scope=account_scope(request.user, request.client.get_allowed_scope(request.payload.scope)),
            user=request.user,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce"),
            expires_at=time.time() + CODE_LIFETIME,
        )
        self.server.store.codes.put(code, item, CODE_LIFETIME)
        return item

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        item = self.server.store.codes.get(code)
        if isinstance(item, AuthorizationCode) and item.client_id == client.get_client_id():
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.server.store.codes.take(authorization_code.code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> SignedInUser:
        return authorization_code.user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each use returns a fresh refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        item = self.server.store.refresh_tokens.get(refresh_token)
        if isinstance(item, RefreshToken) and not item.is_revoked() and not item.is_expired():
            return item
        return None

    def authenticate_user(self, refresh_token: RefreshToken) -> SignedInUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.revoked = True
        self.server.store.refresh_tokens.take(refresh_token.token)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class CardTapGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = CARD_TAP_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(f"The client may not use grant_type={self.GRANT_TYPE}")
        self.request.client = client
        form = self.request.form
        certificate, challenge, signature = form.get("certificate"), form.get("challenge"), form.get("signature")
        if not certificate or not challenge or not signature:
            raise InvalidRequestError("A card tap needs 'certificate', 'challenge' and 'signature'.")
        if not self.server.store.use_challenge(challenge):
            raise InvalidGrantError("The challenge is unknown, used or expired; fetch a new one.")
        try:
            raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except (binascii.Error, ValueError):
            raise InvalidRequestError("'signature' must be base64url.") from None
        try:
            serial = read_tapped_card(self.server.card_authority, certificate, challenge, raw_signature)
        except CardError as error:
            raise InvalidGrantError(str(error)) from None
        resident_id = self.server.card_links.get(hash_serial(serial))
        account = find_account(resident_id) if resident_id else None
        if account is None:
            raise InvalidGrantError("This card is not linked to a resident (renewed cards must be re-linked).")
        user = SignedInUser(account, CARD_TAP_ACR, ("sc",), int(time.time()))
        scope = account_scope(user, client.get_allowed_scope(self.request.payload.scope))
        self.request.user = user
        self.request._card_scope = scope  # noqa: SLF001 - carried to create_token_response

    def create_token_response(self):
        token = self.generate_token(
            user=self.request.user,
            scope=self.request._card_scope,  # noqa: SLF001
            include_refresh_token=self.request.client.check_grant_type("refresh_token"),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class KyodoOpenIDCode(OpenIDCode):
    """ID tokens for the code flow, signed with the IdP's current key."""

    def __init__(self, server) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def resolve_client_private_key(self, client):
        return self.server.keys.signing_set()

    def get_client_algorithm(self, client) -> str:
        return "RS256"

    def get_client_claims(self, client) -> dict:
        return {"iss": self.server.issuer, "aud": [client.get_client_id()]}

    def exists_nonce(self, nonce: str, request) -> bool:
        return False  # codes are single use; a replayed code is refused before this matters

    def generate_user_info(self, user: SignedInUser, scope: str) -> UserInfo:
        info = UserInfo(sub=user.account.sub)
        if "profile" in scope.split():
            info["name"] = user.account.name
        return info


def save_refresh_token(server, token: dict, request) -> None:
    """authlib's save_token hook: keep the refresh token with who it was issued for."""
    refresh = token.get("refresh_token")
    if not refresh or request.user is None:
        return
    server.store.refresh_tokens.put(
        refresh,
        RefreshToken(refresh, request.client.get_client_id(), token.get("scope", ""), request.user,
                     time.time() + REFRESH_LIFETIME),
        REFRESH_LIFETIME,
    )
