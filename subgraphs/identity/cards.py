"""Card links (hashed certificate serial -> resident, re-linked on renewal) and card-tap sign-in.

The serial arrives from a reader and is hashed at once with `auth.card_serial.hash_serial`; the raw serial is
never stored, logged or returned. A My Number is never accepted at all.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.card_serial import hash_serial
from subgraphs.common import audit, co_use
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from subgraphs.common.my_number_guard import refuse_my_number

from .access import PLATFORM, REFUSAL, authorize, load_resident, require_role
from .clock import utc_now
from .models import CardLink, Resident, SignIn

ASSURANCE_TAP, ASSURANCE_PIN = "card-tap", "card-pin"
ASSURANCE_LEVELS = {ASSURANCE_TAP: 1, ASSURANCE_PIN: 2}   # tap without PIN < tap + PIN


def serial_hash(serial: str) -> str:
    """Hash a certificate serial, refusing anything that is not one, and anything that reads as a My Number in
    any spelling (auth/my_number.py: full-width, separators, 0x, leading zeros, check digit)."""
    text = str(serial).strip()
    refuse_my_number(text, "certificateSerial", serial=True)
    if len(text) > 128:
        raise BadUserInput("certificate serial is too long", field="certificateSerial")
    try:
        return hash_serial(text)
    except ValueError as error:
        raise BadUserInput(f"certificate serial is malformed: {error}", field="certificateSerial") from None


async def active_link(session: AsyncSession, hashed: str) -> CardLink | None:
    row = await session.execute(select(CardLink).where(CardLink.serial_hash == hashed, CardLink.revoked_at.is_(None)))
    return row.scalar_one_or_none()


async def resident_for_card(session: AsyncSession, serial: str, ctx: RequestContext | None = None) -> Resident:
    """The resident linked to the card. Only a card reader (`device`) learns that a card is unknown; for anyone
    else an unknown card is refused exactly as a known one they may not use (issue 10, finding 6)."""
    link = await active_link(session, serial_hash(serial))
    if link is None:
        principal = ctx.principal if ctx is not None else None
        if ctx is not None and principal is None:
            raise Unauthenticated("personal data needs a caller vouched for by the gateway")
        if ctx is not None and "device" not in principal.roles:
            raise Forbidden(REFUSAL)
        raise NotFound("no resident is linked to this card")
    return await session.get(Resident, link.resident_id)


async def link_card(ctx: RequestContext, session: AsyncSession, resident_id: str, serial: str) -> CardLink:
    """Link a card to a resident; a new card (renewal) replaces the resident's active link."""
    hashed = serial_hash(serial)
    resident = await load_resident(session, resident_id, ctx)
    kind = await authorize(ctx, session, resident, fields=["cardLink"], purpose="link My Number Card", write=True)
    if kind != "staff" and ctx.principal.assurance != ASSURANCE_PIN:
        raise Forbidden("linking a card yourself needs a card + PIN sign-in", needed="card-pin")
    existing = (await session.execute(select(CardLink).where(CardLink.serial_hash == hashed))).scalar_one_or_none()
    if existing is not None:
        if existing.resident_id == resident.id and existing.revoked_at is None:
            return existing  # linking the same card again changes nothing
        raise Conflict("this card is already known and cannot be linked here")
    now = utc_now()
    await session.execute(update(CardLink).where(CardLink.resident_id == resident.id, CardLink.revoked_at.is_(None))
                          .values(revoked_at=now, revoked_reason="renewed"))
    link = CardLink(resident_id=resident.id, serial_hash=hashed, linked_at=now)
    session.add(link)
    await session.flush()
    return link


async def tap_sign_in(ctx: RequestContext, session: AsyncSession, serial: str, pin_verified: bool) -> SignIn:
    """A card reader (a `device` caller) reports a tap; the linked resident is signed in at tap assurance
    (level 1), or tap + PIN (level 2) when the reader verified the PIN."""
    device = require_role(ctx, "device")
    resident = await resident_for_card(session, serial)
    await co_use.ensure_joined(session, PLATFORM, resident.municipality_code)
    method = ASSURANCE_PIN if pin_verified else ASSURANCE_TAP
    record = SignIn(resident_id=resident.id, at=utc_now(), method=method, level=ASSURANCE_LEVELS[method],
                    terminal=device.subject[:128])
    session.add(record)
    await audit.record(session, device, resident.id, ["signIn"], f"card sign-in ({method})", "written",
                       subject_municipality=resident.municipality_code, subgraph=PLATFORM)
    await co_use.count_usage(session, PLATFORM, resident.municipality_code, records=1)
    await session.flush()
    return record
