"""A refusal inside childcare stays at the item it concerns: a child the caller may not see is left out of
`Resident.children` (not null: a null would still count it), and a guardian list the caller may not read is null
itself."""

from __future__ import annotations

from subgraphs.common.roster import STAFF, by_label, children_of
from tests.subgraphs.conftest import resident_principal, staff_principal

KAKOGAWA_GUARDIAN = by_label("kakogawa-1/aoi").guardian_ids[0]
AOI = by_label("kakogawa-1/aoi")
HIMEJI_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282014" and "childcare:write" in s.scopes)
KAKOGAWA_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282103" and "childcare:read" in s.scopes)
HANAKO = by_label("himeji-1/hanako")
TARO = by_label("himeji-1/taro")

REGISTER = """mutation($input: RegisterChildInput!) { registerChild(input: $input) { id } }"""
CHILDREN = """query($id: ID!) { _entities(representations: [{__typename: "Resident", id: $id}]) {
  ... on Resident { children { id birthDate } } } }"""
NESTED = """query($id: ID!) { _entities(representations: [{__typename: "Resident", id: $id}]) {
  ... on Resident { id children { id guardians { id children { id } } } } } }"""


async def test_a_child_of_another_city_is_left_out(call):
    # A Himeji child whose guardian lives in Kakogawa: Kakogawa's staff may list the guardian's children,
    # but may see only the Kakogawa one.
    body = await call(REGISTER, {"input": {"childId": "r-himeji-baby-01", "municipalityCode": "282014",
                                           "birthDate": "2026-10-01", "sex": 1, "guardianIds": [KAKOGAWA_GUARDIAN]}},
                      principal=staff_principal(HIMEJI_CHILDCARE))
    assert "errors" not in body, body
    body = await call(CHILDREN, {"id": KAKOGAWA_GUARDIAN}, principal=staff_principal(KAKOGAWA_CHILDCARE))
    children = body["data"]["_entities"][0]["children"]
    own = sorted(children_of(KAKOGAWA_GUARDIAN), key=lambda p: (p.birth_date, p.id))   # oldest first
    assert AOI in own
    assert [c["id"] for c in children] == [p.id for p in own]   # the Himeji baby is simply not there
    assert "errors" not in body
    assert "2026-10-01" not in str(body) and "r-himeji-baby-01" not in str(body)


CURRENCY_STAFF = next(s for s in STAFF if "currency:read" in s.scopes and "childcare:read" not in s.scopes)


async def test_staff_without_childcare_scope_learn_nothing_about_a_family(call):
    """Issue 10, finding 6: currency staff used to get `children: [null, null]`, i.e. how many children."""
    body = await call(CHILDREN, {"id": TARO.id}, principal=staff_principal(CURRENCY_STAFF))
    assert body["data"]["_entities"][0]["children"] == []
    assert "errors" not in body


CHILD = "query($id: ID!) { child(id: $id) { id } }"


async def test_an_unknown_child_id_is_refused_like_a_forbidden_one(call):
    """Staff of one city cannot tell which child ids exist in another (FORBIDDEN vs NOT_FOUND was an oracle)."""
    himeji_child = children_of(TARO.id)[0]
    for principal in (staff_principal(KAKOGAWA_CHILDCARE), resident_principal(AOI)):
        existing = await call(CHILD, {"id": himeji_child.id}, principal=principal)
        unknown = await call(CHILD, {"id": "r-000000000000"}, principal=principal)
        assert existing["data"] == unknown["data"] == {"child": None}
        strip = lambda body: [(e["message"], e["extensions"]) for e in body["errors"]]  # noqa: E731
        assert strip(existing) == strip(unknown) and existing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_co_guardians_children_refused_leave_the_rest(call):
    body = await call(NESTED, {"id": TARO.id}, principal=resident_principal(TARO))
    resident = body["data"]["_entities"][0]
    assert resident["id"] == TARO.id and len(resident["children"]) == 2
    for child in resident["children"]:
        by_id = {g["id"]: g for g in child["guardians"]}
        assert [c["id"] for c in by_id[TARO.id]["children"]] == [c["id"] for c in resident["children"]]
        assert by_id[HANAKO.id]["children"] is None   # only the guardian themselves (or staff) list them
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert all(e["path"][-1] == "children" and e["path"][4] == "guardians" for e in body["errors"])
