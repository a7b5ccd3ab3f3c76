"""The contracted operator, directly at each subgraph (issue 11 item 4): health, metrics, usage, migrations and
the audit verification result; never personal data, never audit record contents."""

from __future__ import annotations

import importlib

import pytest

from subgraphs.common.roster import STAFF, by_label
from tests.subgraphs.conftest import graphql_caller, make_principal, migrated_database, resident_principal, staff_principal

TARO, HARUTO = by_label("himeji-1/taro"), by_label("himeji-1/haruto")
OPERATOR = make_principal("kyodo-operator", None, ("operator",),
                          ("ops:childcare", "ops:safety", "ops:currency", "ops:identity"))
# What each subgraph holds about a person, asked as an entity (the way the gateway asks for it).
PERSONAL = {
    "childcare": ("Resident", TARO.id, "children { id birthDate }", "childcareAuditLog { subject fields }"),
    "safety": ("Resident", by_label("ono-1/takuya").id, "watchTags { id }", None),
    "currency": ("Resident", TARO.id, "pointAccount { balance }", "currencyAuditLog { subject fields }"),
    "identity": ("Resident", TARO.id, "name birthDate", "identityAuditLog { subject fields }"),
}


def _ops(name: str) -> str:
    return (f"{{ {name}Operations {{ health migration {{ current head upToDate }} "
            f"auditVerification {{ intact records brokenRecordIds }} metrics {{ name value }} "
            f'usage(month: "2026-11") {{ platform municipalityCode clientId principalDays }} }} }}')


@pytest.fixture(params=sorted(PERSONAL))
def subgraph(request) -> str:
    return request.param


@pytest.fixture
async def call(subgraph, database_url, gateway_jwks, mint_context):
    seed = importlib.import_module(f"subgraphs.{subgraph}.seed").seed
    async with migrated_database(subgraph, database_url, seed) as database:
        async with graphql_caller(subgraph, database, gateway_jwks, mint_context) as caller:
            yield caller


async def test_operator_reads_operations_and_nothing_personal(subgraph, call):
    # someone reads personal data first, so the audit log has records to verify
    typename, person, fields, audit_query = PERSONAL[subgraph]
    entity = (f'query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on {typename} {{ {fields} }} }} }}')
    reps = {"r": [{"__typename": typename, "id": person}]}
    own = await call(entity, reps, principal=resident_principal(by_label("ono-1/takuya") if subgraph == "safety" else TARO))
    assert "errors" not in own, own

    body = await call(_ops(subgraph), principal=OPERATOR)
    assert "errors" not in body, body
    ops = body["data"][f"{subgraph}Operations"]
    assert ops["health"] == "ok"
    assert ops["migration"]["upToDate"] is True and ops["migration"]["current"] == ops["migration"]["head"]
    assert ops["auditVerification"]["intact"] is True and ops["auditVerification"]["records"] >= 1
    assert ops["auditVerification"]["brokenRecordIds"] == []
    assert {m["name"] for m in ops["metrics"]} >= {"audit_records_total", "co_use_member_municipalities"}
    assert isinstance(ops["usage"], list)
    assert TARO.id not in str(body) and TARO.family_name not in str(body)

    refused = await call(entity, reps, principal=OPERATOR)
    assert all(v is None for v in (refused["data"]["_entities"][0] or {}).values()), refused
    assert {e["extensions"]["code"] for e in refused["errors"]} <= {"FORBIDDEN", "PLATFORM_NOT_JOINED"}
    if audit_query:
        log = await call(f"{{ {audit_query} }}", principal=OPERATOR)
        assert log["data"] is None and log["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_operators_of_this_platform_read_operations(subgraph, call):
    others = [resident_principal(TARO), staff_principal(next(s for s in STAFF if "audit:read" in s.scopes)),
              make_principal("kyodo-operator", None, ("operator",), ("ops:elsewhere",)),
              make_principal("kyodo-vendor", None, ("vendor",), (f"ops:{subgraph}",))]
    for principal in others:
        body = await call(_ops(subgraph), principal=principal)
        assert body["data"] == {f"{subgraph}Operations": None}, principal
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await call(_ops(subgraph))
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_operator_sees_a_broken_audit_chain_by_id_only(subgraph, call, database_url):
    from sqlalchemy import update

    from subgraphs.common.audit import AuditRecord
    from subgraphs.common.db import Database

    typename, person, fields, _ = PERSONAL[subgraph]
    reader = resident_principal(by_label("ono-1/takuya") if subgraph == "safety" else TARO)
    entity = f'query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on {typename} {{ {fields} }} }} }}'
    await call(entity, {"r": [{"__typename": typename, "id": person}]}, principal=reader)
    database = Database(subgraph, database_url)
    try:
        async with database.transaction() as session:
            await session.execute(update(AuditRecord).where(AuditRecord.id == 1).values(purpose="edited"))
    finally:
        await database.dispose()
    body = await call(f"{{ {subgraph}Operations {{ auditVerification {{ intact brokenRecordIds }} }} }}",
                      principal=OPERATOR)
    assert body["data"][f"{subgraph}Operations"]["auditVerification"] == {"intact": False, "brokenRecordIds": [1]}
    assert "edited" not in str(body)
