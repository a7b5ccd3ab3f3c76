"""The IdP's token-signing keys, rotatable while it runs.

`rotate()` makes a new RSA key (new kid) current; the previous keys stay published in the JWKS
for a while so tokens they signed keep verifying until they expire.
"""

from __future__ import annotations

import threading

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
PUBLISHED_KEYS = 3  # current + two previous


def new_signing_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"alg": ALGORITHM, "use": "sig"}, private=True)
    key.ensure_kid()
    return key


class SigningKeyRing:
    def __init__(self, first: RSAKey | None = None) -> None:
        self._keys = [first or new_signing_key()]
        self._lock = threading.Lock()

    @property
    def current(self) -> RSAKey:
        return self._keys[-1]

    def signing_set(self) -> KeySet:
        """A one-key set: joserfc then writes the current key's kid into the token header."""
        return KeySet([self.current])

    def rotate(self) -> RSAKey:
        key = new_signing_key()
        with self._lock:
            self._keys = (self._keys + [key])[-PUBLISHED_KEYS:]
        return key

    def public_jwks(self) -> dict:
        return {"keys": [key.as_dict(private=False) for key in self._keys]}
