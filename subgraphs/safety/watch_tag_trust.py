"""Who may claim a watch tag, and who may report a sighting (issue 10, finding 5).

* **Pairing codes.** Each tag is sold with a code printed on its card. The city (or the tag's supplier) provisions
  the tag id with that code; only the scrypt hash (per-tag salt) is stored. Registering a tag needs the code, so
  knowing the id a tag broadcasts is not enough to receive its sightings. A wrong code and an unknown tag get
  the same refusal, and failed attempts are rate-limited per caller.
* **Registered app instances.** The citizen watch-over app registers each installation once, with the app's own
  client credentials (scope `safety:report`), and receives an instance id and a random key (stored as SHA-256;
  shown once). A citizen-phone sighting must carry both. The instance is not a person and is not stored with
  the sighting: the volunteer stays anonymous, yet a forged sighting needs a registered instance, and each
  instance is rate-limited.
* **Marked sources.** Every stored sighting records how it was authenticated (`ReportChannel`), which the
  guardian sees next to the detector kind.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.throttle import RateLimiter
from subgraphs.common.errors import BadUserInput, Forbidden, KyodoError, NotFound, Unauthenticated

from .models import TagPairing, WatchAppInstance

REPORT_SCOPE = "safety:report"
PAIRING_CODE = re.compile(r"^[A-Z0-9]{8,16}$")
# scrypt cost: 55 ms a check measured here (2 busy cores); the code is short, so a stolen table must not be
# cheap to invert
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
INSTANCE_PREFIX = "app-"
UNKNOWN_TAG_OR_CODE = "no watch tag with this id and pairing code"
# Phones buffer sightings while offline and send them in a burst when back on the network.
REPORTS_PER_INSTANCE = RateLimiter(per_second=0.2, burst=60)
PAIRING_FAILURES = RateLimiter(per_second=1 / 60, burst=5)
APP_REGISTRATIONS = RateLimiter(per_second=1.0, burst=200)


class ReportChannel(enum.Enum):
    FIXED_DETECTOR = "FIXED_DETECTOR"      # a camera/vehicle/facility reporting with its own credentials
    REGISTERED_APP = "REGISTERED_APP"      # a citizen phone, through a registered app instance
    UNVERIFIED = "UNVERIFIED"              # stored before reports had to be authenticated


class RateLimited(KyodoError):
    code = "RATE_LIMITED"


def normalize_pairing_code(code: str) -> str:
    """Printed codes are read back by people: case, spaces and hyphens do not matter."""
    text = re.sub(r"[\s-]", "", str(code)).upper()
    if not PAIRING_CODE.match(text):
        raise BadUserInput("pairingCode must be the 8-16 letters and digits printed with the tag", field="pairingCode")
    return text


def _scrypt(code: str, salt: bytes) -> str:
    return hashlib.scrypt(code.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32).hex()


def pairing_row(tag_id: str, code: str, now: datetime, *, salt: bytes | None = None) -> TagPairing:
    salt = salt if salt is not None else secrets.token_bytes(16)
    return TagPairing(tag_id=tag_id, code_salt=salt.hex(), code_hash=_scrypt(normalize_pairing_code(code), salt),
                      provisioned_at=now)


def demo_pairing_code(tag_id: str) -> str:
    """The code printed with a demo tag (seeded data only; real codes come from the tag's supplier)."""
    digest = hashlib.sha256(f"kyodo-demo-tag/{tag_id}".encode()).hexdigest().upper()
    return digest[:10]


async def check_pairing(session: AsyncSession, principal: Any, tag_id: str, code: str) -> None:
    """NOT_FOUND, the same for an unknown tag and a wrong code; RATE_LIMITED after repeated failures."""
    normalized = normalize_pairing_code(code)
    pairing = await session.get(TagPairing, tag_id)
    ok = pairing is not None and hmac.compare_digest(
        _scrypt(normalized, bytes.fromhex(pairing.code_salt)), pairing.code_hash)
    if not ok:
        if PAIRING_FAILURES.take(f"{principal.issuer}|{principal.subject}"):
            raise RateLimited("too many wrong pairing codes; try again later")
        raise NotFound(UNKNOWN_TAG_OR_CODE, field="tagId")


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def register_app_instance(session: AsyncSession, principal: Any | None, now: datetime) -> tuple[str, str]:
    """(instance id, key) for one app installation; only the watch app's own client may ask."""
    if principal is None:
        raise Unauthenticated("registering the watch-over app needs the app's client credentials")
    if REPORT_SCOPE not in principal.scopes:
        raise Forbidden(f"registering the watch-over app needs scope {REPORT_SCOPE}")
    if APP_REGISTRATIONS.take(f"{principal.issuer}|{principal.subject}"):
        raise RateLimited("too many app registrations; try again later")
    instance_id = INSTANCE_PREFIX + secrets.token_hex(16)
    key = secrets.token_urlsafe(32)
    session.add(WatchAppInstance(id=instance_id, key_hash=_key_hash(key), registered_at=now, active=True))
    await session.flush()
    return instance_id, key


async def check_app_instance(session: AsyncSession, instance_id: str | None, key: str | None) -> None:
    """A citizen sighting's credentials: a registered, active instance and its key; then its rate limit."""
    if not instance_id or not key:
        raise Unauthenticated("a citizen sighting needs a registered app instance (appInstanceId, appInstanceKey)")
    instance = await session.get(WatchAppInstance, str(instance_id)[:40])
    if instance is None or not instance.active or not hmac.compare_digest(_key_hash(key), instance.key_hash):
        raise Unauthenticated("unknown app instance or wrong key")
    if REPORTS_PER_INSTANCE.take(instance.id):
        raise RateLimited("too many sightings from this app instance; try again later")
