"""The early-voting declaration pilot (期日前投票宣誓).

Declarations are accepted only from the day after 公示/告示 to the day before election day (Japan time),
one per eligible person (a resident of the election's municipality, 18 or older on election day), after a
card + PIN sign-in. Who declared and what was declared live in two tables with nothing linking them: the
participation row has no reason, the declaration row has a random id, no resident and only the date.
The audit record names the act, never the reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.context import RequestContext
from subgraphs.common.errors import BadUserInput, Forbidden, KyodoError, NotFound

from .access import authorize, check_id, load_resident, require_principal
from .clock import today_in_japan
from .models import Election, Resident, VotingDeclaration, VotingParticipation

VOTING_AGE = 18
# 期日前投票の事由 (公職選挙法第48条の2), as short codes.
REASONS = ("work", "travel", "illness", "care", "moving", "weather", "other")
OUTSIDE_WINDOW = "OUTSIDE_VOTING_WINDOW"
ALREADY_DECLARED = "ALREADY_DECLARED"


def window(election: Election) -> tuple[date, date]:
    return election.announced_on + timedelta(days=1), election.election_day - timedelta(days=1)


def is_open(election: Election, today: date | None = None) -> bool:
    start, end = window(election)
    return start <= (today or today_in_japan()) <= end


def age_on(resident: Resident, day: date) -> int:
    born = resident.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


async def load_election(session: AsyncSession, election_id: str) -> Election:
    election = await session.get(Election, check_id(election_id, "election id"))
    if election is None:
        raise NotFound("no such election")
    return election


@dataclass(frozen=True)
class Receipt:
    election_id: str
    declared_on: date


async def declare(ctx: RequestContext, session: AsyncSession, election_id: str, reason: str,
                  today: date | None = None) -> Receipt:
    if reason not in REASONS:
        raise BadUserInput(f"reason must be one of {list(REASONS)}", field="reason")
    principal = require_principal(ctx)
    # The window is public (Query.elections), so it answers first: a voter told "sign in with card + PIN"
    # outside the window would do so for nothing.
    election = await load_election(session, election_id)
    today = today or today_in_japan()
    if not is_open(election, today):
        start, end = window(election)
        raise KyodoError(f"declarations for this election are accepted from {start} to {end}", OUTSIDE_WINDOW)
    if "resident" not in principal.roles:
        raise Forbidden("only a voter declares, for themselves")
    if principal.assurance != "card-pin":
        raise Forbidden("an early-voting declaration needs a card + PIN sign-in", needed="card-pin")
    resident = await load_resident(session, principal.subject)
    if resident.municipality_code != election.municipality_code or age_on(resident, election.election_day) < VOTING_AGE:
        raise Forbidden("not eligible to vote in this election")
    await authorize(ctx, session, resident, fields=["earlyVotingDeclaration"],
                    purpose=f"early-voting declaration {election.id}", write=True)
    already = await session.get(VotingParticipation, (election.id, resident.id))
    if already is not None:
        raise KyodoError("you have already declared for this election", ALREADY_DECLARED)
    session.add(VotingParticipation(election_id=election.id, resident_id=resident.id, declared_on=today))
    session.add(VotingDeclaration(id=uuid.uuid4().hex, election_id=election.id, reason=reason, declared_on=today))
    try:
        await session.flush()
    except IntegrityError:  # a concurrent declaration by the same person won the race
        raise KyodoError("you have already declared for this election", ALREADY_DECLARED) from None
    return Receipt(election.id, today)


async def has_declared(session: AsyncSession, election_id: str, resident_id: str) -> bool:
    return await session.get(VotingParticipation, (election_id, resident_id)) is not None


@dataclass(frozen=True)
class Tally:
    election_id: str
    total: int
    by_reason: dict[str, int]


async def tally(ctx: RequestContext, session: AsyncSession, election_id: str) -> Tally:
    """Counts for the election administration (staff with `voting:admin` of the election's municipality)."""
    principal = require_principal(ctx)
    election = await load_election(session, election_id)
    if "staff" not in principal.roles or "voting:admin" not in principal.scopes \
            or principal.municipality != election.municipality_code:
        raise Forbidden("the tally is open to the election administration of this municipality")
    rows = await session.execute(select(VotingDeclaration.reason, func.count()).where(
        VotingDeclaration.election_id == election.id).group_by(VotingDeclaration.reason))
    by_reason = {reason: int(count) for reason, count in rows.all()}
    return Tally(election.id, sum(by_reason.values()), by_reason)
