from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from auth.context_token import sign_context
from auth.gateway_keys import generate_signing_key
from subgraphs.common.audit import AuditRecord, verify_chain
from subgraphs.common.roster import STAFF, by_label
from subgraphs.safety.models import TagDetection, TagPairing, WatchTag
from subgraphs.safety.watch_tag_trust import demo_pairing_code
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

MAKOTO = by_label("kakogawa-1/makoto")  # guardian of tag-kakogawa-0001 and -0002 in the seed
MEGUMI = by_label("kakogawa-1/megumi")  # same household, guardian of tag-kakogawa-0003 only
KAKOGAWA_SAFETY_STAFF = next(s for s in STAFF if "safety:write" in s.scopes)
TAKA_STAFF = next(s for s in STAFF if s.municipality_code == "283657")

HISTORY = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Resident { id watchTags { id active lastSeen { source } detections { source placeName detectorName
      detectedAt latitude longitude } } } } }"""


def _history_of(resident_id: str) -> dict:
    return {"r": [{"__typename": "Resident", "id": resident_id}]}


async def _audit(database) -> list[AuditRecord]:  # noqa: ANN001
    async with database.transaction() as session:
        return list((await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars())


async def test_guardian_sees_own_tags_history_and_the_read_is_audited(post, seeded_db):
    before = len(await _audit(seeded_db))
    body = await post(HISTORY, _history_of(MAKOTO.id), principal=resident_principal(MAKOTO))
    assert "errors" not in body, body
    tags = body["data"]["_entities"][0]["watchTags"]
    assert [t["id"] for t in tags] == ["tag-kakogawa-0001", "tag-kakogawa-0002"]
    first = tags[0]["detections"]
    assert len(first) == 4
    assert [d["detectedAt"] for d in first] == sorted((d["detectedAt"] for d in first), reverse=True)
    assert {d["source"] for d in first} == {"CAMERA", "POSTAL_VEHICLE", "CITIZEN_PHONE"}
    phone = next(d for d in first if d["source"] == "CITIZEN_PHONE")
    assert phone["detectorName"] is None and phone["placeName"] == "加古川町寺家町"
    assert tags[0]["lastSeen"]["source"] == first[0]["source"]
    limited = await post(HISTORY.replace("detections {", "detections(limit: 1) {"), _history_of(MAKOTO.id),
                         principal=resident_principal(MAKOTO))
    assert len(limited["data"]["_entities"][0]["watchTags"][0]["detections"]) == 1
    bad = await post(HISTORY.replace("detections {", "detections(limit: 0) {"), _history_of(MAKOTO.id),
                     principal=resident_principal(MAKOTO))
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    records = await _audit(seeded_db)
    assert len(records) == before + 3  # one record per read
    assert (records[-1].actor, records[-1].subject, records[-1].result) == (MAKOTO.id, MAKOTO.id, "permitted")
    async with seeded_db.transaction() as session:
        assert await verify_chain(session) == []


FORBIDDEN_CALLERS = {
    "another resident": (lambda: resident_principal(MEGUMI), "FORBIDDEN"),
    "staff of the city": (lambda: staff_principal(KAKOGAWA_SAFETY_STAFF), "FORBIDDEN"),
    "staff of another city": (lambda: staff_principal(TAKA_STAFF), "FORBIDDEN"),
    "vendor": (lambda: make_principal("vendor-1", "282103", ("vendor",), ("safety:read",)), "FORBIDDEN"),
    # a vendor or device claiming the guardian's subject still gets nothing
    "vendor as guardian": (lambda: make_principal(MAKOTO.id, "282103", ("vendor",)), "FORBIDDEN"),
    "device": (lambda: make_principal(MAKOTO.id, "282103", ("device",)), "FORBIDDEN"),
}


@pytest.mark.parametrize("caller", sorted(FORBIDDEN_CALLERS))
async def test_history_is_refused_to_anyone_but_the_guardian(post, seeded_db, caller):
    make, code = FORBIDDEN_CALLERS[caller]
    before = len(await _audit(seeded_db))
    body = await post(HISTORY, _history_of(MAKOTO.id), principal=make())
    assert body["data"]["_entities"][0]["watchTags"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert "tag-kakogawa" not in str(body)
    records = await _audit(seeded_db)
    assert len(records) == before + 1 and records[-1].result == "denied"  # refusals are logged too


async def test_history_is_refused_without_or_with_a_forged_context(post, mint_context):
    anonymous = await post(HISTORY, _history_of(MAKOTO.id))
    forged = await post(HISTORY, _history_of(MAKOTO.id), context_header=sign_context(
        resident_principal(MAKOTO), "safety", generate_signing_key()))
    wrong_audience = await post(HISTORY, _history_of(MAKOTO.id),
                                context_header=mint_context(resident_principal(MAKOTO), "identity"))
    garbage = await post(HISTORY, _history_of(MAKOTO.id), context_header="not.a.token")
    for body in (anonymous, forged, wrong_audience, garbage):
        assert body["data"]["_entities"][0]["watchTags"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "tag-kakogawa" not in str(body)


async def test_staff_get_counts_only(post):
    query = """{ watchTagStats(municipalityCode: "282103", hours: 24) {
        registeredTags activeTags detections bySource { source count } } }"""
    body = await post(query, principal=staff_principal(KAKOGAWA_SAFETY_STAFF))
    assert "errors" not in body, body
    stats = body["data"]["watchTagStats"]
    assert stats["registeredTags"] == 3 and stats["activeTags"] == 3
    assert stats["detections"] == 7 == sum(s["count"] for s in stats["bySource"])
    assert {"source": "CITIZEN_PHONE", "count": 2} in stats["bySource"]
    for principal, code in ((None, "UNAUTHENTICATED"), (resident_principal(MAKOTO), "FORBIDDEN"),
                            (staff_principal(TAKA_STAFF), "FORBIDDEN")):
        refused = await post(query, principal=principal)
        assert refused["data"] is None or refused["data"]["watchTagStats"] is None
        assert refused["errors"][0]["extensions"]["code"] == code
    # 多可町's staff asking about their own town: it has not joined the safety platform
    not_joined = await post(query.replace("282103", "283657"), principal=staff_principal(TAKA_STAFF))
    assert not_joined["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"


REPORT = """mutation($input: TagDetectionInput!) { reportTagDetection(input: $input) { received } }"""


WATCH_APP = make_principal("kyodo-watch-app", None, ("device",), ("safety:report",))
REGISTER_APP = "mutation { registerWatchApp { instanceId instanceKey } }"


async def _app_instance(post) -> dict:  # noqa: ANN001
    """A freshly registered citizen-app installation: {"appInstanceId", "appInstanceKey"}."""
    body = await post(REGISTER_APP, principal=WATCH_APP)
    registration = body["data"]["registerWatchApp"]
    return {"appInstanceId": registration["instanceId"], "appInstanceKey": registration["instanceKey"]}


def _report(tag_id: str, **extra) -> dict:  # noqa: ANN003
    return {"input": {"tagId": tag_id, "latitude": 34.761, "longitude": 134.85, "placeName": "野口町",
                      "detectedAt": (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat(), **extra}}


async def test_anonymous_phone_report_is_stored_without_any_reporter_identity(post, seeded_db):
    # The phone's app happens to run with a signed-in resident; that identity must not be kept anywhere.
    reporter = by_label("kakogawa-2/kazuko")
    app = await _app_instance(post)
    body = await post(REPORT, _report("tag-kakogawa-0001", **app), principal=resident_principal(reporter))
    assert body == {"data": {"reportTagDetection": {"received": True}}}
    async with seeded_db.transaction() as session:
        rows = list((await session.execute(select(TagDetection).where(TagDetection.place_name == "野口町"))).scalars())
        assert len(rows) == 1 and rows[0].source == "CITIZEN_PHONE" and rows[0].detector_id is None
        # No column anywhere in the database holds the reporter's id.
        for table in ("safety_tag_detection", "audit_record", "co_use_usage", "safety_watch_tag"):
            dump = str((await session.execute(text(f"SELECT * FROM {table}"))).all())
            assert reporter.id not in dump, table
            assert app["appInstanceId"] not in dump, table     # nor which installation sent it
    history = await post(HISTORY, _history_of(MAKOTO.id), principal=resident_principal(MAKOTO))
    latest = history["data"]["_entities"][0]["watchTags"][0]["detections"][0]
    assert latest["source"] == "CITIZEN_PHONE" and latest["placeName"] == "野口町"


async def test_reporter_learns_nothing_about_unknown_tags(post, seeded_db):
    app = await _app_instance(post)
    known = await post(REPORT, _report("tag-kakogawa-0002", **app))
    unknown = await post(REPORT, _report("tag-nobody-9999", **app))
    assert known == unknown == {"data": {"reportTagDetection": {"received": True}}}
    async with seeded_db.transaction() as session:
        assert (await session.execute(select(TagDetection).where(TagDetection.tag_id == "tag-nobody-9999"))).first() is None


async def test_fixed_detector_must_report_as_itself(post, seeded_db):
    camera = "det-kakogawa-cam-001"
    ok = await post(REPORT, _report("tag-kakogawa-0003", detectorId=camera),
                    principal=make_principal(camera, "282103", ("device",)))
    assert ok["data"]["reportTagDetection"]["received"] is True
    for principal, code in ((None, "UNAUTHENTICATED"),
                            (make_principal("det-kakogawa-cam-002", "282103", ("device",)), "FORBIDDEN"),
                            (resident_principal(MAKOTO), "FORBIDDEN")):
        refused = await post(REPORT, _report("tag-kakogawa-0003", detectorId=camera, placeName="x"),
                             principal=principal)
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == code
    async with seeded_db.transaction() as session:
        assert (await session.execute(select(TagDetection).where(TagDetection.place_name == "x"))).first() is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tagId": "x"}, "tagId"),
        ({"latitude": 91.0}, "latitude"),
        ({"longitude": -181.0}, "longitude"),
        ({"detectedAt": "2099-01-01T00:00:00+00:00"}, "detectedAt"),
        ({"detectedAt": "2020-01-01T00:00:00+00:00"}, "detectedAt"),
        ({"detectedAt": "2026-11-26T10:00:00"}, "detectedAt"),  # no offset
    ],
)
async def test_bad_reports_are_coded_errors_and_store_nothing(post, seeded_db, change, field):
    async with seeded_db.transaction() as session:
        before = len((await session.execute(select(TagDetection))).all())
    body = await post(REPORT, {"input": {**_report("tag-kakogawa-0001", **await _app_instance(post))["input"],
                                         **change}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"].get("field", field) == field
    async with seeded_db.transaction() as session:
        assert len((await session.execute(select(TagDetection))).all()) == before


async def test_a_malformed_detector_id_is_bad_user_input_and_an_unknown_one_not_found(post, seeded_db):
    async with seeded_db.transaction() as session:
        before = len((await session.execute(select(TagDetection))).all())
    for detector, code in (("x", "BAD_USER_INPUT"), ("det kakogawa", "BAD_USER_INPUT"), ("d" * 65, "BAD_USER_INPUT"),
                           ("det-nowhere-001", "NOT_FOUND")):
        body = await post(REPORT, _report("tag-kakogawa-0001", detectorId=detector),
                          principal=make_principal(detector, "282103", ("device",)))
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": code, "field": "detectorId"}, (detector, body)
    async with seeded_db.transaction() as session:
        assert len((await session.execute(select(TagDetection))).all()) == before


REGISTER_TAG = "mutation($t: ID!, $c: String!) { registerWatchTag(tagId: $t, pairingCode: $c) { id active detections { source } } }"


async def test_register_tag_records_only_the_guardian(post, seeded_db):
    rina = by_label("kato-1/rina")
    code = demo_pairing_code("tag-kato-0001")
    # the printed code, read back with a space and in lower case, is the same code
    body = await post(REGISTER_TAG, {"t": "tag-kato-0001", "c": f"{code[:5].lower()} {code[5:]}"},
                      principal=resident_principal(rina))
    assert body["data"]["registerWatchTag"] == {"id": "tag-kato-0001", "active": True, "detections": []}
    async with seeded_db.transaction() as session:
        tag = await session.get(WatchTag, "tag-kato-0001")
        assert (tag.guardian_id, tag.municipality_code) == (rina.id, "282286")
        assert set(WatchTag.model_fields) == {"id", "guardian_id", "municipality_code", "registered_at", "active"}
        pairing = await session.get(TagPairing, "tag-kato-0001")
        assert code not in str(pairing.model_dump())          # the code is kept only as a salted hash
    again = await post(REGISTER_TAG, {"t": "tag-kato-0001", "c": code}, principal=resident_principal(MAKOTO))
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    # 多可町 has not joined the safety platform: a clear refusal, nothing stored
    kenichi = by_label("taka-1/kenichi")
    refused = await post(REGISTER_TAG, {"t": "tag-taka-0001", "c": demo_pairing_code("tag-taka-0001")},
                         principal=resident_principal(kenichi))
    assert refused["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"
    anonymous = await post(REGISTER_TAG, {"t": "tag-anon-0001", "c": demo_pairing_code("tag-anon-0001")})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with seeded_db.transaction() as session:
        assert await session.get(WatchTag, "tag-taka-0001") is None
        assert await session.get(WatchTag, "tag-anon-0001") is None


async def test_a_tag_id_alone_does_not_register_a_tag(post, seeded_db):
    """Issue 10, finding 5: knowing the id a tag broadcasts is not possession. A wrong code and an unknown tag get
    the same answer, and repeated wrong codes are slowed down."""
    rina = by_label("kato-1/rina")
    wrong = await post(REGISTER_TAG, {"t": "tag-kakogawa-0101", "c": "WRONG12345"}, principal=resident_principal(rina))
    unknown = await post(REGISTER_TAG, {"t": "tag-nobody-0001", "c": "WRONG12345"}, principal=resident_principal(rina))
    assert wrong["errors"][0]["extensions"] == unknown["errors"][0]["extensions"] == {"code": "NOT_FOUND",
                                                                                       "field": "tagId"}
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    missing = await post('mutation { registerWatchTag(tagId: "tag-kakogawa-0101") { id } }',
                         principal=resident_principal(rina))
    assert missing["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    codes = []
    for _ in range(6):
        body = await post(REGISTER_TAG, {"t": "tag-kakogawa-0102", "c": "GUESS00000"},
                          principal=resident_principal(MEGUMI))
        codes.append(body["errors"][0]["extensions"]["code"])
    assert "RATE_LIMITED" in codes
    async with seeded_db.transaction() as session:
        assert await session.get(WatchTag, "tag-kakogawa-0101") is None
        assert await session.get(WatchTag, "tag-kakogawa-0102") is None


async def test_citizen_sightings_need_a_registered_app_instance(post, seeded_db):
    async with seeded_db.transaction() as session:
        before = len((await session.execute(select(TagDetection))).all())
    anonymous = await post(REPORT, _report("tag-kakogawa-0001"))                 # no token, no instance
    forged = await post(REPORT, _report("tag-kakogawa-0001", appInstanceId="app-" + "0" * 32,
                                        appInstanceKey="guess"))
    app = await _app_instance(post)
    wrong_key = await post(REPORT, _report("tag-kakogawa-0001", appInstanceId=app["appInstanceId"],
                                           appInstanceKey="guess"))
    for body in (anonymous, forged, wrong_key):
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with seeded_db.transaction() as session:
        assert len((await session.execute(select(TagDetection))).all()) == before
    # only the watch app's own client registers instances
    for principal in (None, resident_principal(MAKOTO), make_principal("kyodo-vendor", None, ("vendor",))):
        refused = await post(REGISTER_APP, principal=principal)
        assert refused["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")


async def test_each_app_instance_is_rate_limited_and_the_guardian_sees_the_channel(post, seeded_db):
    app = await _app_instance(post)
    codes = []
    for _ in range(65):
        body = await post(REPORT, _report("tag-kakogawa-0003", **app))
        codes.append("ok" if body.get("data") else body["errors"][0]["extensions"]["code"])
    assert codes[:60] == ["ok"] * 60 and set(codes[60:]) == {"RATE_LIMITED"}
    other = await post(REPORT, _report("tag-kakogawa-0003", **await _app_instance(post)))
    assert other["data"]["reportTagDetection"]["received"] is True        # another phone is not held back
    history = await post(HISTORY.replace("detectorName", "detectorName reportedVia")
                         .replace("detections {", "detections(limit: 500) {"), _history_of(MEGUMI.id),
                         principal=resident_principal(MEGUMI))
    detections = history["data"]["_entities"][0]["watchTags"][0]["detections"]
    assert {(d["source"], d["reportedVia"]) for d in detections} == {
        ("CITIZEN_PHONE", "REGISTERED_APP"), ("OFFICIAL_VEHICLE", "FIXED_DETECTOR")}


@pytest.mark.parametrize("spelling", ["1234:5678:9018", "0x123456789018", "１２３４５６７８９０１８"])
async def test_sighting_place_and_tag_id_refuse_a_my_number(post, seeded_db, spelling):
    app = await _app_instance(post)
    place = await post(REPORT, _report("tag-kakogawa-0001", placeName=f"near {spelling}", **app))
    assert place["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "placeName",
                                                "reason": "MY_NUMBER_REFUSED"}
    tag = await post(REGISTER_TAG, {"t": spelling.replace("０", "0")[:14] if spelling.isascii() else "1234567890-18",
                                    "c": "ABCDEFGH12"}, principal=resident_principal(MAKOTO))
    assert tag["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
