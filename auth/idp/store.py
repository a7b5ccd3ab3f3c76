"""The dev IdP's short-lived state, in memory: authorization codes, refresh tokens, card challenges.

Everything expires; codes and challenges are single use; a refresh token is replaced on use
(rotation), so a stolen, already-used refresh token is worthless.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin

from auth.idp.directory import SignedInUser

CODE_LIFETIME = 120
REFRESH_LIFETIME = 8 * 3600
CHALLENGE_LIFETIME = 60
MAX_ENTRIES = 10_000


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: SignedInUser
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.user.auth_time

    def get_acr(self) -> str:
        return self.user.acr

    def get_amr(self) -> list[str]:
        return list(self.user.amr)


@dataclass
class RefreshToken(TokenMixin):
    token: str
    client_id: str
    scope: str
    user: SignedInUser
    expires_at: float
    revoked: bool = False

    def check_client(self, client) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> SignedInUser:
        return self.user

    def get_client(self):  # pragma: no cover - not used by the grants we run
        raise NotImplementedError


class _Expiring:
    def __init__(self) -> None:
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value: object, lifetime: float) -> None:
        now = time.time()
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                if len(self._items) >= MAX_ENTRIES:
                    raise OverflowError("too many pending entries")
            self._items[key] = (now + lifetime, value)

    def get(self, key: str) -> object | None:
        with self._lock:
            entry = self._items.get(key)
        if entry is None or entry[0] <= time.time():
            return None
        return entry[1]

    def take(self, key: str) -> object | None:
        with self._lock:
            entry = self._items.pop(key, None)
        if entry is None or entry[0] <= time.time():
            return None
        return entry[1]


class IdpStore:
    def __init__(self) -> None:
        self.codes = _Expiring()
        self.refresh_tokens = _Expiring()
        self.challenges = _Expiring()

    def new_challenge(self) -> str:
        challenge = secrets.token_urlsafe(32)
        self.challenges.put(challenge, True, CHALLENGE_LIFETIME)
        return challenge

    def use_challenge(self, challenge: str) -> bool:
        return bool(challenge) and self.challenges.take(challenge) is not None
