from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update

from subgraphs.common import audit
from subgraphs.common.audit import AuditRecord
from subgraphs.common.errors import Forbidden
from tests.subgraphs.conftest import make_principal

HIMEJI, KASAI = "282014", "282201"


async def _write(database, count: int, municipality: str = HIMEJI) -> None:
    staff = make_principal("s-test", municipality, ("staff",), ("childcare:read",))
    for n in range(count):
        async with database.transaction() as session:
            await audit.record(session, staff, f"r-{n}", ["name", "birthDate"], "checkup follow-up", "permitted",
                               subject_municipality=municipality, subgraph="childcare")


async def test_intact_chain_verifies(common_db):
    await _write(common_db, 5)
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == []
        records = (await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars().all()
    assert [r.id for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == audit.GENESIS_HASH
    assert all(records[i].prev_hash == records[i - 1].hash for i in range(1, 5))
    assert records[2].fields == '["birthDate", "name"]' and records[2].actor == "s-test"


async def test_editing_a_record_is_detected_and_named(common_db):
    await _write(common_db, 5)
    async with common_db.transaction() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.id == 3).values(result="denied"))
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == [3]


async def test_editing_and_recomputing_the_hash_is_still_named(common_db):
    await _write(common_db, 4)
    async with common_db.transaction() as session:
        entry = await session.get(AuditRecord, 2)
        entry.subject = "r-someone-else"
        entry.hash = audit.compute_hash({name: getattr(entry, name) for name in audit.HASHED_COLUMNS})
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == [2]


async def test_deleting_a_record_is_detected_and_named(common_db):
    await _write(common_db, 5)
    async with common_db.transaction() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.id == 2))
    async with common_db.sessions() as session:
        breaks = await audit.find_breaks(session)
    assert [(b.record_id, b.reason) for b in breaks] == [(2, "deleted")]


async def test_deleting_the_last_record_is_detected(common_db):
    await _write(common_db, 3)
    async with common_db.transaction() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.id == 3))
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == [3]


async def test_a_rolled_back_transaction_leaves_no_gap(common_db):
    await _write(common_db, 2)
    with pytest.raises(RuntimeError):
        async with common_db.transaction() as session:
            await audit.record(session, None, "r-x", ["name"], "lookup", "permitted")
            raise RuntimeError("business write failed")
    await _write(common_db, 1)
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == []
        assert (await session.execute(select(AuditRecord.id).order_by(AuditRecord.id))).scalars().all() == [1, 2, 3]


async def test_concurrent_writers_never_fork_the_chain(common_db):
    await asyncio.gather(*(_write(common_db, 3) for _ in range(8)))
    async with common_db.sessions() as session:
        assert await audit.verify_chain(session) == []
        ids = (await session.execute(select(AuditRecord.id).order_by(AuditRecord.id))).scalars().all()
    assert ids == list(range(1, 25))


async def test_staff_query_their_own_municipality_only(common_db):
    await _write(common_db, 2, HIMEJI)
    await _write(common_db, 3, KASAI)
    himeji_staff = make_principal("s-h", HIMEJI, ("staff",), ("childcare:audit",))
    async with common_db.sessions() as session:
        rows = await audit.query_log(session, himeji_staff, "childcare")
        assert len(rows) == 2 and {r.subject_municipality for r in rows} == {HIMEJI}
        for who in (make_principal("s-h", HIMEJI, ("staff",), ("childcare:read",)),
                    make_principal("s-h", HIMEJI, ("staff",), ("audit:read", "childcare:read")),
                    make_principal("s-h", HIMEJI, ("staff",), ("safety:audit",)),
                    make_principal("r-1", HIMEJI, ("resident",), ("childcare:audit",)), None):
            with pytest.raises(Forbidden):
                await audit.query_log(session, who, "childcare")
