"""Leaving a platform: the export window, the all-or-nothing export, the purge after it; audit records stay.

三田市 (282197) joined identity; it leaves, its rows are exported and, once the export window is over, deleted.
Every other municipality's rows and the whole audit log are untouched. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from subgraphs.common import audit
from subgraphs.common.membership_dates import MembershipError, leave
from subgraphs.common.municipality import SANDA
from subgraphs.common.retention import check_export_allowed, purge, read_rows, write_export
from subgraphs.identity.models import Household, Resident
from subgraphs.identity.seed import seed

LEFT_ON = date(2026, 6, 1)


async def _count(session, model, code: str | None = None) -> int:  # noqa: ANN001
    statement = select(func.count()).select_from(model)
    if code is not None:
        statement = statement.where(model.municipality_code == code)
    return int((await session.execute(statement)).scalar_one())


@pytest.fixture
async def identity(migrated_copy):
    async with migrated_copy("identity", seed) as database:
        async with database.transaction() as session:
            await leave(session, "identity", SANDA, LEFT_ON)
            await audit.record(session, "staff", "r-x", ["name"], "a read before leaving", "permitted",
                               subject_municipality=SANDA, subgraph="identity")
        yield database


async def test_the_export_holds_the_municipality_and_nobody_else(identity, tmp_path, monkeypatch):
    monkeypatch.setenv("KYODO_CO_USE_EXPORT_DAYS", "90")
    async with identity.sessions() as session:
        await check_export_allowed(session, "identity", SANDA, today=LEFT_ON + timedelta(days=89))
        with pytest.raises(MembershipError, match="export window"):
            await check_export_allowed(session, "identity", SANDA, today=LEFT_ON + timedelta(days=90))
        rows = await read_rows(session, "identity", SANDA)
    out = write_export(rows, tmp_path / "sanda", platform="identity", code=SANDA)
    residents = [json.loads(line) for line in (out / "identity_resident.jsonl").read_text().splitlines()]
    assert residents and {r["municipality_code"] for r in residents} == {SANDA}
    households = [json.loads(line) for line in (out / "identity_household.jsonl").read_text().splitlines()]
    assert {h["id"] for h in households} == {r["household_id"] for r in residents}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["identity_resident.jsonl"]["rows"] == len(residents)
    assert not any(name.startswith(("audit_", "co_use_")) for name in rows)   # kept, not exported as its data
    with pytest.raises(FileExistsError):                                        # never into an existing directory
        write_export(rows, out, platform="identity", code=SANDA)
    csv_out = write_export(rows, tmp_path / "sanda-csv", platform="identity", code=SANDA, fmt="csv")
    assert (csv_out / "identity_resident.csv").read_text(encoding="utf-8-sig").startswith("id,")


def test_a_failed_export_leaves_nothing_behind(tmp_path):
    rows = {"identity_resident": [{"id": "r-1"}], "identity_household": [{"id": object()}]}   # not JSON
    with pytest.raises(TypeError):
        write_export(rows, tmp_path / "out", platform="identity", code=SANDA)
    assert list(tmp_path.iterdir()) == []


async def test_purge_waits_for_the_window_then_deletes_and_keeps_the_audit(identity, monkeypatch):
    monkeypatch.setenv("KYODO_CO_USE_EXPORT_DAYS", "30")
    async with identity.transaction() as session:
        others_before = await _count(session, Resident) - await _count(session, Resident, SANDA)
        audit_before = await _count(session, audit.AuditRecord)
        with pytest.raises(MembershipError, match="export window lasts until 2026-06-30"):
            await purge(session, "identity", SANDA, today=date(2026, 6, 30))
        with pytest.raises(MembershipError, match="has not left"):
            await purge(session, "identity", "282014", today=date(2027, 1, 1))    # Himeji is still a member
    async with identity.transaction() as session:
        deleted = await purge(session, "identity", SANDA, today=date(2026, 7, 1))
    assert deleted["identity_resident"] >= 1 and deleted["identity_household"] >= 1
    async with identity.sessions() as session:
        assert await _count(session, Resident, SANDA) == 0 and await _count(session, Household, SANDA) == 0
        assert await _count(session, Resident) == others_before
        assert await _count(session, audit.AuditRecord) == audit_before + 1     # kept, plus the purge's own
        assert await audit.verify_chain(session) == []
        last = (await session.execute(select(audit.AuditRecord).order_by(audit.AuditRecord.id.desc()))).scalars().first()
        assert last.subject == f"municipality:{SANDA}" and last.result == "deleted"
