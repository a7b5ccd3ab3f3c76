"""childcare over GraphQL: a guardian's children with next-due doses, and who may see them (要配慮個人情報)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth.gateway_keys import generate_signing_key
from subgraphs.childcare.clock import today_in_japan
from subgraphs.childcare.models import Child as ChildRow
from subgraphs.childcare.models import VaccinationRecord
from subgraphs.childcare.schedule import load_schedule
from subgraphs.childcare.seed import diligent_doses, SEED_DAY
from subgraphs.childcare.vaccination import next_due_doses
from subgraphs.common.audit import AuditRecord, verify_chain
from subgraphs.common.roster import STAFF, by_label
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

HANAKO = by_label("himeji-1/hanako")        # guardian of haruto and yui (姫路市)
HARUTO = by_label("himeji-1/haruto")        # born 2026-08-20
YUI = by_label("himeji-1/yui")              # born 2024-06-15
HIMEJI_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282014" and "childcare:write" in s.scopes)
KAKOGAWA_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282103" and "childcare:read" in s.scopes)
TAKA_STAFF = next(s for s in STAFF if s.municipality_code == "283657")

CHILDREN_QUERY = """query($id: ID!) { _entities(representations: [{__typename: "Resident", id: $id}]) {
  ... on Resident { children { id birthDate sex municipality { code }
    nextVaccinations(includeMissed: false) { vaccineCode doseNumber label earliest deadline status }
    checkups { code dueFrom dueUntil attendedOn status subsidyMaxYen } } } } }"""
CHILD_QUERY = "query($id: ID!) { child(id: $id) { id birthDate vaccinations { vaccineCode givenOn } } }"


async def last_audit(database) -> AuditRecord:
    async with database.sessions() as session:
        return (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()


async def test_guardian_sees_children_with_next_due_doses(call, childcare_db):
    body = await call(CHILDREN_QUERY, {"id": HANAKO.id}, principal=resident_principal(HANAKO))
    assert "errors" not in body, body
    children = body["data"]["_entities"][0]["children"]
    assert [c["id"] for c in children] == [YUI.id, HARUTO.id]          # oldest first
    assert [c["birthDate"] for c in children] == ["2024-06-15", "2026-08-20"]
    today = today_in_japan()
    schedule = load_schedule()
    for child, person in zip(children, (YUI, HARUTO)):
        given = diligent_doses(schedule, person, SEED_DAY)
        expected = [d for d in next_due_doses(schedule, person.birth_date, person.sex, given, today)
                    if d.status.value != "MISSED"]
        assert [(d["vaccineCode"], d["doseNumber"], d["earliest"], d["status"]) for d in child["nextVaccinations"]] \
            == [(d.vaccine_code, d.dose_number, d.earliest.isoformat(), d.status.value) for d in expected]
        assert child["municipality"] == {"code": "282014"}
        assert [c["code"] for c in child["checkups"]] == ["MONTH_1", "MONTH_4", "MONTH_10", "MONTH_18", "YEAR_3"]
    # haruto (born 2026-08-20) is past his 1-month checkup window by the seed day; attended a week in
    haruto_month1 = children[1]["checkups"][0]
    assert (haruto_month1["dueFrom"], haruto_month1["dueUntil"]) == ("2026-09-20", "2026-10-19")
    assert haruto_month1["subsidyMaxYen"] == 4000          # born after 2024-04-01: Himeji's 1-month subsidy
    record = await last_audit(childcare_db)
    assert (record.actor, record.result, record.subject_municipality) == (HANAKO.id, "permitted", "282014")
    assert "nextVaccinations" in record.fields


@pytest.mark.parametrize("who", ["guardian", "the child", "staff of the city"])
async def test_permitted_readers(call, childcare_db, who):
    principal = {"guardian": resident_principal(HANAKO), "the child": resident_principal(YUI),
                 "staff of the city": staff_principal(HIMEJI_CHILDCARE)}[who]
    body = await call(CHILD_QUERY, {"id": YUI.id}, principal=principal)
    assert "errors" not in body, body
    assert body["data"]["child"]["birthDate"] == "2024-06-15"
    assert len(body["data"]["child"]["vaccinations"]) > 5
    record = await last_audit(childcare_db)
    assert (record.actor, record.subject, record.result) == (principal.subject, YUI.id, "permitted")
    async with childcare_db.sessions() as session:
        assert await verify_chain(session) == []


@pytest.mark.parametrize("who, code", [
    ("another resident", "FORBIDDEN"),
    ("staff of another city", "FORBIDDEN"),
    ("staff without the scope", "FORBIDDEN"),
    ("vendor", "FORBIDDEN"),
    ("anonymous", "UNAUTHENTICATED"),
    ("forged context", "UNAUTHENTICATED"),
    ("context for another subgraph", "UNAUTHENTICATED"),
])
async def test_everyone_else_gets_nothing(call, childcare_db, mint_context, who, code):
    from auth.context_token import sign_context

    kwargs = {
        "another resident": {"principal": resident_principal(by_label("himeji-2/takeshi"))},
        "staff of another city": {"principal": staff_principal(KAKOGAWA_CHILDCARE)},
        "staff without the scope": {"principal": make_principal("s-x", "282014", ("staff",), ("identity:read",))},
        "vendor": {"principal": make_principal("client-shop", "282014", ("vendor",), ("childcare:read",))},
        "anonymous": {},
        "forged context": {"token": sign_context(resident_principal(HANAKO), "childcare", generate_signing_key())},
        "context for another subgraph": {"token": mint_context(resident_principal(HANAKO), "identity")},
    }[who]
    body = await call(CHILD_QUERY, {"id": YUI.id}, **kwargs)
    assert body["data"] == {"child": None}
    assert body["errors"][0]["extensions"]["code"] == code
    assert "2024-06-15" not in str(body)
    record = await last_audit(childcare_db)
    assert (record.subject, record.result) == (YUI.id, "denied")


@pytest.mark.parametrize("who", ["another resident", "staff of another city", "vendor", "anonymous"])
async def test_children_list_refused_to_others(call, who):
    principal = {"another resident": resident_principal(by_label("himeji-2/takeshi")),
                 "staff of another city": staff_principal(KAKOGAWA_CHILDCARE),
                 "vendor": make_principal("client-shop", "282014", ("vendor",), ("childcare:read",)),
                 "anonymous": None}[who]
    body = await call(CHILDREN_QUERY, {"id": HANAKO.id}, principal=principal)
    if who == "staff of another city":
        # staff may list, but each child of another city is left out: not even how many there are
        assert body["data"]["_entities"][0]["children"] == [] and "errors" not in body, body
    else:
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
    assert "2024-06-15" not in str(body)


async def test_municipality_that_has_not_joined_is_refused(call):
    sota = by_label("taka-1/sota")   # 多可町 has not joined childcare
    body = await call(CHILD_QUERY, {"id": sota.id}, principal=staff_principal(TAKA_STAFF))
    assert body["data"] == {"child": None}
    assert body["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"
    body = await call(CHILD_QUERY, {"id": sota.id}, principal=resident_principal(by_label("taka-1/mai")))
    assert body["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"


async def test_kakogawa_staff_read_kakogawa_children(call):
    aoi = by_label("kakogawa-1/aoi")
    body = await call(CHILD_QUERY, {"id": aoi.id}, principal=staff_principal(KAKOGAWA_CHILDCARE))
    assert body["data"]["child"]["id"] == aoi.id


async def test_municipality_reports_childcare_membership(call):
    body = await call('{ _entities(representations: [{__typename: "Municipality", code: "282014"}, '
                      '{__typename: "Municipality", code: "283657"}]) { ... on Municipality { code childcareJoined } } }')
    assert body["data"]["_entities"] == [{"code": "282014", "childcareJoined": True},
                                         {"code": "283657", "childcareJoined": False}]


# --- writes -----------------------------------------------------------------------------------------------

RECORD = """mutation($input: RecordVaccinationInput!) { recordVaccination(input: $input) {
  vaccineCode vaccineName givenOn lotNumber } }"""


async def vaccination_count(database) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(VaccinationRecord))


async def test_guardian_records_a_dose_and_next_due_moves_on(call, childcare_db):
    haruto_due = await call('query($id: ID!) { child(id: $id) { nextVaccinations(includeMissed: false) '
                            '{ vaccineCode doseNumber earliest } } }', {"id": HARUTO.id},
                            principal=resident_principal(HANAKO))
    first = next(d for d in haruto_due["data"]["child"]["nextVaccinations"] if d["vaccineCode"] == "HEPB")
    assert first["doseNumber"] == 1   # the seed stops before his 2-month standard start
    body = await call(RECORD, {"input": {"childId": HARUTO.id, "vaccineCode": "HEPB",
                                         "givenOn": today_in_japan().isoformat(), "lotNumber": "AB123"}},
                      principal=resident_principal(HANAKO))
    assert body["data"]["recordVaccination"] == {"vaccineCode": "HEPB", "vaccineName": "B型肝炎",
                                                 "givenOn": today_in_japan().isoformat(), "lotNumber": "AB123"}
    after = await call('query($id: ID!) { child(id: $id) { nextVaccinations { vaccineCode doseNumber earliest } } }',
                       {"id": HARUTO.id}, principal=resident_principal(HANAKO))
    second = next(d for d in after["data"]["child"]["nextVaccinations"] if d["vaccineCode"] == "HEPB")
    assert (second["doseNumber"], second["earliest"]) == (2, (today_in_japan() + timedelta(days=28)).isoformat())
    record = await last_audit(childcare_db)
    assert record.result in {"permitted", "written"}


@pytest.mark.parametrize("change, code", [
    ({"vaccineCode": "NOPE"}, "BAD_USER_INPUT"),
    ({"givenOn": "2999-01-01"}, "BAD_USER_INPUT"),
    ({"givenOn": "2020-01-01"}, "BAD_USER_INPUT"),      # before haruto's birth
    ({"givenOn": "2026-02-30"}, "BAD_USER_INPUT"),      # not a date
    ({"childId": "r-!!"}, "BAD_USER_INPUT"),
    ({"lotNumber": "x" * 40}, "BAD_USER_INPUT"),
    ({"childId": "r-000000000000"}, "FORBIDDEN"),      # unknown is refused like forbidden (no oracle)
])
async def test_bad_vaccination_input_changes_nothing(call, childcare_db, change, code):
    before = await vaccination_count(childcare_db)
    values = {"childId": HARUTO.id, "vaccineCode": "BCG", "givenOn": "2026-10-20", **change}
    body = await call(RECORD, {"input": values}, principal=staff_principal(HIMEJI_CHILDCARE))
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert "Traceback" not in str(body)
    assert await vaccination_count(childcare_db) == before


async def test_duplicate_dose_is_a_conflict(call, childcare_db):
    values = {"childId": HARUTO.id, "vaccineCode": "BCG", "givenOn": "2026-10-20"}
    first = await call(RECORD, {"input": values}, principal=staff_principal(HIMEJI_CHILDCARE))
    assert "errors" not in first
    before = await vaccination_count(childcare_db)
    again = await call(RECORD, {"input": values}, principal=staff_principal(HIMEJI_CHILDCARE))
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await vaccination_count(childcare_db) == before


@pytest.mark.parametrize("who", ["another resident", "staff without write", "vendor"])
async def test_others_cannot_record(call, childcare_db, who):
    principal = {"another resident": resident_principal(by_label("himeji-2/takeshi")),
                 "staff without write": staff_principal(KAKOGAWA_CHILDCARE),
                 "vendor": make_principal("client-shop", "282014", ("vendor",), ("childcare:write",))}[who]
    before = await vaccination_count(childcare_db)
    body = await call(RECORD, {"input": {"childId": HARUTO.id, "vaccineCode": "BCG", "givenOn": "2026-10-20"}},
                      principal=principal)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await vaccination_count(childcare_db) == before


async def test_checkup_attendance_is_staff_only(call):
    values = {"input": {"childId": HARUTO.id, "checkupCode": "MONTH_4", "attendedOn": today_in_japan().isoformat()}}
    query = "mutation($input: RecordCheckupInput!) { recordCheckupAttendance(input: $input) { code status attendedOn } }"
    refused = await call(query, values, principal=resident_principal(HANAKO))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await call(query, values, principal=staff_principal(HIMEJI_CHILDCARE))
    assert body["data"]["recordCheckupAttendance"] == {"code": "MONTH_4", "status": "ATTENDED",
                                                       "attendedOn": today_in_japan().isoformat()}


async def test_learning_record(call):
    query = ("mutation($input: LearningRecordInput!) { addLearningRecord(input: $input) { schoolYear subject note } }")
    sakura = by_label("himeji-2/sakura")
    body = await call(query, {"input": {"childId": sakura.id, "schoolYear": 2026, "subject": "理科",
                                        "note": "観察記録が丁寧。"}}, principal=staff_principal(HIMEJI_CHILDCARE))
    assert body["data"]["addLearningRecord"] == {"schoolYear": 2026, "subject": "理科", "note": "観察記録が丁寧。"}
    bad = await call(query, {"input": {"childId": sakura.id, "schoolYear": 2026, "subject": "錬金術", "note": "x"}},
                     principal=staff_principal(HIMEJI_CHILDCARE))
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    read = await call('query($id: ID!) { child(id: $id) { learningRecords { subject } } }', {"id": sakura.id},
                      principal=resident_principal(sakura))
    assert [r["subject"] for r in read["data"]["child"]["learningRecords"]] == ["算数", "理科"]


async def test_children_are_keyed_by_resident_id(childcare_db):
    async with childcare_db.sessions() as session:
        ids = set((await session.execute(select(ChildRow.id))).scalars())
    assert {HARUTO.id, YUI.id, by_label("taka-1/sota").id} <= ids


async def test_staff_read_their_municipalitys_audit_log(call):
    await call(CHILD_QUERY, {"id": YUI.id}, principal=resident_principal(HANAKO))
    query = "query($s: ID) { childcareAuditLog(subject: $s, limit: 5) { actor subject result fields } }"
    body = await call(query, {"s": YUI.id}, principal=staff_principal(HIMEJI_CHILDCARE))
    assert body["data"]["childcareAuditLog"][0] == {"actor": HANAKO.id, "subject": YUI.id, "result": "permitted",
                                                   "fields": ["birthDate", "id", "vaccinations"]}
    other_city = await call(query, {"s": YUI.id}, principal=make_principal(
        "s-kakogawa-audit", "282103", ("staff",), ("childcare:audit",)))
    assert other_city["data"]["childcareAuditLog"] == []
    refused = await call(query, {"s": YUI.id}, principal=resident_principal(HANAKO))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_platforms_auditor_cannot_read_the_childcare_audit_log(call):
    """Issue 10, finding 4: Kakogawa's safety staff hold `audit:read` and every safety scope, not
    `childcare:audit` — the childcare log (children, fields read, who read them) stays closed to them, even for
    records about their own city's children; Himeji's childcare auditor still reads Himeji's."""
    await call(CHILD_QUERY, {"id": YUI.id}, principal=resident_principal(HANAKO))
    query = "{ childcareAuditLog(limit: 50) { actor subject subjectMunicipality result } }"
    kakogawa_safety = staff_principal(next(s for s in STAFF if s.municipality_code == "282103"
                                           and "safety:write" in s.scopes))
    assert "audit:read" in kakogawa_safety.scopes and "childcare:audit" not in kakogawa_safety.scopes
    for who in (kakogawa_safety, make_principal("s-kakogawa-all", "282103", ("staff",),
                                                ("audit:read", "safety:audit", "safety:read", "childcare:read"))):
        body = await call(query, principal=who)
        assert body["data"] is None or body["data"]["childcareAuditLog"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert "childcare:audit" in body["errors"][0]["message"]
    himeji = await call(query, principal=staff_principal(HIMEJI_CHILDCARE))
    assert {r["subjectMunicipality"] for r in himeji["data"]["childcareAuditLog"]} == {"282014"}


REGISTER = """mutation($input: RegisterChildInput!) { registerChild(input: $input) {
  id birthDate sex municipality { code } guardians { id } nextVaccinations(includeMissed: false) { vaccineCode } } }"""


def registration(**change) -> dict:  # noqa: ANN003
    return {"input": {"childId": "r-newborn-0001", "municipalityCode": "28201", "birthDate": "2026-11-01",
                      "sex": 2, "guardianIds": [HANAKO.id], **change}}


async def test_staff_register_a_child_who_then_shows_up_for_the_guardian(call):
    body = await call(REGISTER, registration(), principal=staff_principal(HIMEJI_CHILDCARE))
    assert "errors" not in body, body
    child = body["data"]["registerChild"]
    assert (child["id"], child["birthDate"], child["sex"], child["municipality"], child["guardians"]) == (
        "r-newborn-0001", "2026-11-01", 2, {"code": "282014"}, [{"id": HANAKO.id}])
    assert "HEPB" in [d["vaccineCode"] for d in child["nextVaccinations"]]
    listed = await call(CHILDREN_QUERY, {"id": HANAKO.id}, principal=resident_principal(HANAKO))
    assert "r-newborn-0001" in [c["id"] for c in listed["data"]["_entities"][0]["children"]]
    again = await call(REGISTER, registration(), principal=staff_principal(HIMEJI_CHILDCARE))
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"


@pytest.mark.parametrize("change, code", [
    ({"municipalityCode": "282015"}, "BAD_USER_INPUT"),
    ({"birthDate": "2999-01-01"}, "BAD_USER_INPUT"),
    ({"birthDate": "1990-01-01"}, "BAD_USER_INPUT"),
    ({"sex": 3}, "BAD_USER_INPUT"),
    ({"guardianIds": []}, "BAD_USER_INPUT"),
    ({"childId": "bad id"}, "BAD_USER_INPUT"),
    ({"municipalityCode": "282103"}, "FORBIDDEN"),            # Himeji staff cannot register a Kakogawa child
])
async def test_bad_or_forbidden_registration_stores_nothing(call, childcare_db, change, code):
    body = await call(REGISTER, registration(**change), principal=staff_principal(HIMEJI_CHILDCARE))
    assert body["errors"][0]["extensions"]["code"] == code, body
    async with childcare_db.sessions() as session:
        assert await session.get(ChildRow, "r-newborn-0001") is None
        assert await session.get(ChildRow, "bad id") is None


async def test_guardians_cannot_register_children(call):
    body = await call(REGISTER, registration(), principal=resident_principal(HANAKO))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


MY_NUMBER_SPELLINGS = ("1234:5678:9018", "0x123456789018", "1234_5678_9018", "0123456789018",
                       "１２３４ ５６７８ ９０１８", "番号1234-5678-9018")


@pytest.mark.parametrize("spelling", MY_NUMBER_SPELLINGS)
async def test_free_text_fields_refuse_a_my_number_in_any_spelling(call, childcare_db, spelling):
    """Issue 10, finding 3: the note and the lot number are free text; nothing that reads as a My Number is kept."""
    sakura = by_label("himeji-2/sakura")
    note = await call("mutation($input: LearningRecordInput!) { addLearningRecord(input: $input) { note } }",
                      {"input": {"childId": sakura.id, "schoolYear": 2026, "subject": "理科", "note": spelling}},
                      principal=staff_principal(HIMEJI_CHILDCARE))
    assert note["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "note",
                                               "reason": "MY_NUMBER_REFUSED"}
    assert spelling not in str(note)           # the refusal never echoes the number
    before = await vaccination_count(childcare_db)
    dose = await call(RECORD, {"input": {"childId": HARUTO.id, "vaccineCode": "HEPB",
                                         "givenOn": today_in_japan().isoformat(), "lotNumber": spelling[:32]}},
                      principal=resident_principal(HANAKO))
    assert dose["errors"][0]["extensions"]["field"] == "lotNumber"
    assert await vaccination_count(childcare_db) == before
