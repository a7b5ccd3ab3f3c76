"""Non-resident shelter check-in (issue 11 item 3): a card tap at a shelter for someone identity has no id for.

A town whose daytime population commutes from elsewhere shelters people who are not its residents. The
shelter's reader reads the card's basic information (name, address, birth date, sex) without a PIN and hands it
over; identity records a visitor stay from it, counted in the shelter's occupancy and visible only to staff of
the shelter's municipality. What is never stored: the My Number, the certificate serial (it is read only to
check that the card is not linked to a resident, who checks in by `shelterCheckIn` instead), any hash of either.

Who may record it: the shelter's reader (role `device`) or shelter staff (`safety:write`), both of the
shelter's municipality, which must have joined identity. Every check-in, read and close is audited.

Companions (issue 10 finding 5): children under 18 may be listed by the adult who tapped; an adult companion
confirms with their own card tap, joining the party with `partyId`. No one checks another adult in.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden, NotFound

from .access import PLATFORM, check_id, require_principal
from .cards import active_link, serial_hash
from .clock import today_in_japan, utc_now
from .occupancy_events import publish_occupancy_changed
from .shelters import MAX_PETS, check_care_needs, parse_shelter_id
from .visitor_models import ShelterClosure, VisitorStay

ADULT_AGE = 18
MAX_CHILDREN = 10
SEXES = (0, 1, 2, 9)                              # ISO 5218
STAFF_READ, STAFF_WRITE = "safety:read", "safety:write"   # shelter work is the disaster section's
_DIGIT_SEPARATORS = re.compile(r"(?<=\d)[\s\-‐－ー_:.,/・]+(?=\d)")


@dataclass(frozen=True)
class BasicInfo:
    """基本4情報 as a reader delivers them."""

    name: str
    address: str
    birth_date: date
    sex: int


@dataclass
class VisitorCheckIn:
    shelter_id: str
    certificate_serial: str
    holder: BasicInfo
    children: list[BasicInfo] = field(default_factory=list)   # address ignored: a child shares the holder's
    party_id: str | None = None
    pets: int = 0
    care_needs: list[str] = field(default_factory=list)


def _looks_like_my_number(text: str) -> bool:
    """12 digits in a row once full-width forms and separators are folded away (番号法: never stored)."""
    folded = _DIGIT_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return re.search(r"\d{12}", folded) is not None


def _text(value: str, what: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text or len(text) > limit or not text.isprintable():
        raise BadUserInput(f"{what} must be 1..{limit} printable characters", field=what)
    if _looks_like_my_number(text):
        raise BadUserInput("that looks like a My Number; this system never accepts it", field=what)
    return text


def check_basic_info(info: BasicInfo, what: str, today: date) -> BasicInfo:
    if info.sex not in SEXES:
        raise BadUserInput(f"{what}.sex must be ISO 5218 (0, 1, 2 or 9)", field=f"{what}.sex")
    if not date(1900, 1, 1) <= info.birth_date <= today:
        raise BadUserInput(f"{what}.birthDate is not a possible birth date", field=f"{what}.birthDate")
    return BasicInfo(_text(info.name, f"{what}.name", 100), _text(info.address, f"{what}.address", 200),
                     info.birth_date, info.sex)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def visitor_key(info: BasicInfo) -> str:
    """Recognises a re-tap of the same person without keeping anything of the card."""
    canonical = "\x1f".join((" ".join(info.name.split()), " ".join(info.address.split()),
                             info.birth_date.isoformat(), str(info.sex)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def shelter_municipality(shelter_id: str) -> str:
    return shelter_id.split(":", 1)[0]


def _require_shelter_desk(ctx: RequestContext, municipality: str, scope: str):  # noqa: ANN202 - Principal
    """The shelter's reader or its staff, of the shelter's municipality."""
    principal = require_principal(ctx)
    if principal.municipality == municipality and (
            "device" in principal.roles or ("staff" in principal.roles and scope in principal.scopes)):
        return principal
    raise Forbidden("only the shelter's reader or staff of the shelter's municipality may do this")


async def _open_visit(session: AsyncSession, key: str) -> VisitorStay | None:
    rows = await session.execute(select(VisitorStay).where(VisitorStay.visitor_key == key,
                                                           VisitorStay.checked_out_at.is_(None)))
    return rows.scalars().first()


async def check_in(ctx: RequestContext, session: AsyncSession, request: VisitorCheckIn) -> list[VisitorStay]:
    shelter_id = parse_shelter_id(request.shelter_id)
    municipality = shelter_municipality(shelter_id)
    principal = _require_shelter_desk(ctx, municipality, STAFF_WRITE)
    await co_use.ensure_joined(session, PLATFORM, municipality)
    if not 0 <= request.pets <= MAX_PETS:
        raise BadUserInput(f"pets must be between 0 and {MAX_PETS}", field="pets")
    needs = check_care_needs(request.care_needs)
    if len(request.children) > MAX_CHILDREN:
        raise BadUserInput(f"at most {MAX_CHILDREN} children per tap", field="children")
    today = today_in_japan()
    holder = check_basic_info(request.holder, "holder", today)
    children = [check_basic_info(BasicInfo(c.name, holder.address, c.birth_date, c.sex), "children", today)
                for c in request.children]
    if any(age_on(c.birth_date, today) >= ADULT_AGE for c in children):
        raise BadUserInput("an adult companion confirms with their own card tap (joining with partyId)",
                           field="children")
    if await active_link(session, serial_hash(request.certificate_serial)) is not None:
        raise Conflict("this card is linked to a resident: check in with shelterCheckIn")
    party = await _party(session, shelter_id, request.party_id)

    now = utc_now()
    stays: list[VisitorStay] = []
    changed = [shelter_id]
    for info, is_holder in [(holder, True), *((c, False) for c in children)]:
        key = visitor_key(info)
        current = await _open_visit(session, key)
        if current is not None and current.shelter_id == shelter_id:
            stays.append(current)     # tapped again here: nothing changes
            continue
        if current is not None:
            current.checked_out_at, current.checkout_reason = now, "moved"
            changed.append(current.shelter_id)
        own_needs = set(needs) if is_holder else set()
        if age_on(info.birth_date, today) < 6:
            own_needs.add("乳幼児")
        stay = VisitorStay(id=uuid.uuid4().hex, shelter_id=shelter_id, shelter_municipality=municipality,
                           party_id=party, visitor_key=key, name=info.name, address=info.address,
                           birth_date=info.birth_date, sex=info.sex, card_holder=is_holder, checked_in_at=now,
                           care_needs=json.dumps(sorted(own_needs), ensure_ascii=False),
                           pets=request.pets if is_holder else 0, recorded_by=principal.subject[:128])
        session.add(stay)
        stays.append(stay)
    await session.flush()
    for stay in stays:
        await audit.record(session, principal, f"visitor:{stay.id}", ["visitorStay", "basicInformation"],
                           f"visitor check-in at {shelter_id}", "written", subject_municipality=municipality,
                           subgraph=PLATFORM)
    await co_use.count_usage(session, PLATFORM, municipality, records=len(stays))
    publish_occupancy_changed(session, changed)
    return stays


async def _party(session: AsyncSession, shelter_id: str, party_id: str | None) -> str:
    """A new party, or an open one at this shelter that an adult companion joins with their own tap."""
    if party_id is None:
        return uuid.uuid4().hex
    party_id = check_id(party_id, "partyId")
    found = await session.execute(select(VisitorStay.id).where(
        VisitorStay.party_id == party_id, VisitorStay.shelter_id == shelter_id, VisitorStay.checked_out_at.is_(None)))
    if found.first() is None:
        raise NotFound("no party of that id is checked in at this shelter")
    return party_id


async def visitors_at(ctx: RequestContext, session: AsyncSession, shelter_id: str, *,
                      include_checked_out: bool = False) -> list[VisitorStay]:
    """The shelter's visitors, for staff of the shelter's municipality (`safety:read`); every row read is audited."""
    shelter_id = parse_shelter_id(shelter_id)
    municipality = shelter_municipality(shelter_id)
    principal = require_principal(ctx)
    if not ("staff" in principal.roles and principal.municipality == municipality
            and STAFF_READ in principal.scopes):
        raise Forbidden("visitor stays are open to staff of the shelter's municipality only")
    statement = select(VisitorStay).where(VisitorStay.shelter_id == shelter_id)
    if not include_checked_out:
        statement = statement.where(VisitorStay.checked_out_at.is_(None))
    rows = list((await session.execute(statement.order_by(
        VisitorStay.checked_in_at, VisitorStay.party_id, VisitorStay.card_holder.desc(), VisitorStay.birth_date))).scalars())
    for row in rows:
        await audit.record(session, principal, f"visitor:{row.id}", ["visitorStay", "basicInformation"],
                           f"shelter visitor list {shelter_id}", "permitted", subject_municipality=municipality,
                           subgraph=PLATFORM)
    return rows


async def close_shelter(ctx: RequestContext, session: AsyncSession, shelter_id: str) -> ShelterClosure:
    """The on-close step: everyone still checked in leaves ("closed") and the visitors' retention clock starts."""
    from .models import ShelterStay

    shelter_id = parse_shelter_id(shelter_id)
    municipality = shelter_municipality(shelter_id)
    principal = _require_shelter_desk(ctx, municipality, STAFF_WRITE)
    if "staff" not in principal.roles:
        raise Forbidden("closing a shelter's check-in is a staff decision")
    now = utc_now()
    for model in (VisitorStay, ShelterStay):
        rows = await session.execute(select(model).where(model.shelter_id == shelter_id,
                                                         model.checked_out_at.is_(None)))
        for stay in rows.scalars():
            stay.checked_out_at, stay.checkout_reason = now, "closed"
    closure = ShelterClosure(shelter_id=shelter_id, shelter_municipality=municipality, closed_at=now,
                             closed_by=principal.subject[:128])
    session.add(closure)
    await audit.record(session, principal, f"shelter:{shelter_id}", ["shelterStay", "visitorStay"],
                       f"shelter check-in closed {shelter_id}", "written", subject_municipality=municipality,
                       subgraph=PLATFORM)
    await session.flush()
    publish_occupancy_changed(session, [shelter_id])   # everyone still there checked out
    return closure
