from __future__ import annotations

from subgraphs.common.municipality import KAKOGAWA, KASAI, NISHIWAKI


async def test_open_data_is_readable_with_no_context(post):
    body = await post("""{
      shelters(municipalityCode: "28210") { id name isOpen capacity evacuees vacancy remainingPlaces
        hazards { flood earthquake designated } }
      evacuationSpaces(municipalityCode: "282103", hazard: FLOOD) { id hazards { flood } capacity }
      aeds(municipalityCode: "282103") { id startTime endTime pediatric }
      floodSensors(municipalityCode: "282103") { id wet health }
      riverGauges { stationName riverName thresholds { standby danger } latest { level stage alertLevel } alertLevel }
    }""")
    assert "errors" not in body, body
    data = body["data"]
    assert len(data["shelters"]) == 10 and all(s["id"].startswith(f"{KAKOGAWA}:") for s in data["shelters"])
    open_ones = [s for s in data["shelters"] if s["isOpen"]]
    assert {s["vacancy"] for s in open_ones} <= {"AVAILABLE", "CROWDED", "FULL"} and open_ones
    assert all(s["vacancy"] == "CLOSED" and s["remainingPlaces"] is None for s in data["shelters"] if not s["isOpen"])
    assert data["evacuationSpaces"] and all(e["hazards"]["flood"] for e in data["evacuationSpaces"])
    assert len(data["floodSensors"]) == 20
    stations = {g["stationName"]: g for g in data["riverGauges"]}
    assert set(stations) == {"国包", "板波"}
    assert stations["国包"]["latest"] == {"level": 4.2, "stage": "CAUTION", "alertLevel": 2}
    assert stations["板波"]["alertLevel"] is None and stations["板波"]["latest"]["stage"] == "NORMAL"


async def test_flood_sensors_per_basin_municipality(post):
    body = await post("""{ kakogawaBasin { code inKakogawaBasin safetyJoined floodSensors { id } }
                          kasai: floodSensors(municipalityCode: "282201") { id }
                          nishiwaki: floodSensors(municipalityCode: "%s") { id municipalityCode } }""" % NISHIWAKI)
    assert "errors" not in body, body
    basin = body["data"]["kakogawaBasin"]
    assert {m["code"] for m in basin} == {"282103", "282197", "282138", "282189", "282286", "283827"}
    assert all(m["inKakogawaBasin"] and m["safetyJoined"] and m["floodSensors"] for m in basin)
    assert KASAI not in {m["code"] for m in basin} and body["data"]["kasai"] == []
    assert {s["municipalityCode"] for s in body["data"]["nishiwaki"]} == {NISHIWAKI}


async def test_entities_resolve_by_id(post):
    body = await post("""query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Shelter { id name vacancy } ... on Aed { id name } ... on EvacuationSpace { id }
        ... on RiverGauge { stationName } ... on Municipality { code inKakogawaBasin } } }""",
                      {"r": [{"__typename": "Shelter", "id": f"{KAKOGAWA}:S001"},
                             {"__typename": "Aed", "id": f"{KAKOGAWA}:A002"},
                             {"__typename": "Shelter", "id": f"{KAKOGAWA}:S999"},
                             {"__typename": "RiverGauge", "id": f"{KAKOGAWA}:KUNIKANE"},
                             {"__typename": "Municipality", "code": KASAI}]})
    # an unknown shelter is null with a NOT_FOUND naming it (what the gateway shows the client), nothing else fails
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["_entities", 2], {"code": "NOT_FOUND", "id": f"{KAKOGAWA}:S999"})], body
    assert f"{KAKOGAWA}:S999" in body["errors"][0]["message"]
    shelter, aed, missing, gauge, municipality = body["data"]["_entities"]
    assert shelter["id"] == f"{KAKOGAWA}:S001" and shelter["vacancy"] == "AVAILABLE"
    assert aed["id"] == f"{KAKOGAWA}:A002"
    assert missing is None
    assert gauge == {"stationName": "国包"}
    assert municipality == {"code": KASAI, "inKakogawaBasin": False}


async def test_bad_municipality_code_is_a_coded_error(post):
    body = await post('{ floodSensors(municipalityCode: "282104") { id } }')
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await post('{ shelters(limit: 0) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_many_entity_references_are_one_query_per_type(seeded_db, make_post):
    from sqlalchemy import event

    statements: list[str] = []

    def remember(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        if "safety_shelter" in statement:
            statements.append(statement)

    event.listen(seeded_db.engine.sync_engine, "before_cursor_execute", remember)
    try:
        post = make_post(seeded_db)
        ids = [f"{KAKOGAWA}:S{n:03d}" for n in range(1, 11)]
        body = await post("query($r: [_Any!]!) { _entities(representations: $r) { ... on Shelter { id } } }",
                          {"r": [{"__typename": "Shelter", "id": i} for i in ids]})
    finally:
        event.remove(seeded_db.engine.sync_engine, "before_cursor_execute", remember)
    assert [e["id"] for e in body["data"]["_entities"]] == ids
    assert len(statements) == 1
