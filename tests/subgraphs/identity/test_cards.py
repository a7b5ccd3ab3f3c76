"""Card links keep only hash_serial of the certificate serial; renewal re-links; tap sign-in levels."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from auth.card_serial import hash_serial
from subgraphs.common.roster import STAFF, by_label, demo_card_serial
from subgraphs.identity.models import CardLink, SignIn
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

LINK = "mutation($r: ID!, $s: String!) { linkCard(residentId: $r, certificateSerial: $s) { active linkedAt } }"
TAP = "mutation($s: String!, $pin: Boolean!) { cardTapSignIn(certificateSerial: $s, pinVerified: $pin) { residentId method level } }"
YABU_STAFF = next(s for s in STAFF if s.municipality_code == "282227" and "identity:write" in s.scopes)
OSAMU = by_label("yabu-1/osamu")
READER = make_principal("device-yabu-counter-1", "282227", ("device",))


async def _all_text(database) -> str:  # noqa: ANN001
    """Every value stored in identity's card, sign-in and audit tables, as one string."""
    async with database.sessions() as session:
        chunks = []
        for table in ("identity_card_link", "identity_sign_in", "audit_record"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            chunks.append(repr(rows))
    return "\n".join(chunks)


async def test_renewal_relinks_and_the_raw_serial_is_never_stored(call, identity_db):
    renewed = "0A:1B:2C:3D:4E:5F:60:71"
    body = await call(LINK, {"r": OSAMU.id, "s": renewed}, principal=staff_principal(YABU_STAFF))
    assert body["data"]["linkCard"]["active"] is True, body
    async with identity_db.sessions() as session:
        links = (await session.execute(select(CardLink).where(CardLink.resident_id == OSAMU.id)
                                       .order_by(CardLink.id))).scalars().all()
    assert [(l.revoked_reason, l.revoked_at is None) for l in links] == [("renewed", False), (None, True)]
    assert links[1].serial_hash == hash_serial(renewed)
    stored = await _all_text(identity_db)
    for form in (renewed, "0a1b2c3d4e5f6071", "0a:1b:2c:3d:4e:5f:60:71", demo_card_serial(OSAMU.id)):
        assert form not in stored
    # the old card no longer signs in, the new one does
    old = await call(TAP, {"s": demo_card_serial(OSAMU.id), "pin": False}, principal=READER)
    assert old["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    new = await call(TAP, {"s": renewed, "pin": True}, principal=READER)
    assert new["data"]["cardTapSignIn"] == {"residentId": OSAMU.id, "method": "card-pin", "level": 2}


async def test_tap_without_pin_is_the_lower_assurance_level(call, identity_db):
    body = await call(TAP, {"s": demo_card_serial(OSAMU.id), "pin": False}, principal=READER)
    assert body["data"]["cardTapSignIn"] == {"residentId": OSAMU.id, "method": "card-tap", "level": 1}
    async with identity_db.sessions() as session:
        sign_ins = (await session.execute(select(SignIn))).scalars().all()
    assert [(s.resident_id, s.level, s.terminal) for s in sign_ins] == [(OSAMU.id, 1, READER.subject)]


async def test_only_card_readers_report_taps(call):
    for principal in (resident_principal(OSAMU), staff_principal(YABU_STAFF), None):
        body = await call(TAP, {"s": demo_card_serial(OSAMU.id), "pin": True}, principal=principal)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}


async def test_self_link_needs_pin_assurance_and_others_are_refused(call, identity_db):
    tap_only = make_principal(OSAMU.id, "282227", ("resident",), assurance="card-tap")
    body = await call(LINK, {"r": OSAMU.id, "s": "abcdef0123"}, principal=tap_only)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    neighbour = resident_principal(by_label("yabu-2/chiyo"))
    body = await call(LINK, {"r": OSAMU.id, "s": "abcdef0123"}, principal=neighbour)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    read_only = staff_principal(next(s for s in STAFF if s.municipality_code == "282014" and "identity:read" in s.scopes))
    body = await call(LINK, {"r": by_label("himeji-1/taro").id, "s": "abcdef0123"}, principal=read_only)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await call(LINK, {"r": OSAMU.id, "s": "abcdef0123"}, principal=resident_principal(OSAMU))
    assert body["data"]["linkCard"]["active"] is True


async def test_bad_serials_and_my_numbers_are_refused_and_nothing_changes(call, identity_db):
    async with identity_db.sessions() as session:
        before = (await session.execute(select(CardLink.id, CardLink.serial_hash, CardLink.revoked_at))).all()
    for serial in ("not-hex!", "", "1234 5678 9012", "f" * 300):
        body = await call(LINK, {"r": OSAMU.id, "s": serial}, principal=staff_principal(YABU_STAFF))
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", serial
        assert "Traceback" not in str(body)
    # a card already linked to someone else cannot be taken over
    other = demo_card_serial(by_label("yabu-1/naomi").id)
    body = await call(LINK, {"r": OSAMU.id, "s": other}, principal=staff_principal(YABU_STAFF))
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    async with identity_db.sessions() as session:
        after = (await session.execute(select(CardLink.id, CardLink.serial_hash, CardLink.revoked_at))).all()
    assert after == before


@pytest.mark.parametrize("spelling", [
    "1234:5678:9018", "0x123456789018", "1234_5678_9018", "0123456789018", "12:34:56:78:90:18",  # the issue's
    "１２３４５６７８９０１８", "1234 5678 9018", "1234ー5678ー9018", "0X1234.5678.9018", "99123456789018",
])
async def test_link_card_refuses_a_my_number_in_any_spelling(call, identity_db, spelling):
    before = await _all_text(identity_db)
    body = await call(LINK, {"r": OSAMU.id, "s": spelling}, principal=staff_principal(YABU_STAFF))
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "certificateSerial",
                                               "reason": "MY_NUMBER_REFUSED"}
    assert await _all_text(identity_db) == before     # nothing stored, not even a hash
    tap = await call(TAP, {"s": spelling, "pin": False}, principal=READER)
    assert tap["errors"][0]["extensions"]["reason"] == "MY_NUMBER_REFUSED"


CHECK_IN = "mutation($i: ShelterCheckInInput!) { shelterCheckIn(input: $i) { residentId } }"


async def test_a_card_serial_is_no_existence_oracle(call):
    """Issue 10, finding 6: a caller who is not a card reader gets one refusal for an unknown card and for a
    card linked to someone else; only the reader learns that a card is not linked."""
    prober = resident_principal(by_label("himeji-2/takeshi"))
    linked = await call(CHECK_IN, {"i": {"shelterId": "282103:0001", "certificateSerial": demo_card_serial(OSAMU.id)}},
                        principal=prober)
    unknown = await call(CHECK_IN, {"i": {"shelterId": "282103:0001", "certificateSerial": "ffff0000ffffabcd"}},
                         principal=prober)
    assert [(e["message"], e["extensions"]) for e in linked["errors"]] == \
        [(e["message"], e["extensions"]) for e in unknown["errors"]]
    assert linked["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reader = await call(CHECK_IN, {"i": {"shelterId": "282103:0001", "certificateSerial": "ffff0000ffffabcd"}},
                        principal=READER)
    assert reader["errors"][0]["extensions"]["code"] == "NOT_FOUND"
