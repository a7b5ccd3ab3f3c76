"""The dev IdP's short-lived state, in memory: authorization codes, token families, card challenges.

Every sign-in (an authorization-code exchange) starts a *token family*: its refresh token, each rotated
successor, and the ids (`jti`) of every access token issued from it. That is what lets the IdP answer theft:

* a refresh token is replaced on use; presenting an already-used one means two parties hold the family, so
  the whole family is revoked (its current refresh token and every access token it issued);
* an authorization code is single use; presenting it again revokes what its first exchange issued;
* RFC 7009 revocation of a refresh token revokes its family too.

Bounds: each account keeps at most MAX_FAMILIES_PER_ACCOUNT live families (a new sign-in retires its oldest
one), and every map is capped, evicting the oldest entry rather than failing — one account signing in ten
thousand times must not make `/token` fail for anyone else.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin

from auth.idp.directory import SignedInUser

CODE_LIFETIME = 120
REFRESH_LIFETIME = 8 * 3600
CHALLENGE_LIFETIME = 60
MAX_ENTRIES = 10_000
MAX_FAMILIES_PER_ACCOUNT = 20
MAX_CODES_PER_ACCOUNT = 10      # pending (not yet exchanged) authorization codes
# A used refresh token is remembered (to recognise its reuse) for as long as it would have lived.
MAX_USED_PER_FAMILY = 64


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
    family: str = ""
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


@dataclass
class TokenFamily:
    id: str
    account: str
    client_id: str
    current: str | None = None                                   # the live refresh token
    used: list[str] = field(default_factory=list)                # rotated-away refresh tokens
    access: dict[str, float] = field(default_factory=dict)       # jti -> exp of access tokens issued
    revoked: bool = False


class _Expiring:
    """key -> value with a lifetime; at the cap, expired entries go first, then the oldest."""

    def __init__(self, cap: int = MAX_ENTRIES) -> None:
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.cap = cap

    def put(self, key: str, value: object, lifetime: float) -> None:
        now = time.time()
        with self._lock:
            if len(self._items) >= self.cap:
                for stale in [k for k, v in self._items.items() if v[0] <= now]:
                    del self._items[stale]
                while len(self._items) >= self.cap:
                    self._items.popitem(last=False)
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

    def __len__(self) -> int:
        return len(self._items)


class IdpStore:
    def __init__(self) -> None:
        self.codes = _Expiring()
        self.used_codes = _Expiring()        # code -> family id of its first exchange
        self.challenges = _Expiring()        # challenge -> the reader client it was issued to
        self.revoked_access = _Expiring()    # jti -> True, until the access token would have expired
        self._codes_of: OrderedDict[str, list[str]] = OrderedDict()   # account -> its pending codes, oldest first
        self._refresh: dict[str, RefreshToken] = {}
        self._families: OrderedDict[str, TokenFamily] = OrderedDict()
        self._lock = threading.RLock()

    # --- card challenges ---------------------------------------------------------------------------------
    def new_challenge(self, client_id: str = "") -> str:
        challenge = secrets.token_urlsafe(32)
        self.challenges.put(challenge, client_id, CHALLENGE_LIFETIME)
        return challenge

    def use_challenge(self, challenge: str, client_id: str | None = None) -> bool:
        if not challenge:
            return False
        owner = self.challenges.take(challenge)
        return owner is not None and (client_id is None or owner in ("", client_id))

    # --- token families ----------------------------------------------------------------------------------
    def new_family(self, account: str, client_id: str) -> TokenFamily:
        with self._lock:
            mine = [f for f in self._families.values() if f.account == account and not f.revoked]
            for oldest in mine[:max(0, len(mine) - MAX_FAMILIES_PER_ACCOUNT + 1)]:
                self._drop(oldest.id, revoke=True)
            while len(self._families) >= MAX_ENTRIES:
                self._drop(next(iter(self._families)), revoke=True)
            family = TokenFamily(secrets.token_urlsafe(12), account, client_id)
            self._families[family.id] = family
            return family

    def family(self, family_id: str) -> TokenFamily | None:
        return self._families.get(family_id)

    def families_of(self, account: str) -> list[TokenFamily]:
        with self._lock:
            return [f for f in self._families.values() if f.account == account and not f.revoked]

    def add_access(self, family_id: str | None, jti: str, exp: float) -> None:
        family = self._families.get(family_id) if family_id else None
        if family is not None:
            now = time.time()
            family.access = {j: e for j, e in family.access.items() if e > now}
            family.access[jti] = exp

    def add_refresh(self, item: RefreshToken) -> None:
        with self._lock:
            family = self._families.get(item.family)
            if family is None or family.revoked:
                return
            family.current = item.token
            self._refresh[item.token] = item

    def find_refresh(self, token: str) -> RefreshToken | None:
        """The live refresh token; a rotated-away one revokes its family and gives None."""
        with self._lock:
            item = self._refresh.get(token)
            if item is None:
                return None
            family = self._families.get(item.family)
            if family is None or family.revoked:
                return None
            if item.revoked:
                self.revoke_family(family.id)      # reuse: someone else holds this family
                return None
            if item.is_expired():
                return None
            return item

    def rotate_away(self, item: RefreshToken) -> None:
        with self._lock:
            item.revoked = True
            family = self._families.get(item.family)
            if family is not None:
                family.used.append(item.token)
                while len(family.used) > MAX_USED_PER_FAMILY:
                    self._refresh.pop(family.used.pop(0), None)

    def revoke_family(self, family_id: str) -> None:
        with self._lock:
            self._drop(family_id, revoke=True)

    def _drop(self, family_id: str, *, revoke: bool) -> None:
        family = self._families.pop(family_id, None)
        if family is None:
            return
        family.revoked = True
        for token in [family.current, *family.used]:
            if token:
                self._refresh.pop(token, None)
        if revoke:
            now = time.time()
            for jti, exp in family.access.items():
                if exp > now:
                    self.revoked_access.put(jti, True, exp - now + 60)

    def revoke_access(self, jti: str, exp: float) -> None:
        remaining = exp - time.time()
        if remaining > 0:
            self.revoked_access.put(jti, True, remaining + 60)

    def access_revoked(self, jti: str) -> bool:
        return self.revoked_access.get(jti) is not None

    # --- authorization codes -----------------------------------------------------------------------------
    def add_code(self, account: str, item: AuthorizationCode) -> None:
        """Keep a new code; an account with too many pending codes loses its own oldest, nobody else's."""
        with self._lock:
            mine = self._codes_of.pop(account, [])
            mine.append(item.code)
            while len(mine) > MAX_CODES_PER_ACCOUNT:
                self.codes.take(mine.pop(0))
            self._codes_of[account] = mine
            while len(self._codes_of) > MAX_ENTRIES:
                self._codes_of.popitem(last=False)
        self.codes.put(item.code, item, CODE_LIFETIME)

    def code_used(self, code: str, family_id: str | None) -> None:
        self.used_codes.put(code, family_id or "", CODE_LIFETIME * 5)

    def replayed_code(self, code: str) -> str | None:
        """The family id of a code's first exchange when the code was already used, else None."""
        family = self.used_codes.get(code)
        return family if isinstance(family, str) else None
