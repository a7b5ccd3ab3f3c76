"""Non-resident shelter check-in: a visitor stay from the card's basic information (issue 11 item 3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, select

from subgraphs.common.audit import AuditRecord, verify_chain
from subgraphs.common.roster import STAFF, by_label, demo_card_serial
from subgraphs.identity.visitor_models import ShelterClosure, VisitorStay
from subgraphs.identity.visitor_retention import purge_expired, retention_from_env
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

SHELTER = "282103:0001"                      # 加古川市 (joined identity)
TAKA_SHELTER = "283657:0001"                 # 多可町 has joined nothing
READER = make_principal("device-kakogawa-shelter-reader", "282103", ("device",))
KAKOGAWA_SAFETY = next(s for s in STAFF if s.municipality_code == "282103" and "safety:write" in s.scopes)
KAKOGAWA_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282103" and "childcare:read" in s.scopes)
HIMEJI_STAFF = next(s for s in STAFF if s.municipality_code == "282014" and "identity:read" in s.scopes)
VISITOR_SERIAL = "0a1b2c3d4e5f6071"          # a card nobody linked in identity
HOLDER = {"name": "大西 聡", "address": "兵庫県明石市大久保町1丁目2番3号", "birthDate": "1980-06-01", "sex": 1}
SECOND_ADULT = {"name": "大西 由香", "address": HOLDER["address"], "birthDate": "1982-02-02", "sex": 2}
CHILD = {"name": "大西 陸", "birthDate": "2022-03-03", "sex": 1}

CHECK_IN = """mutation($i: VisitorCheckInInput!) { shelterVisitorCheckIn(input: $i) {
  id partyId name cardHolder careNeeds pets checkedOutAt } }"""
VISITORS = """query($s: ID!, $all: Boolean! = false) { shelterVisitors(shelterId: $s, includeCheckedOut: $all) {
  name address birthDate sex cardHolder checkoutReason } }"""
OCCUPANCY = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Shelter { occupancy { persons households personsWithCareNeeds pets } } } }"""
CLOSE = 'mutation($s: ID!) { closeShelterCheckIn(shelterId: $s) { shelterId closedAt } }'


def _input(**extra) -> dict:
    return {"i": {"shelterId": SHELTER, "certificateSerial": VISITOR_SERIAL, "holder": HOLDER, **extra}}


async def _occupancy(call) -> dict:  # noqa: ANN001
    body = await call(OCCUPANCY, {"r": [{"__typename": "Shelter", "id": SHELTER}]})
    return body["data"]["_entities"][0]["occupancy"]


async def test_visitor_with_a_child_is_counted_and_seen_only_by_the_shelters_staff(call, identity_db):
    body = await call(CHECK_IN, _input(children=[CHILD], pets=1, careNeeds=["妊産婦"]), principal=READER)
    stays = body["data"]["shelterVisitorCheckIn"]
    assert [(s["name"], s["cardHolder"], s["careNeeds"], s["pets"]) for s in stays] == [
        ("大西 聡", True, ["妊産婦"], 1), ("大西 陸", False, ["乳幼児"], 0)]
    assert len({s["partyId"] for s in stays}) == 1
    # a resident household checks in too: occupancy counts both
    await call("""mutation($s: String!) { shelterCheckIn(input: {shelterId: "282103:0001", certificateSerial: $s})
               { residentId } }""", {"s": demo_card_serial(by_label("kakogawa-2/kazuko").id)}, principal=READER)
    assert await _occupancy(call) == {"persons": 3, "households": 2, "personsWithCareNeeds": 3, "pets": 1}

    seen = await call(VISITORS, {"s": SHELTER}, principal=staff_principal(KAKOGAWA_SAFETY))
    assert seen["data"]["shelterVisitors"] == [
        {"name": "大西 聡", "address": HOLDER["address"], "birthDate": "1980-06-01", "sex": 1, "cardHolder": True,
         "checkoutReason": None},
        {"name": "大西 陸", "address": HOLDER["address"], "birthDate": "2022-03-03", "sex": 1, "cardHolder": False,
         "checkoutReason": None}]
    for outsider in (staff_principal(HIMEJI_STAFF), staff_principal(KAKOGAWA_CHILDCARE), READER,
                     resident_principal(by_label("kakogawa-1/makoto")), None):
        refused = await call(VISITORS, {"s": SHELTER}, principal=outsider)
        assert refused["data"] is None and "大西" not in str(refused)
        assert refused["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
    async with identity_db.sessions() as session:
        records = (await session.execute(select(AuditRecord).where(AuditRecord.subject.like("visitor:%")))).scalars().all()
        assert await verify_chain(session) == []
    assert sorted(r.result for r in records) == ["permitted", "permitted", "written", "written"]


async def test_no_card_serial_and_no_my_number_is_stored(call, identity_db):
    await call(CHECK_IN, _input(), principal=READER)
    columns = {c.name for c in inspect(VisitorStay).columns}
    assert not {c for c in columns if "serial" in c or "number" in c}
    async with identity_db.sessions() as session:
        row = (await session.execute(select(VisitorStay))).scalar_one()
    assert VISITOR_SERIAL not in " ".join(str(getattr(row, c)) for c in columns)
    for spelling in ("1234-5678-9018", "１２３４ ５６７８ ９０１８", "123456789018"):
        body = await call(CHECK_IN, _input(holder={**HOLDER, "address": f"加古川市 {spelling}"}), principal=READER)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", spelling


async def test_adult_companions_confirm_with_their_own_tap(call):
    adult_as_child = {"name": SECOND_ADULT["name"], "birthDate": SECOND_ADULT["birthDate"], "sex": 2}
    listed = await call(CHECK_IN, _input(children=[adult_as_child]), principal=READER)
    assert listed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "own card tap" in listed["errors"][0]["message"]
    first = (await call(CHECK_IN, _input(), principal=READER))["data"]["shelterVisitorCheckIn"][0]
    joined = await call(CHECK_IN, {"i": {"shelterId": SHELTER, "certificateSerial": "77aa88bb99cc0011",
                                         "holder": SECOND_ADULT, "partyId": first["partyId"]}}, principal=READER)
    assert joined["data"]["shelterVisitorCheckIn"][0]["partyId"] == first["partyId"]
    assert await _occupancy(call) == {"persons": 2, "households": 1, "personsWithCareNeeds": 0, "pets": 0}
    unknown = await call(CHECK_IN, _input(partyId="no-such-party"), principal=READER)
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_resident_companions_must_share_the_registered_household(call):
    """Finding 5 for residents: another household's adult cannot be checked in by someone else's tap."""
    body = await call("""mutation($s: String!, $c: [ID!]!) { shelterCheckIn(input: {shelterId: "282103:0001",
                      certificateSerial: $s, companionIds: $c}) { residentId } }""",
                      {"s": demo_card_serial(by_label("kakogawa-1/makoto").id), "c": [by_label("kakogawa-2/kazuko").id]},
                      principal=READER)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_tapping_again_changes_nothing_and_refusals(call, identity_db):
    await call(CHECK_IN, _input(), principal=READER)
    await call(CHECK_IN, _input(), principal=READER)
    assert (await _occupancy(call))["persons"] == 1
    cases = [
        (_input(), make_principal("device-himeji", "282014", ("device",)), "FORBIDDEN"),     # another city's reader
        (_input(), resident_principal(by_label("kakogawa-1/makoto")), "FORBIDDEN"),
        (_input(), None, "UNAUTHENTICATED"),
        ({"i": {**_input()["i"], "shelterId": TAKA_SHELTER}},
         make_principal("device-taka", "283657", ("device",)), "PLATFORM_NOT_JOINED"),
        ({"i": {**_input()["i"], "certificateSerial": demo_card_serial(by_label("himeji-1/taro").id)}},
         READER, "CONFLICT"),                                                                  # a linked card
        (_input(holder={**HOLDER, "sex": 3}), READER, "BAD_USER_INPUT"),
        (_input(holder={**HOLDER, "birthDate": "2999-01-01"}), READER, "BAD_USER_INPUT"),
        (_input(holder={**HOLDER, "name": " "}), READER, "BAD_USER_INPUT"),
    ]
    for variables, principal, code in cases:
        body = await call(CHECK_IN, variables, principal=principal)
        assert body["errors"][0]["extensions"]["code"] == code, (variables, principal)
    async with identity_db.sessions() as session:
        assert len((await session.execute(select(VisitorStay))).scalars().all()) == 1   # nothing half-written


async def test_staff_check_in_and_close_then_retention_deletes(call, identity_db):
    staff = staff_principal(KAKOGAWA_SAFETY)
    await call(CHECK_IN, _input(children=[CHILD]), principal=staff)
    assert (await call(CLOSE, {"s": SHELTER}, principal=READER))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    closed = await call(CLOSE, {"s": SHELTER}, principal=staff)
    assert closed["data"]["closeShelterCheckIn"]["shelterId"] == SHELTER
    assert (await _occupancy(call))["persons"] == 0
    history = await call(VISITORS, {"s": SHELTER, "all": True}, principal=staff)
    assert {v["checkoutReason"] for v in history["data"]["shelterVisitors"]} == {"closed"}

    retention = timedelta(days=30)
    async with identity_db.transaction() as session:
        closed_at = (await session.execute(select(ShelterClosure))).scalar_one().closed_at
        closed_at = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=timezone.utc)
        early = await purge_expired(session, retention, now=closed_at + retention - timedelta(minutes=1))
    assert early.deleted == 0
    async with identity_db.transaction() as session:
        late = await purge_expired(session, retention, now=closed_at + retention + timedelta(minutes=1))
    assert late.deleted == 2
    async with identity_db.sessions() as session:
        assert (await session.execute(select(VisitorStay))).scalars().all() == []
        last = (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()
        assert await verify_chain(session) == []
    assert last.result == "deleted" and "大西" not in last.purpose


async def test_a_shelter_still_open_keeps_its_visitors(call, identity_db):
    await call(CHECK_IN, _input(), principal=READER)
    async with identity_db.transaction() as session:
        result = await purge_expired(session, timedelta(0), now=datetime.now(timezone.utc) + timedelta(days=400))
    assert result.deleted == 0


def test_retention_setting_is_checked():
    assert retention_from_env({}) == timedelta(days=30)
    assert retention_from_env({"KYODO_VISITOR_RETENTION_DAYS": "7"}) == timedelta(days=7)
    for bad in ("x", "-1", "99999"):
        try:
            retention_from_env({"KYODO_VISITOR_RETENTION_DAYS": bad})
        except ValueError as error:
            assert "KYODO_VISITOR_RETENTION_DAYS" in str(error)
        else:
            raise AssertionError(bad)
