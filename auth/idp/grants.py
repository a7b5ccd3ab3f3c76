"""authlib grants wired to the dev IdP's directory and store, plus the card-tap grant.

The card-tap grant (`urn:kyodo:params:oauth:grant-type:card-tap`) is used by the card-reader
client: it posts the tapped card's certificate (PEM), a challenge it fetched from
`/card/challenge`, and the card's signature of that challenge (base64url). The resident linked
to the card is signed in with acr "card-tap" — lower assurance than card + PIN.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnauthorizedClientError,
)
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode

from auth.card_serial import hash_serial
from auth.idp.card_certificates import CardError, read_tapped_card
from auth.idp.clients import CARD_TAP_GRANT
from auth.idp.directory import SignedInUser, find_account
from auth.idp.store import CODE_LIFETIME, REFRESH_LIFETIME, AuthorizationCode, RefreshToken
from auth.throttle import Clock, RateLimiter

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
        self.server.store.add_code(request.user.account.sub, item)
        return item

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        first_exchange = self.server.store.replayed_code(code)
        if first_exchange is not None:
            # A code used twice was intercepted: what its first exchange issued is revoked too (RFC 6749 §4.1.2).
            if first_exchange:
                self.server.store.revoke_family(first_exchange)
            return None
        item = self.server.store.codes.get(code)
        if isinstance(item, AuthorizationCode) and item.client_id == client.get_client_id():
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.server.store.codes.take(authorization_code.code)
        self.server.store.code_used(authorization_code.code, getattr(self.request, "kyodo_family", None))

    def authenticate_user(self, authorization_code: AuthorizationCode) -> SignedInUser:
        return authorization_code.user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each use returns a fresh refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        # a rotated-away token comes back as None and revokes its whole family (reuse = theft)
        return self.server.store.find_refresh(refresh_token)

    def authenticate_user(self, refresh_token: RefreshToken) -> SignedInUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        self.server.store.rotate_away(refresh_token)


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
        if not self.server.store.use_challenge(challenge, client.get_client_id()):
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
        # Never a refresh token for a tap: a card sign-in must not outlive the card leaving the reader.
        token = self.generate_token(
            user=self.request.user,
            scope=self.request._card_scope,  # noqa: SLF001
            include_refresh_token=False,
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


def _access_claims(access_token: str) -> dict:
    """jti and exp of an access token this IdP has just signed (no need to verify our own signature)."""
    try:
        payload = access_token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def save_issued_token(server, token: dict, request) -> None:
    """authlib's save_token hook: limit issuance per account, then file what was issued under its family.

    A code exchange starts a family; a refresh continues the refreshed token's family (see store.py).
    """
    user: SignedInUser | None = request.user
    account = user.account.sub if user is not None else f"client:{request.client.get_client_id()}"
    wait = server.issuance_limit.take(account)
    if wait:
        raise TooManyRequestsError(wait)
    store = server.store
    family_id = None
    previous = getattr(request, "refresh_token", None)
    if isinstance(previous, RefreshToken):
        family_id = previous.family
    elif user is not None and request.payload.grant_type == "authorization_code":
        family_id = store.new_family(account, request.client.get_client_id()).id
    request.kyodo_family = family_id
    claims = _access_claims(token.get("access_token", ""))
    if isinstance(claims.get("jti"), str):
        store.add_access(family_id, claims["jti"], float(claims.get("exp", time.time())))
    refresh = token.get("refresh_token")
    if refresh and user is not None and family_id:
        store.add_refresh(RefreshToken(refresh, request.client.get_client_id(), token.get("scope", ""), user,
                                       time.time() + REFRESH_LIFETIME, family=family_id))


class TooManyRequestsError(OAuth2Error):
    """Token issuance for one account beyond its rate limit: 429 with Retry-After."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(description="too many tokens for this account; try again later")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


def issuance_limiter(clock: Clock = time.monotonic) -> RateLimiter:
    # a person signs in a few times an hour; 60 at once, then one every 2 s, is far above that and still
    # stops one account from minting tokens by the thousand
    return RateLimiter(per_second=0.5, burst=60, clock=clock)
