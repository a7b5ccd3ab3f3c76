"""Joining and leaving a platform with an effective date: refusals say why, the home city stays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kyodo.cli import main
from subgraphs.common import co_use
from subgraphs.common.errors import PlatformNotJoined
from subgraphs.common.membership_dates import MembershipError, join, leave, today_in_japan

HIMEJI, KAKOGAWA, TAKA = "282014", "282103", "283657"


async def test_join_leave_and_join_again_with_effective_days(common_db):
    today = today_in_japan()
    async with common_db.transaction() as session:
        await co_use.seed_memberships(session)
        await join(session, "childcare", TAKA, today + timedelta(days=10))
    async with common_db.sessions() as session:
        assert not await co_use.joined(session, "childcare", TAKA)
        assert await co_use.joined(session, "childcare", TAKA, on=today + timedelta(days=10))
        with pytest.raises(PlatformNotJoined) as early:
            await co_use.ensure_joined(session, "childcare", TAKA)
        assert "多可町 joins the childcare platform on" in early.value.message
        assert early.value.extensions["joinsOn"] == (today + timedelta(days=10)).isoformat()

    async with common_db.transaction() as session:
        await leave(session, "childcare", KAKOGAWA, today)
    async with common_db.sessions() as session:
        with pytest.raises(PlatformNotJoined) as left:
            await co_use.ensure_joined(session, "childcare", KAKOGAWA)
        assert left.value.message == f"加古川市 left the childcare platform on {today.isoformat()}"
        assert KAKOGAWA not in await co_use.members(session, "childcare")
        assert await co_use.joined(session, "childcare", KAKOGAWA, on=today - timedelta(days=1))
    async with common_db.transaction() as session:
        with pytest.raises(MembershipError):
            await join(session, "childcare", KAKOGAWA, today - timedelta(days=1))    # before it left
        await join(session, "childcare", KAKOGAWA, today)
    async with common_db.sessions() as session:
        await co_use.ensure_joined(session, "childcare", KAKOGAWA)


async def test_refused_changes(common_db):
    async with common_db.transaction() as session:
        await co_use.seed_memberships(session)
    cases = [
        (leave, "childcare", HIMEJI, "home city"),                 # Himeji built childcare
        (leave, "childcare", TAKA, "not a member"),
        (join, "childcare", HIMEJI, "already a member"),
        (join, "parking", TAKA, "unknown platform"),
        (join, "childcare", "999999", "unknown municipality"),
        (leave, "childcare", KAKOGAWA, "leave after"),             # on the day it joined
    ]
    for action, platform, code, message in cases:
        day = co_use.SEED_JOINED_ON if message == "leave after" else today_in_japan()
        async with common_db.transaction() as session:
            with pytest.raises(MembershipError, match=message):
                await action(session, platform, code, day)


def test_kyodo_co_use_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KYODO_SAFETY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'safety.sqlite'}")
    assert main(["co-use", "join", "safety", "28365", "--on", "2026-04-01"]) == 0    # 5-digit form accepted
    assert "283657 多可町" in capsys.readouterr().out
    assert main(["co-use", "leave", "safety", "283657", "--on", "2026-05-01"]) == 0
    assert main(["co-use", "list", "safety"]) == 0
    out = capsys.readouterr().out
    assert "left" in out and "until 2026-05-01" in out
    assert main(["co-use", "leave", "safety", "283657"]) == 1
    assert "not a member" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["co-use", "join", "safety", "123"])
