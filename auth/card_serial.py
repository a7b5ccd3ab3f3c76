"""The only form in which a My Number Card certificate serial is ever kept.

The serial changes on every renewal and identifies a card, not a person, so it is stored only as
a keyed hash (HMAC-SHA256 with a pepper). Identity and the dev IdP both call `hash_serial`, so
the same card always maps to the same stored value.
"""

from __future__ import annotations

import hashlib
import hmac
from auth.my_number import looks_like_my_number
from auth.production import is_production, required_secret

# Dev default only: a deployment sets KYODO_CARD_PEPPER to a secret of its own.
DEV_CARD_PEPPER = "kyodo-dev-card-pepper-not-for-production"


def normalize_serial(serial: str | int) -> str:
    """Certificate serials are printed as decimal ints, hex, or colon-separated hex bytes.

    A `str` is read as hex (optionally `0x`-prefixed, colons/spaces allowed) as X.509 tools print
    it; an `int` is the serial number itself. Both give lower-case hex without leading zeros.
    """
    if looks_like_my_number(str(serial), serial=True):
        # never even a hash of one: a hash of a 12-digit number is reversible by enumeration
        raise ValueError("this reads as a My Number, which is never accepted")
    if isinstance(serial, int):
        if serial < 0:
            raise ValueError("a certificate serial is a non-negative integer")
        return format(serial, "x")
    text = serial.strip().lower().replace(":", "").replace(" ", "")
    if text.startswith("0x"):
        text = text[2:]
    if not text:
        raise ValueError("empty certificate serial")
    try:
        value = int(text, 16)
    except ValueError:
        raise ValueError("a certificate serial must be hexadecimal") from None
    return format(value, "x")


def card_pepper() -> bytes:
    """`KYODO_CARD_PEPPER`; the dev default only outside production (auth/production.py)."""
    return required_secret("KYODO_CARD_PEPPER", DEV_CARD_PEPPER).encode()


# A production process that hashes serials (identity, the IdP) refuses to start without its pepper,
# rather than failing at the first card tap.
if is_production():
    card_pepper()


def hash_serial(serial: str | int) -> str:
    """HMAC-SHA256(pepper, normalized serial) as 64 hex chars."""
    return hmac.new(card_pepper(), normalize_serial(serial).encode(), hashlib.sha256).hexdigest()
