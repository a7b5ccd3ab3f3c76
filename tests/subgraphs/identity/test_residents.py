"""Who may read a resident through identity: the rule of docs/architecture.md, case by case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth.gateway_keys import generate_signing_key
from subgraphs.common.audit import AuditRecord, verify_chain
from subgraphs.common.roster import STAFF, by_label
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

RESIDENT_QUERY = "query($id: ID!) { resident(id: $id) { id name nameKana birthDate sex municipality { code name } } }"
CHILD = by_label("himeji-1/haruto")           # 姫路市, guardians taro + hanako
HIMEJI_STAFF_IDENTITY = next(s for s in STAFF if s.municipality_code == "282014" and "identity:read" in s.scopes)
YABU_STAFF = next(s for s in STAFF if s.municipality_code == "282227" and "identity:write" in s.scopes)
TAKA_STAFF = next(s for s in STAFF if s.municipality_code == "283657")


async def test_me_returns_the_signed_in_resident(call):
    taro = by_label("himeji-1/taro")
    body = await call("{ me { id name nameKana sex birthDate municipality { code name nameKana prefecture } "
                      "household { address pets } } }", principal=resident_principal(taro))
    assert body == {"data": {"me": {
        "id": taro.id, "name": "山田 太郎", "nameKana": "ヤマダ タロウ", "sex": 1, "birthDate": "1988-05-12",
        "municipality": {"code": "282014", "name": "姫路市", "nameKana": "ヒメジシ", "prefecture": "兵庫県"},
        "household": {"address": "白浜町", "pets": ["犬"]}}}}


@pytest.mark.parametrize("who", ["self", "guardian", "staff of the city"])
async def test_permitted_readers_get_the_record_and_are_audited(call, identity_db, who):
    principal = {"self": resident_principal(CHILD),
                 "guardian": resident_principal(by_label("himeji-1/hanako")),
                 "staff of the city": staff_principal(HIMEJI_STAFF_IDENTITY)}[who]
    body = await call(RESIDENT_QUERY, {"id": CHILD.id}, principal=principal)
    assert "errors" not in body
    assert body["data"]["resident"]["name"] == "山田 陽翔" and body["data"]["resident"]["birthDate"] == "2026-08-20"
    async with identity_db.sessions() as session:
        last = (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()
        assert await verify_chain(session) == []
    assert (last.actor, last.subject, last.result) == (principal.subject, CHILD.id, "permitted")
    assert last.fields == '["birthDate", "id", "municipality", "name", "nameKana", "sex"]'


@pytest.mark.parametrize("who, code", [
    ("another resident", "FORBIDDEN"),
    ("staff of another city", "FORBIDDEN"),
    ("staff without the scope", "FORBIDDEN"),
    ("vendor", "FORBIDDEN"),
    ("anonymous", "UNAUTHENTICATED"),
    ("forged context", "UNAUTHENTICATED"),
    ("context for another subgraph", "UNAUTHENTICATED"),
])
async def test_everyone_else_gets_nothing(call, identity_db, mint_context, who, code):
    from auth.context_token import sign_context

    neighbour = resident_principal(by_label("himeji-2/takeshi"))
    kwargs = {
        "another resident": {"principal": neighbour},
        "staff of another city": {"principal": staff_principal(YABU_STAFF)},
        "staff without the scope": {"principal": make_principal("s-x", "282014", ("staff",), ("childcare:read",))},
        "vendor": {"principal": make_principal("client-shop", "282014", ("vendor",), ("identity:read",))},
        "anonymous": {},
        "forged context": {"token": sign_context(resident_principal(CHILD), "identity", generate_signing_key())},
        "context for another subgraph": {"token": mint_context(resident_principal(CHILD), "currency")},
    }[who]
    body = await call(RESIDENT_QUERY, {"id": CHILD.id}, **kwargs)
    assert body["data"] == {"resident": None}
    assert body["errors"][0]["extensions"]["code"] == code
    assert "山田" not in str(body)
    async with identity_db.sessions() as session:
        last = (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()
    assert last.subject == CHILD.id and last.result == "denied"


async def test_resident_of_a_municipality_that_has_not_joined_keeps_the_id_only(call, identity_db):
    """Only identity's own fields are refused, each at its path; the id stays for the platforms that joined."""
    kenichi = by_label("taka-1/kenichi")   # 多可町 has not joined identity
    body = await call("{ me { id name household { address } } }", principal=resident_principal(kenichi))
    assert body["data"] == {"me": {"id": kenichi.id, "name": None, "household": None}}
    assert {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]} == {
        ("me", "name"): "PLATFORM_NOT_JOINED", ("me", "household"): "PLATFORM_NOT_JOINED"}
    body = await call(RESIDENT_QUERY, {"id": kenichi.id}, principal=staff_principal(TAKA_STAFF))
    assert body["data"]["resident"]["id"] == kenichi.id and body["data"]["resident"]["name"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"PLATFORM_NOT_JOINED"}
    assert "林" not in str(body)
    async with identity_db.sessions() as session:
        last = (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()
    assert last.subject == kenichi.id and last.result == "not-joined"


async def test_outsider_asking_for_a_not_joined_resident_is_still_forbidden(call):
    """The id-only answer is for callers the rule allows: anyone else keeps the plain refusal."""
    kenichi = by_label("taka-1/kenichi")
    body = await call(RESIDENT_QUERY, {"id": kenichi.id}, principal=resident_principal(by_label("himeji-1/taro")))
    assert body["data"] == {"resident": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_federated_entity_lookup_applies_the_same_rule(call):
    query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id name } } }'
    reps = {"r": [{"__typename": "Resident", "id": CHILD.id}, {"__typename": "Resident", "id": by_label("himeji-2/ren").id}]}
    body = await call(query, reps, principal=resident_principal(by_label("himeji-1/taro")))
    assert body["data"]["_entities"][0] == {"id": CHILD.id, "name": "山田 陽翔"}
    # refused: the entity stays (id only), its personal field is null with the refusal at that path
    ren = by_label("himeji-2/ren")
    assert body["data"]["_entities"][1] == {"id": ren.id, "name": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["_entities", 1, "name"], "FORBIDDEN")]
    assert ren.name not in str(body)


async def test_open_municipality_data_needs_no_context(call):
    body = await call('{ municipality(code: "28222") { code name nameKana prefecture } }')
    assert body == {"data": {"municipality": {"code": "282227", "name": "養父市", "nameKana": "ヤブシ",
                                              "prefecture": "兵庫県"}}}
    body = await call('{ municipality(code: "282225") { code } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_or_malformed_resident_ids(call):
    """An unknown id gets the same refusal as another city's resident (issue 10, finding 6: FORBIDDEN vs
    NOT_FOUND told staff which ids exist)."""
    principal = staff_principal(HIMEJI_STAFF_IDENTITY)
    unknown = await call(RESIDENT_QUERY, {"id": "r-000000000000"}, principal=principal)
    elsewhere = await call(RESIDENT_QUERY, {"id": by_label("kakogawa-1/makoto").id}, principal=principal)
    assert unknown["data"] == elsewhere["data"] == {"resident": None}
    assert [(e["message"], e["extensions"]) for e in unknown["errors"]] == \
        [(e["message"], e["extensions"]) for e in elsewhere["errors"]]
    assert unknown["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    link = "mutation($r: ID!) { linkCard(residentId: $r, certificateSerial: \"0a1b2c3d4e5f\") { active } }"
    for target in ("r-000000000000", by_label("kakogawa-1/makoto").id):   # the same through linkCard
        refused = await call(link, {"r": target}, principal=staff_principal(YABU_STAFF))
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    body = await call(RESIDENT_QUERY, {"id": "x" * 500}, principal=principal)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_staff_read_their_own_municipalitys_audit_log(call):
    guardian = resident_principal(by_label("himeji-1/hanako"))
    await call(RESIDENT_QUERY, {"id": CHILD.id}, principal=guardian)
    log_query = "query($s: ID) { identityAuditLog(subject: $s) { actor subject subjectMunicipality fields result } }"
    himeji_auditor = staff_principal(next(s for s in STAFF if s.municipality_code == "282014" and "identity:audit" in s.scopes))
    body = await call(log_query, {"s": CHILD.id}, principal=himeji_auditor)
    assert body["data"]["identityAuditLog"][0] == {
        "actor": guardian.subject, "subject": CHILD.id, "subjectMunicipality": "282014",
        "fields": ["birthDate", "id", "municipality", "name", "nameKana", "sex"], "result": "permitted"}
    yabu_auditor = staff_principal(YABU_STAFF)
    body = await call(log_query, {"s": CHILD.id}, principal=yabu_auditor)
    assert body["data"]["identityAuditLog"] == []
    body = await call(log_query, {"s": CHILD.id}, principal=guardian)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
