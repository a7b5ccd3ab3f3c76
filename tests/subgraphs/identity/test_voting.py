"""Early-voting declaration pilot: inside the window only, one per eligible voter, identity kept apart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import inspect, select

from subgraphs.common.audit import AuditRecord
from subgraphs.common.roster import STAFF, by_label
from subgraphs.identity.clock import today_in_japan
from subgraphs.identity.models import Election, VotingDeclaration, VotingParticipation
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal

DECLARE = """mutation($e: ID!, $r: VotingReason!) { declareEarlyVoting(electionId: $e, reason: $r) {
  electionId declaredOn } }"""
OSAMU, MEI = by_label("yabu-1/osamu"), by_label("yabu-1/mei")
ELECTION_ADMIN = next(s for s in STAFF if "voting:admin" in s.scopes)


async def _add_election(database, election_id: str, announced_delta: int, day_delta: int) -> None:  # noqa: ANN001
    today = today_in_japan()
    async with database.transaction() as session:
        session.add(Election(id=election_id, name="テスト選挙", municipality_code="282227",
                             announced_on=today + timedelta(days=announced_delta),
                             election_day=today + timedelta(days=day_delta)))


async def test_one_declaration_per_voter_inside_the_window(call, identity_db):
    await _add_election(identity_db, "open-now", -1, 1)   # today is the first and last day of the window
    me = resident_principal(OSAMU)
    first = await call(DECLARE, {"e": "open-now", "r": "WORK"}, principal=me)
    assert first["data"]["declareEarlyVoting"] == {"electionId": "open-now", "declaredOn": today_in_japan().isoformat()}
    second = await call(DECLARE, {"e": "open-now", "r": "TRAVEL"}, principal=me)
    assert second["errors"][0]["extensions"]["code"] == "ALREADY_DECLARED"
    tally = await call('{ earlyVotingTally(electionId: "open-now") { total byReason { reason count } } }',
                       principal=staff_principal(ELECTION_ADMIN))
    assert tally["data"]["earlyVotingTally"] == {"total": 1, "byReason": [{"reason": "WORK", "count": 1}]}


async def test_concurrent_declarations_by_one_voter_count_once(call, identity_db):
    await _add_election(identity_db, "race", -3, 3)
    me = resident_principal(OSAMU)
    bodies = await asyncio.gather(*(call(DECLARE, {"e": "race", "r": "WORK"}, principal=me) for _ in range(5)))
    assert sum(1 for b in bodies if b.get("data")) == 1
    assert all(b["errors"][0]["extensions"]["code"] == "ALREADY_DECLARED" for b in bodies if not b.get("data"))
    async with identity_db.sessions() as session:
        assert len((await session.execute(select(VotingDeclaration))).scalars().all()) == 1


async def test_outside_the_window_nothing_is_stored(call, identity_db):
    await _add_election(identity_db, "not-yet", 0, 7)    # announced today: window starts tomorrow
    await _add_election(identity_db, "eve", -7, 0)       # election day itself is not in the window
    for election_id in ("not-yet", "eve"):
        body = await call(DECLARE, {"e": election_id, "r": "WORK"}, principal=resident_principal(OSAMU))
        assert body["errors"][0]["extensions"]["code"] == "OUTSIDE_VOTING_WINDOW"
    async with identity_db.sessions() as session:
        assert (await session.execute(select(VotingParticipation))).scalars().all() == []


async def test_only_eligible_voters_with_pin_assurance(call, identity_db):
    await _add_election(identity_db, "open", -2, 2)
    cases = [
        (resident_principal(MEI), "FORBIDDEN"),                                   # an infant
        (resident_principal(by_label("himeji-1/taro")), "FORBIDDEN"),             # not a Yabu resident
        (make_principal(OSAMU.id, "282227", ("resident",), assurance="card-tap"), "FORBIDDEN"),  # no PIN
        (staff_principal(ELECTION_ADMIN), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ]
    for principal, code in cases:
        body = await call(DECLARE, {"e": "open", "r": "WORK"}, principal=principal)
        assert body["errors"][0]["extensions"]["code"] == code, principal
    body = await call(DECLARE, {"e": "no-such-election", "r": "WORK"}, principal=resident_principal(OSAMU))
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await call(DECLARE, {"e": "open", "r": "BRIBE"}, principal=resident_principal(OSAMU))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_who_declared_is_kept_apart_from_what_was_declared(call, identity_db):
    await _add_election(identity_db, "apart", -2, 2)
    await call(DECLARE, {"e": "apart", "r": "ILLNESS"}, principal=resident_principal(OSAMU))
    declaration_columns = {c.name for c in inspect(VotingDeclaration).columns}
    participation_columns = {c.name for c in inspect(VotingParticipation).columns}
    assert "resident_id" not in declaration_columns and "reason" not in participation_columns
    async with identity_db.sessions() as session:
        audit_rows = (await session.execute(select(AuditRecord).where(AuditRecord.subject == OSAMU.id))).scalars().all()
        declaration = (await session.execute(select(VotingDeclaration))).scalar_one()
    assert audit_rows and all("illness" not in (r.fields + r.purpose + r.result).lower() for r in audit_rows)
    assert OSAMU.id not in declaration.id and declaration.reason == "illness"


async def test_the_window_answers_before_the_sign_in_method(call, identity_db):
    """Outside the window a password or card-tap sign-in hears "outside the window", not "use card + PIN"."""
    await _add_election(identity_db, "closed", -9, -2)   # election day was two days ago
    for assurance in ("password", "card-tap", "card-pin"):
        voter = make_principal(OSAMU.id, "282227", ("resident",), assurance=assurance)
        body = await call(DECLARE, {"e": "closed", "r": "WORK"}, principal=voter)
        assert body["errors"][0]["extensions"]["code"] == "OUTSIDE_VOTING_WINDOW", assurance
