"""Id-taking fields: a malformed `"{code}:{localId}"` is BAD_USER_INPUT (and changes nothing); a well-formed id
safety does not hold answers null on the root queries and NOT_FOUND on the mutations."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from subgraphs.common.roster import STAFF
from subgraphs.safety.models import FloodSensor, RiverGauge, RiverObservation, Shelter
from tests.subgraphs.conftest import make_principal, staff_principal

KAKOGAWA_STAFF = staff_principal(next(s for s in STAFF if "safety:write" in s.scopes))
QUERY_FIELDS = ("shelter", "evacuationSpace", "aed", "floodSensor", "riverGauge")
MALFORMED = ["bad", "", "28210:S001", "282104:S001", "282103:", "282103:S:001", " 282103:S001"]


@pytest.mark.parametrize("field", QUERY_FIELDS)
@pytest.mark.parametrize("bad_id", MALFORMED)
async def test_malformed_ids_are_bad_user_input(post, field, bad_id):
    body = await post(f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": bad_id})
    assert body["data"] == {field: None}
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        ([field], {"code": "BAD_USER_INPUT", "field": "id"})], body
    assert "malformed facility id" in body["errors"][0]["message"]


@pytest.mark.parametrize("field", QUERY_FIELDS)
async def test_well_formed_unknown_ids_are_null_without_error(post, field):
    body = await post(f'{{ {field}(id: "282103:NOPE999") {{ id }} }}')
    assert body == {"data": {field: None}}


async def test_well_formed_known_ids_answer(post):
    body = await post('{ shelter(id: "282103:S001") { id } riverGauge(id: "282103:KUNIKANE") { id } '
                      'floodSensor(id: "282103:W011") { id } }')
    assert body == {"data": {"shelter": {"id": "282103:S001"}, "riverGauge": {"id": "282103:KUNIKANE"},
                             "floodSensor": {"id": "282103:W011"}}}


async def _state(database) -> tuple:  # noqa: ANN001
    async with database.sessions() as session:
        shelters = [(r.id, r.is_open, r.evacuees) for r in (await session.execute(
            select(Shelter).order_by(Shelter.id))).scalars()]
        gauges = [(r.id, r.standby_level) for r in (await session.execute(select(RiverGauge))).scalars()]
        sensors = [(r.id, r.wet, r.last_report_at) for r in (await session.execute(select(FloodSensor))).scalars()]
        observations = (await session.execute(select(func.count()).select_from(RiverObservation))).scalar_one()
    return shelters, gauges, sensors, observations


MUTATIONS = [
    ('openShelter(id: "%s") { id }', "id"),
    ('closeShelter(id: "%s") { id }', "id"),
    ('updateShelterCounts(id: "%s", evacuees: 3) { id }', "id"),
    ('setRiverThresholds(gaugeId: "%s", standby: 1, caution: 2, evacuationDecision: 3, danger: 4) { id }', "gaugeId"),
    ('recordRiverObservation(gaugeId: "%s", level: 1.0) { id }', "gaugeId"),
    ('reportFloodSensor(sensorId: "%s", wet: true) { id }', "sensorId"),
]


@pytest.mark.parametrize(("mutation", "field"), MUTATIONS)
async def test_mutations_refuse_malformed_ids_and_change_nothing(post, seeded_db, mutation, field):
    before = await _state(seeded_db)
    for principal in (KAKOGAWA_STAFF, make_principal("282103:W011", "282103", ("device",))):
        body = await post("mutation { %s }" % (mutation % "282103-S001"), principal=principal)
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, body
    unknown = await post("mutation { %s }" % (mutation % "282103:NOPE999"), principal=KAKOGAWA_STAFF)
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await _state(seeded_db) == before
