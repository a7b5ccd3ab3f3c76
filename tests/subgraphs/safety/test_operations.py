"""Staff and device mutations: permissions, bad input, and that a refused or invalid call changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from subgraphs.common.co_use import Usage
from subgraphs.common.roster import STAFF, by_label
from subgraphs.safety.models import FloodSensor, RiverGauge, RiverObservation, Shelter
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

KAKOGAWA_STAFF = staff_principal(next(s for s in STAFF if "safety:write" in s.scopes))
READ_ONLY_TAKA_STAFF = staff_principal(next(s for s in STAFF if s.municipality_code == "283657"))
OTHER_CITY_WRITER = make_principal("s-ono-test", "282189", ("staff",), ("safety:read", "safety:write"))
CLOSED_SHELTER, OPEN_SHELTER = "282103:S003", "282103:S001"  # seed: S001, S002, S008 of 加古川市 are open
KUNIKANE = "282103:KUNIKANE"


async def _snapshot(database, model, key: str):  # noqa: ANN001, ANN202
    async with database.transaction() as session:
        row = await session.get(model, key)
        return row.model_dump()


async def test_staff_open_count_and_close_a_shelter(post, seeded_db):
    opened = await post(f'mutation {{ openShelter(id: "{CLOSED_SHELTER}") {{ isOpen openedAt vacancy evacuees }} }}',
                        principal=KAKOGAWA_STAFF)
    assert "errors" not in opened, opened
    assert opened["data"]["openShelter"]["isOpen"] is True and opened["data"]["openShelter"]["vacancy"] == "AVAILABLE"
    capacity = (await _snapshot(seeded_db, Shelter, CLOSED_SHELTER))["capacity"]
    counted = await post(f"""mutation {{ updateShelterCounts(id: "{CLOSED_SHELTER}", evacuees: {capacity},
                             households: 40, specialCare: 3) {{ vacancy remainingPlaces evacuees }} }}""",
                         principal=KAKOGAWA_STAFF)
    assert counted["data"]["updateShelterCounts"] == {"vacancy": "FULL", "remainingPlaces": 0, "evacuees": capacity}
    closed = await post(f'mutation {{ closeShelter(id: "{CLOSED_SHELTER}") {{ isOpen closedAt vacancy }} }}',
                        principal=KAKOGAWA_STAFF)
    assert closed["data"]["closeShelter"]["isOpen"] is False and closed["data"]["closeShelter"]["closedAt"]
    assert closed["data"]["closeShelter"]["vacancy"] == "CLOSED"
    async with seeded_db.transaction() as session:
        usage = (await session.execute(select(func.sum(Usage.requests)).where(
            Usage.platform == "safety", Usage.municipality_code == "282103"))).scalar_one()
    assert usage == 1  # co-use: counted per distinct principal and day (three operations by one staff member)


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (None, "UNAUTHENTICATED"),
        (resident_principal(by_label("kakogawa-1/makoto")), "FORBIDDEN"),
        (READ_ONLY_TAKA_STAFF, "FORBIDDEN"),
        (OTHER_CITY_WRITER, "FORBIDDEN"),  # staff of 小野市 cannot open 加古川市's shelter
        (make_principal("v-1", "282103", ("vendor",), ("safety:write",)), "FORBIDDEN"),
    ],
)
async def test_shelter_operations_are_refused_to_others_and_change_nothing(post, seeded_db, principal, code):
    before = await _snapshot(seeded_db, Shelter, CLOSED_SHELTER)
    body = await post(f'mutation {{ openShelter(id: "{CLOSED_SHELTER}") {{ isOpen }} }}', principal=principal)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code
    assert await _snapshot(seeded_db, Shelter, CLOSED_SHELTER) == before


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        (f'openShelter(id: "{OPEN_SHELTER}") {{ isOpen }}', "CONFLICT"),
        ('openShelter(id: "282103:S999") { isOpen }', "NOT_FOUND"),
        (f'openShelter(id: "{CLOSED_SHELTER}", at: "2099-01-01T00:00:00+09:00") {{ isOpen }}', "BAD_USER_INPUT"),
        (f'closeShelter(id: "{CLOSED_SHELTER}") {{ isOpen }}', "CONFLICT"),
        (f'closeShelter(id: "{OPEN_SHELTER}", at: "2001-01-01T00:00:00+09:00") {{ isOpen }}', "BAD_USER_INPUT"),
        (f'updateShelterCounts(id: "{OPEN_SHELTER}", evacuees: -1) {{ evacuees }}', "BAD_USER_INPUT"),
        (f'updateShelterCounts(id: "{OPEN_SHELTER}", evacuees: 5, households: 6) {{ evacuees }}', "BAD_USER_INPUT"),
        (f'updateShelterCounts(id: "{CLOSED_SHELTER}", evacuees: 5) {{ evacuees }}', "CONFLICT"),
    ],
)
async def test_bad_shelter_input_is_coded_and_changes_nothing(post, seeded_db, mutation, code):
    before = [await _snapshot(seeded_db, Shelter, key) for key in (OPEN_SHELTER, CLOSED_SHELTER)]
    body = await post(f"mutation {{ {mutation} }}", principal=KAKOGAWA_STAFF)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code
    assert [await _snapshot(seeded_db, Shelter, key) for key in (OPEN_SHELTER, CLOSED_SHELTER)] == before


SET_THRESHOLDS = """mutation($s: Float!, $c: Float!, $e: Float!, $d: Float!) {
  setRiverThresholds(gaugeId: "%s", standby: $s, caution: $c, evacuationDecision: $e, danger: $d) {
    thresholds { standby caution evacuationDecision danger } latest { level stage } alertLevel } }""" % KUNIKANE


async def test_thresholds_are_validated_in_rising_order(post, seeded_db):
    before = await _snapshot(seeded_db, RiverGauge, KUNIKANE)
    for values in ({"s": 3.0, "c": 3.0, "e": 5.0, "d": 6.0}, {"s": 3.0, "c": 4.0, "e": 6.5, "d": 6.0},
                   {"s": 5.0, "c": 4.0, "e": 3.0, "d": 2.0}):
        body = await post(SET_THRESHOLDS, values, principal=KAKOGAWA_STAFF)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await _snapshot(seeded_db, RiverGauge, KUNIKANE) == before
    # the seed's latest level at 国包 is 4.2 m; lowering 避難判断水位 below it raises the derived level
    body = await post(SET_THRESHOLDS, {"s": 2.0, "c": 3.0, "e": 4.0, "d": 5.0}, principal=KAKOGAWA_STAFF)
    assert "errors" not in body, body
    gauge = body["data"]["setRiverThresholds"]
    assert gauge["thresholds"] == {"standby": 2.0, "caution": 3.0, "evacuationDecision": 4.0, "danger": 5.0}
    assert gauge["latest"] == {"level": 4.2, "stage": "EVACUATION_DECISION"} and gauge["alertLevel"] == 3


RECORD = """mutation($level: Float!, $at: DateTime, $flooding: Boolean! = false) {
  recordRiverObservation(gaugeId: "%s", level: $level, observedAt: $at, floodingObserved: $flooding) {
    latest { level stage alertLevel } alertLevel } }""" % KUNIKANE


@pytest.mark.parametrize(
    ("level", "flooding", "stage", "alert"),
    [(1.0, False, "NORMAL", None), (3.5, False, "STANDBY", 1), (5.8, False, "DANGER", 4), (2.0, True, "FLOODING", 5)],
)
async def test_gauge_reports_derive_the_alert_level(post, level, flooding, stage, alert):
    device = make_principal(KUNIKANE, "282103", ("device",))
    body = await post(RECORD, {"level": level, "flooding": flooding}, principal=device)
    assert "errors" not in body, body
    assert body["data"]["recordRiverObservation"]["latest"] == {"level": level, "stage": stage, "alertLevel": alert}


async def test_gauge_reports_refuse_other_devices_and_bad_values(post, seeded_db):
    async def count() -> int:
        async with seeded_db.transaction() as session:
            return (await session.execute(select(func.count()).select_from(RiverObservation))).scalar_one()

    before = await count()
    other_device = make_principal("282138:ITANAMI", "282138", ("device",))
    refused = await post(RECORD, {"level": 9.9}, principal=other_device)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for variables in ({"level": 1000.0}, {"level": 1.0, "at": "2099-01-01T00:00:00Z"},
                      {"level": 1.0, "at": "2026-11-26T10:00:00"}):
        body = await post(RECORD, variables, principal=KAKOGAWA_STAFF)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    at = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    assert "errors" not in await post(RECORD, {"level": 1.0, "at": at}, principal=KAKOGAWA_STAFF)
    duplicate = await post(RECORD, {"level": 1.1, "at": at}, principal=KAKOGAWA_STAFF)
    assert duplicate["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await count() == before + 1


SENSOR = "282189:W011"  # a flood sensor of 小野市 in the seed
REPORT_SENSOR = """mutation($wet: Boolean!, $battery: Int, $rssi: Int, $at: DateTime) {
  reportFloodSensor(sensorId: "%s", wet: $wet, batteryPercent: $battery, rssiDbm: $rssi, reportedAt: $at) {
    wet batteryPercent health } }""" % SENSOR


async def test_sensor_reports_update_state_and_health(post, seeded_db):
    device = make_principal(SENSOR, "282189", ("device",))
    body = await post(REPORT_SENSOR, {"wet": True, "battery": 10, "rssi": -90}, principal=device)
    assert body["data"]["reportFloodSensor"] == {"wet": True, "batteryPercent": 10, "health": "LOW_BATTERY"}
    body = await post(REPORT_SENSOR, {"wet": False, "battery": 80, "rssi": -90}, principal=device)
    assert body["data"]["reportFloodSensor"] == {"wet": False, "batteryPercent": 80, "health": "OK"}
    # a buffered report older than the state we have does not overwrite it
    old = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    body = await post(REPORT_SENSOR, {"wet": True, "at": old}, principal=device)
    assert body["data"]["reportFloodSensor"]["wet"] is False
    listed = await post('{ floodSensors(municipalityCode: "282189", wetOnly: true) { id } }')
    assert SENSOR not in str(listed)


async def test_sensor_reports_refuse_strangers_and_bad_values(post, seeded_db):
    before = await _snapshot(seeded_db, FloodSensor, SENSOR)
    for principal, variables, code in (
        (None, {"wet": True}, "UNAUTHENTICATED"),
        (make_principal("282189:W012", "282189", ("device",)), {"wet": True}, "FORBIDDEN"),
        (KAKOGAWA_STAFF, {"wet": True}, "FORBIDDEN"),  # the sensor is 小野市's
        (make_principal(SENSOR, "282189", ("device",)), {"wet": True, "battery": 101}, "BAD_USER_INPUT"),
        (make_principal(SENSOR, "282189", ("device",)), {"wet": True, "rssi": 5}, "BAD_USER_INPUT"),
    ):
        body = await post(REPORT_SENSOR, variables, principal=principal)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code
    assert await _snapshot(seeded_db, FloodSensor, SENSOR) == before
    wrong_type = await post(REPORT_SENSOR, {"wet": "yes"})
    assert wrong_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cached_public_read_shows_a_write_of_this_process_at_once(post, seeded_db, monkeypatch):
    """Shelter lists are served from the short-lived public cache; a staff mutation clears it."""
    monkeypatch.setenv("KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS", "600")
    from subgraphs.common.public_cache import reset_shared_cache, shared_cache

    reset_shared_cache()
    query = '{ shelters(municipalityCode: "282103", limit: 50) { id isOpen } }'
    before = {s["id"]: s["isOpen"] for s in (await post(query))["data"]["shelters"]}
    assert before[CLOSED_SHELTER] is False
    await post(query)
    assert shared_cache().hits >= 1
    opened = await post(f'mutation {{ openShelter(id: "{CLOSED_SHELTER}") {{ isOpen }} }}', principal=KAKOGAWA_STAFF)
    assert opened["data"]["openShelter"]["isOpen"] is True
    after = {s["id"]: s["isOpen"] for s in (await post(query))["data"]["shelters"]}
    assert after[CLOSED_SHELTER] is True
