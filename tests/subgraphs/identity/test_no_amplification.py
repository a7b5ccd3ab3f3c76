"""One heavy request costs the database a fixed amount of work, not work per reference (issue 8, item 2):
an `_entities` batch is one query for residents and one for guardians, every read and refusal of a request is
audited in one transaction, a request never holds more than its share of the pool, and an oversized batch is
refused before any query. Counted through SQLAlchemy's event hooks (tests/subgraphs/sql_counter.py)."""

from __future__ import annotations

import pytest

from sqlalchemy import func, select

from subgraphs.common.audit import AuditRecord
from subgraphs.common.roster import ROSTER, by_label
from tests.subgraphs.conftest import graphql_caller, resident_principal
from tests.subgraphs.sql_counter import counting_sql

TARO, HANAKO, HARUTO = by_label("himeji-1/taro"), by_label("himeji-1/hanako"), by_label("himeji-1/haruto")
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id name } } }"



@pytest.fixture(autouse=True)
def no_public_cache(monkeypatch):
    """Count every statement a request makes: nothing may come from the short-lived public cache."""
    monkeypatch.setenv("KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS", "0")


def _reps(people) -> dict:  # noqa: ANN001
    return {"r": [{"__typename": "Resident", "id": p.id} for p in people]}


async def _audit_count(identity_db) -> int:  # noqa: ANN001
    async with identity_db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one()


async def test_an_entities_batch_costs_the_same_queries_as_one_reference(call, identity_db):
    """100 representations (every roster resident, repeated): Taro may see himself and his children only."""
    hundred = [ROSTER[i % len(ROSTER)] for i in range(100)]
    with counting_sql() as one:
        body = await call(ENTITIES, _reps([HARUTO]), principal=resident_principal(TARO))
    assert body["data"]["_entities"] == [{"id": HARUTO.id, "name": HARUTO.name}]
    before = await _audit_count(identity_db)
    with counting_sql() as many:
        body = await call(ENTITIES, _reps(hundred), principal=resident_principal(TARO))
    answers = body["data"]["_entities"]
    assert len(answers) == 100
    assert {a["id"] for a in answers if a["name"] is not None} == {TARO.id, HARUTO.id, by_label("himeji-1/yui").id}
    # the same statements whatever the batch size: no query per representation
    assert len(many.statements) == len(one.statements)
    assert many.selects_from("identity_resident") == 1 and many.selects_from("identity_guardianship") == 1
    # every distinct resident read or refused is audited, all in one take of the chain head
    assert many.audit_head_takes == 1
    assert await _audit_count(identity_db) - before == len(ROSTER)


async def test_refused_co_guardians_share_one_audit_transaction(call, identity_db):
    """What 60 aliases of `child { guardians { name } }` send identity: refused co-guardians in one batch."""
    others = [p for p in ROSTER if p.id not in (TARO.id, HARUTO.id, by_label("himeji-1/yui").id)]
    with counting_sql() as count:
        body = await call(ENTITIES, _reps(others), principal=resident_principal(TARO))
    assert all(a["name"] is None for a in body["data"]["_entities"])
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert count.audit_head_takes == 1
    assert count.transactions == 2   # the batch's read, the request's audit write
    assert count.most_checked_out <= 2


async def test_a_request_holds_no_more_than_its_share_of_the_pool(call):
    """60 aliases each opening a transaction (a household lookup) queue for the request's two connections
    instead of taking the pool from everyone else."""
    aliases = " ".join(f"m{i}: me {{ household {{ address }} }}" for i in range(60))
    with counting_sql() as count:
        body = await call("{ %s }" % aliases, principal=resident_principal(TARO))
    assert "errors" not in body, body
    assert {body["data"][f"m{i}"]["household"]["address"] for i in range(60)} == {"白浜町"}
    assert count.most_checked_out <= 2
    assert count.audit_head_takes == 1


async def test_an_oversized_entities_batch_is_refused_before_any_query(identity_db, gateway_jwks, mint_context,
                                                                       monkeypatch):
    monkeypatch.setenv("KYODO_SUBGRAPH_MAX_ENTITIES", "5")
    async with graphql_caller("identity", identity_db, gateway_jwks, mint_context) as call:
        with counting_sql() as count:
            body = await call(ENTITIES, _reps(ROSTER[:6]), principal=resident_principal(TARO))
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "ENTITIES_BATCH_TOO_LARGE", "limit": 5, "received": 6}
        assert count.statements == []
        body = await call(ENTITIES, _reps(ROSTER[:5]), principal=resident_principal(TARO))
        assert len(body["data"]["_entities"]) == 5


async def test_personal_data_is_withheld_when_its_audit_record_cannot_be_written(call, monkeypatch):
    from subgraphs.common import audit

    async def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(audit, "record_many_at_head", broken)
    body = await call("{ me { name } }", principal=resident_principal(TARO))
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AUDIT_UNAVAILABLE"]
    assert TARO.name not in str(body)
