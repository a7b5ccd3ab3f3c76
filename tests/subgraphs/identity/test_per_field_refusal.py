"""A Resident reached through federation whom the caller may not see: the entity stays, each personal field is
null with the refusal at its path, no personal data leaves, and the refusal is audited once."""

from __future__ import annotations

from sqlalchemy import select

from subgraphs.common.audit import AuditRecord
from subgraphs.common.roster import STAFF, by_label
from tests.subgraphs.conftest import resident_principal, staff_principal

TARO, HANAKO, HARUTO = by_label("himeji-1/taro"), by_label("himeji-1/hanako"), by_label("himeji-1/haruto")
PERSONAL = ("municipalId name nameKana familyName givenName familyNameKana givenNameKana birthDate sex "
            "municipality { code } household { id } currentShelterStay { shelterId } cardLinks { active } "
            "applications { id } signIns { at }")
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id %s } } }" % PERSONAL
FIELD_NAMES = ["municipalId", "name", "nameKana", "familyName", "givenName", "familyNameKana", "givenNameKana",
               "birthDate", "sex", "municipality", "household", "currentShelterStay", "cardLinks", "applications",
               "signIns"]


async def _audit(identity_db) -> list[tuple[str, str, str]]:  # noqa: ANN001
    async with identity_db.sessions() as session:
        rows = (await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars()
        return [(r.actor, r.subject, r.result) for r in rows]


async def test_a_co_guardian_is_refused_field_by_field(call, identity_db):
    """Taro asks for his child and for his child's other guardian (what `me { children { guardians } }` sends)."""
    before = await _audit(identity_db)
    body = await call(ENTITIES, {"r": [{"__typename": "Resident", "id": HARUTO.id},
                                       {"__typename": "Resident", "id": HANAKO.id}]}, principal=resident_principal(TARO))
    child, co_guardian = body["data"]["_entities"]
    assert child["id"] == HARUTO.id and child["name"] == HARUTO.name and child["birthDate"] == "2026-08-20"
    assert co_guardian == {"id": HANAKO.id, **{name: None for name in FIELD_NAMES}}
    errors = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert errors == {("_entities", 1, name): "FORBIDDEN" for name in FIELD_NAMES}
    for value in (HANAKO.name, HANAKO.name_kana, HANAKO.birth_date.isoformat(), HANAKO.given_name):
        assert value not in str(body)
    audit = (await _audit(identity_db))[len(before):]
    assert sorted(audit) == sorted([(TARO.id, HARUTO.id, "permitted"), (TARO.id, HANAKO.id, "denied")])


async def test_staff_without_identity_scope_see_ids_only_and_anonymous_callers_are_unauthenticated(call):
    childcare_staff = next(s for s in STAFF if s.municipality_code == "282014" and "identity:read" not in s.scopes)
    reps = {"r": [{"__typename": "Resident", "id": HARUTO.id}]}
    body = await call("query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id name } } }", reps,
                      principal=staff_principal(childcare_staff))
    assert body["data"]["_entities"] == [{"id": HARUTO.id, "name": None}]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await call("query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id name } } }", reps)
    assert body["data"]["_entities"] == [{"id": HARUTO.id, "name": None}]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_root_fields_still_refuse_the_whole_resident(call):
    body = await call("query($id: ID!) { resident(id: $id) { id name } }", {"id": HANAKO.id},
                      principal=resident_principal(TARO))
    assert body["data"] == {"resident": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["resident"], "FORBIDDEN")]


async def test_an_unknown_resident_reference_looks_like_a_forbidden_one(call):
    """Issue 10, finding 6: no NOT_FOUND/FORBIDDEN oracle on resident ids."""
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { name } } }"
    unknown = await call(query, {"r": [{"__typename": "Resident", "id": "r-000000000000"}]},
                         principal=resident_principal(TARO))
    other = await call(query, {"r": [{"__typename": "Resident", "id": by_label("kakogawa-1/makoto").id}]},
                       principal=resident_principal(TARO))
    assert unknown["data"] == other["data"] == {"_entities": [{"name": None}]}
    assert [(e["message"], e["extensions"]) for e in unknown["errors"]] == \
        [(e["message"], e["extensions"]) for e in other["errors"]]
    assert unknown["errors"][0]["extensions"]["code"] == "FORBIDDEN"
