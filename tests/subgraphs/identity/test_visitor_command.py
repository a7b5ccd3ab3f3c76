"""`kyodo visitors purge`: the retention job deletes visitors of shelters closed long enough ago, only those."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from kyodo.cli import main
from subgraphs.common.db import Database
from subgraphs.identity.visitor_models import ShelterClosure, VisitorStay


def _stay(stay_id: str, shelter_id: str, at: datetime) -> VisitorStay:
    return VisitorStay(id=stay_id, shelter_id=shelter_id, shelter_municipality=shelter_id[:6], party_id=stay_id,
                       visitor_key=stay_id * 4, name="大西 聡", address="明石市", birth_date=date(1980, 6, 1), sex=1,
                       card_holder=True, checked_in_at=at, checked_out_at=at + timedelta(hours=5),
                       checkout_reason="closed", recorded_by="device")


async def _arrange(url: str) -> None:
    now = datetime.now(timezone.utc)
    database = Database("identity", url)
    try:
        async with database.transaction() as session:
            session.add(_stay("old", "282103:0001", now - timedelta(days=40)))
            session.add(_stay("recent", "282103:0002", now - timedelta(days=5)))
            session.add(_stay("open", "282103:0003", now - timedelta(days=90)))    # shelter never closed
            session.add(ShelterClosure(shelter_id="282103:0001", shelter_municipality="282103",
                                       closed_at=now - timedelta(days=35), closed_by="s-1"))
            session.add(ShelterClosure(shelter_id="282103:0002", shelter_municipality="282103",
                                       closed_at=now - timedelta(days=4), closed_by="s-1"))
    finally:
        await database.dispose()


async def _remaining(url: str) -> list[str]:
    database = Database("identity", url)
    try:
        async with database.sessions() as session:
            return sorted((await session.execute(select(VisitorStay.id))).scalars())
    finally:
        await database.dispose()


def test_visitors_purge_respects_the_retention_setting(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite'}"
    monkeypatch.setenv("KYODO_IDENTITY_DATABASE_URL", url)
    assert main(["migrate", "identity"]) == 0
    asyncio.run(_arrange(url))
    monkeypatch.setenv("KYODO_VISITOR_RETENTION_DAYS", "30")
    assert main(["visitors", "purge"]) == 0
    assert "deleted 1 visitor stays" in capsys.readouterr().out
    assert asyncio.run(_remaining(url)) == ["open", "recent"]
    assert main(["visitors", "purge", "--retention-days", "3"]) == 0
    assert asyncio.run(_remaining(url)) == ["open"]


def test_visitors_purge_with_a_bad_setting_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KYODO_IDENTITY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite'}")
    monkeypatch.setenv("KYODO_VISITOR_RETENTION_DAYS", "soon")
    assert main(["visitors", "purge"]) == 1
    err = capsys.readouterr().err
    assert "KYODO_VISITOR_RETENTION_DAYS" in err and "Traceback" not in err
