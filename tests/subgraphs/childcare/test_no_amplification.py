"""Sixty aliases of `child(id:"<own child>") { guardians { id } }` — the shape that held identity's pool for
30 s — cost childcare one read transaction and one audit transaction, like a single alias (issue 8, item 2)."""

from __future__ import annotations

import pytest

from subgraphs.common.roster import by_label
from tests.subgraphs.conftest import resident_principal
from tests.subgraphs.sql_counter import counting_sql

TARO, HARUTO, REN = by_label("himeji-1/taro"), by_label("himeji-1/haruto"), by_label("himeji-2/ren")



@pytest.fixture(autouse=True)
def no_public_cache(monkeypatch):
    """Count every statement a request makes: nothing may come from the short-lived public cache."""
    monkeypatch.setenv("KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS", "0")


def _aliases(n: int, child_id: str) -> str:
    return "{ %s }" % " ".join(f'c{i}: child(id: "{child_id}") {{ id guardians {{ id }} }}' for i in range(n))


async def test_sixty_aliased_child_reads_cost_what_one_does(call):
    with counting_sql() as one:
        body = await call(_aliases(1, HARUTO.id), principal=resident_principal(TARO))
    assert body["data"]["c0"]["id"] == HARUTO.id
    with counting_sql() as sixty:
        body = await call(_aliases(60, HARUTO.id), principal=resident_principal(TARO))
    assert "errors" not in body, body
    assert {body["data"][f"c{i}"]["id"] for i in range(60)} == {HARUTO.id}
    assert len(sixty.statements) == len(one.statements)
    assert sixty.transactions == one.transactions == 2   # the batched read, the request's audit write
    assert sixty.audit_head_takes == 1


async def test_sixty_refused_child_reads_are_audited_in_one_transaction(call):
    """Another family's child: every alias refused, the refusals written together, none in a side transaction."""
    with counting_sql() as count:
        body = await call(_aliases(60, REN.id), principal=resident_principal(TARO))
    assert body["data"] == {f"c{i}": None for i in range(60)}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"] * 60
    assert count.transactions == 2
    assert count.audit_head_takes == 1
    assert count.most_checked_out <= 2
