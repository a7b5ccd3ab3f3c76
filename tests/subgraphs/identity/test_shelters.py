"""Shelter check-in by card tap: households, care needs, auto-checkout elsewhere, live occupancy."""

from __future__ import annotations

from sqlalchemy import func, select

from subgraphs.common.roster import STAFF, by_label, demo_card_serial
from subgraphs.identity.models import ShelterStay
from tests.subgraphs.conftest import make_principal, resident_principal

CHECK_IN = """mutation($i: ShelterCheckInInput!) { shelterCheckIn(input: $i) {
  residentId shelter { id } careNeeds pets checkedOutAt } }"""
OCCUPANCY = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Shelter { id occupancy { persons households personsWithCareNeeds pets } } } }"""
SHELTER_A, SHELTER_B = "282103:0001", "282103:0002"
TARO, HANAKO, HARUTO = by_label("himeji-1/taro"), by_label("himeji-1/hanako"), by_label("himeji-1/haruto")
DEVICE = make_principal("device-kakogawa-shelter-reader", "282103", ("device",))


async def _occupancy(call, *shelters: str) -> list[dict]:  # noqa: ANN001
    body = await call(OCCUPANCY, {"r": [{"__typename": "Shelter", "id": s} for s in shelters]})
    return [e["occupancy"] for e in body["data"]["_entities"]]


async def test_household_check_in_then_auto_checkout_when_checking_in_elsewhere(call):
    body = await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id),
                                       "companionIds": [HANAKO.id, HARUTO.id], "pets": 1, "careNeeds": ["障害者"]}},
                      principal=DEVICE)
    stays = body["data"]["shelterCheckIn"]
    assert [(s["residentId"], s["shelter"]["id"], s["careNeeds"], s["pets"]) for s in stays] == [
        (TARO.id, SHELTER_A, ["障害者"], 1), (HANAKO.id, SHELTER_A, [], 0), (HARUTO.id, SHELTER_A, ["乳幼児"], 0)]
    assert await _occupancy(call, SHELTER_A, SHELTER_B) == [
        {"persons": 3, "households": 1, "personsWithCareNeeds": 2, "pets": 1},
        {"persons": 0, "households": 0, "personsWithCareNeeds": 0, "pets": 0}]
    # Hanako taps in at shelter B alone: she leaves A automatically
    await call(CHECK_IN, {"i": {"shelterId": SHELTER_B, "certificateSerial": demo_card_serial(HANAKO.id)}},
               principal=DEVICE)
    assert await _occupancy(call, SHELTER_A, SHELTER_B) == [
        {"persons": 2, "households": 1, "personsWithCareNeeds": 2, "pets": 1},
        {"persons": 1, "households": 1, "personsWithCareNeeds": 0, "pets": 0}]
    me = await call("{ me { currentShelterStay { shelter { id } } } }", principal=resident_principal(HANAKO))
    assert me["data"]["me"]["currentShelterStay"] == {"shelter": {"id": SHELTER_B}}


async def test_one_shelters_occupancy_is_the_batched_count(call, identity_db):
    """`shelters.occupancy` (one shelter) and `Shelter.occupancy` (batched over a request) count alike."""
    from subgraphs.identity.shelters import Occupancy, occupancy

    await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id),
                                "companionIds": [HARUTO.id], "pets": 2}}, principal=DEVICE)
    async with identity_db.sessions() as session:
        assert await occupancy(session, SHELTER_A) == Occupancy(2, 1, 1, 2)
        assert await occupancy(session, SHELTER_B) == Occupancy(0, 0, 0, 0)
    assert await _occupancy(call, SHELTER_A) == [{"persons": 2, "households": 1, "personsWithCareNeeds": 1, "pets": 2}]


async def test_tapping_again_at_the_same_shelter_changes_nothing(call, identity_db):
    variables = {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id)}}
    await call(CHECK_IN, variables, principal=DEVICE)
    await call(CHECK_IN, variables, principal=DEVICE)
    async with identity_db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ShelterStay))).scalar_one() == 1


async def test_check_out_closes_the_households_stays(call):
    await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id),
                                "companionIds": [HARUTO.id]}}, principal=DEVICE)
    body = await call('mutation($s: String!) { shelterCheckOut(shelterId: "282103:0001", certificateSerial: $s) '
                      '{ residentId checkoutReason } }', {"s": demo_card_serial(TARO.id)}, principal=DEVICE)
    assert sorted(body["data"]["shelterCheckOut"], key=lambda s: s["residentId"]) == sorted(
        [{"residentId": TARO.id, "checkoutReason": "left"}, {"residentId": HARUTO.id, "checkoutReason": "left"}],
        key=lambda s: s["residentId"])
    assert await _occupancy(call, SHELTER_A) == [{"persons": 0, "households": 0, "personsWithCareNeeds": 0, "pets": 0}]


async def test_bad_check_in_input_is_refused_and_nothing_is_stored(call, identity_db):
    serial = demo_card_serial(TARO.id)
    cases = [
        ({"shelterId": "no-colon", "certificateSerial": serial}, "BAD_USER_INPUT"),
        ({"shelterId": "28210x:1", "certificateSerial": serial}, "BAD_USER_INPUT"),
        ({"shelterId": "282104:1", "certificateSerial": serial}, "BAD_USER_INPUT"),   # wrong check digit
        ({"shelterId": SHELTER_A, "certificateSerial": serial, "pets": -1}, "BAD_USER_INPUT"),
        ({"shelterId": SHELTER_A, "certificateSerial": serial, "careNeeds": ["VIP"]}, "BAD_USER_INPUT"),
        ({"shelterId": SHELTER_A, "certificateSerial": serial,
          "companionIds": [by_label("himeji-2/ren").id]}, "BAD_USER_INPUT"),           # not in the household
        ({"shelterId": SHELTER_A, "certificateSerial": "ffff0000ffff"}, "NOT_FOUND"),  # unlinked card
    ]
    for variables, code in cases:
        body = await call(CHECK_IN, {"i": variables}, principal=DEVICE)
        assert body["errors"][0]["extensions"]["code"] == code, (variables, body)
    body = await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": serial}})   # no context
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    taka_card = demo_card_serial(by_label("taka-1/kenichi").id)                       # 多可町: not joined
    body = await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": taka_card}}, principal=DEVICE)
    assert body["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"
    async with identity_db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ShelterStay))).scalar_one() == 0


async def test_staff_of_another_city_cannot_check_someone_in(call):
    kakogawa_staff = next(s for s in STAFF if s.municipality_code == "282103")
    principal = make_principal(kakogawa_staff.id, "282103", ("staff",), ("identity:write",))
    body = await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id)}},
                      principal=principal)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# Not "{6-digit code with check digit}:{localId}": the 5-digit form, spaces, a second ':', empty parts...
MALFORMED_SHELTER_IDS = ["bad", "", ":0001", "282103:", "28210:0001", "282104:0001", "2821O3:0001", "２８２１０３:0001",
                         " 282103:0001", "282103:0001 ", "282103: 0001", "282103:00:01", "282103:00\n01",
                         "282103:" + "x" * 73]


async def test_malformed_shelter_ids_are_refused_and_change_nothing(call, identity_db):
    """Also when the card holder has an open stay elsewhere: the refusal comes before any auto-checkout."""
    serial = demo_card_serial(TARO.id)
    await call(CHECK_IN, {"i": {"shelterId": SHELTER_A, "certificateSerial": serial}}, principal=DEVICE)
    async with identity_db.sessions() as session:
        before = [(r.id, r.shelter_id, r.checked_out_at) for r in (await session.execute(select(ShelterStay))).scalars()]
    for bad in MALFORMED_SHELTER_IDS:
        body = await call(CHECK_IN, {"i": {"shelterId": bad, "certificateSerial": serial}}, principal=DEVICE)
        assert body["data"] is None, (bad, body)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "shelterId"}, (bad, body)
        out = await call('mutation($id: ID!, $s: String!) { shelterCheckOut(shelterId: $id, certificateSerial: $s) '
                         '{ residentId } }', {"id": bad, "s": serial}, principal=DEVICE)
        assert out["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "shelterId"}, (bad, out)
    async with identity_db.sessions() as session:
        after = [(r.id, r.shelter_id, r.checked_out_at) for r in (await session.execute(select(ShelterStay))).scalars()]
    assert after == before and len(before) == 1


async def test_a_well_formed_shelter_id_is_recorded_as_given(call):
    """identity cannot see safety's data: a well-formed id it has never heard of is recorded (and shown) as is."""
    body = await call(CHECK_IN, {"i": {"shelterId": "282103:UNKNOWN-7", "certificateSerial": demo_card_serial(TARO.id)}},
                      principal=DEVICE)
    assert "errors" not in body, body
    me = await call("{ me { currentShelterStay { shelterId shelter { id } } } }", principal=resident_principal(TARO))
    assert me["data"]["me"]["currentShelterStay"] == {"shelterId": "282103:UNKNOWN-7",
                                                      "shelter": {"id": "282103:UNKNOWN-7"}}


async def test_occupancy_of_a_malformed_shelter_reference_is_bad_user_input(call):
    body = await call(OCCUPANCY, {"r": [{"__typename": "Shelter", "id": SHELTER_A},
                                        {"__typename": "Shelter", "id": "28210:0001"}]})
    assert body["data"]["_entities"][0]["id"] == SHELTER_A and body["data"]["_entities"][1] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["_entities", 1], "BAD_USER_INPUT")]
