"""Issue 11 item 8 through the real gateway: early voting in dev.

The dev IdP signs a voter in with card + PIN (acr "card-pin", one level above a tap) and an election
administrator with `voting:admin`; a declaration outside the window hears OUTSIDE_VOTING_WINDOW whatever the
sign-in method.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from auth.idp.card_pin import MAX_WRONG_PINS, tap_card_with_pin
from subgraphs.common.db import Database
from subgraphs.common.roster import STAFF, by_label, demo_card_pin
from subgraphs.identity.clock import today_in_japan
from subgraphs.identity.models import Election
from subgraphs.identity.seed import PILOT_ELECTION
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import demo_card, sign_in_with_pkce, tap_card

VOTER = by_label("yabu-1/osamu")
PIN_LOCK_VICTIM = by_label("yabu-1/naomi")
ELECTION_ADMIN = next(s for s in STAFF if "voting:admin" in s.scopes)
OPEN_ELECTION = "it-open-now"
DECLARE = """mutation($e: ID!) { declareEarlyVoting(electionId: $e, reason: WORK) { electionId declaredOn } }"""
TALLY = """query($e: ID!) { earlyVotingTally(electionId: $e) { total byReason { reason count } } }"""


async def _open_an_election(stack) -> None:  # noqa: ANN001
    """The seeded pilot's window is fixed in the past; add one whose window holds today (Japan time)."""
    database = Database("identity", stack.subgraphs["identity"].database_url)
    try:
        async with database.transaction() as session:
            if await session.get(Election, OPEN_ELECTION) is None:
                today = today_in_japan()
                session.add(Election(id=OPEN_ELECTION, name="統合テスト選挙", municipality_code=VOTER.municipality_code,
                                     announced_on=today - timedelta(days=2), election_day=today + timedelta(days=2)))
    finally:
        await database.dispose()


async def _card_pin_token(stack, person, pin: str) -> httpx.Response:  # noqa: ANN001
    async with httpx.AsyncClient(timeout=15) as client:
        return await tap_card_with_pin(client, stack.idp_url, demo_card(stack.idp_app, person.id), pin)


def _codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_card_pin_voter_declares_and_election_staff_read_the_tally(stack):
    await _open_an_election(stack)
    response = await _card_pin_token(stack, VOTER, demo_card_pin(VOTER.id))
    assert response.status_code == 200, response.text
    declared = (await post_graphql(stack.graphql_url, DECLARE, {"e": OPEN_ELECTION},
                                   token=response.json()["access_token"])).json()
    assert declared["data"]["declareEarlyVoting"] == {"electionId": OPEN_ELECTION,
                                                      "declaredOn": today_in_japan().isoformat()}, declared

    staff_token = await sign_in_with_pkce(stack.idp_url, ELECTION_ADMIN.id, scope="openid voting:admin")
    tally = (await post_graphql(stack.graphql_url, TALLY, {"e": OPEN_ELECTION}, token=staff_token)).json()
    assert tally["data"]["earlyVotingTally"] == {"total": 1, "byReason": [{"reason": "WORK", "count": 1}]}, tally

    # a resident token (even card + PIN) does not open the tally
    voter_tally = (await post_graphql(stack.graphql_url, TALLY, {"e": OPEN_ELECTION},
                                      token=response.json()["access_token"])).json()
    assert voter_tally["data"] is None or voter_tally["data"]["earlyVotingTally"] is None
    # refused at the edge: the tally declares @requiresScopes(voting:admin), so identity is never asked
    assert _codes(voter_tally) == ["UNAUTHORIZED_FIELD_OR_TYPE"]


async def test_a_tap_without_pin_is_not_enough_inside_the_window(stack):
    await _open_an_election(stack)
    token = await tap_card(stack.idp_url, demo_card(stack.idp_app, VOTER.id))
    body = (await post_graphql(stack.graphql_url, DECLARE, {"e": OPEN_ELECTION}, token=token)).json()
    assert _codes(body) == ["FORBIDDEN"] and "card + PIN" in body["errors"][0]["message"]


async def test_outside_the_window_every_sign_in_hears_outside_voting_window(stack):
    assert not (PILOT_ELECTION.announced_on < today_in_japan() < PILOT_ELECTION.election_day)  # seeded, now past
    tokens = {
        "password": await sign_in_with_pkce(stack.idp_url, VOTER.id),
        "card-tap": await tap_card(stack.idp_url, demo_card(stack.idp_app, VOTER.id)),
        "card-pin": (await _card_pin_token(stack, VOTER, demo_card_pin(VOTER.id))).json()["access_token"],
    }
    for method, token in tokens.items():
        body = (await post_graphql(stack.graphql_url, DECLARE, {"e": PILOT_ELECTION.id}, token=token)).json()
        assert _codes(body) == ["OUTSIDE_VOTING_WINDOW"], (method, body)


async def test_wrong_pins_are_refused_and_lock_the_card(stack):
    right = demo_card_pin(PIN_LOCK_VICTIM.id)
    wrong = f"{(int(right) + 1) % 10000:04d}"
    malformed = await _card_pin_token(stack, PIN_LOCK_VICTIM, "12ab")
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_request"
    for attempt in range(MAX_WRONG_PINS):
        refused = await _card_pin_token(stack, PIN_LOCK_VICTIM, wrong)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", attempt
    locked = await _card_pin_token(stack, PIN_LOCK_VICTIM, right)
    assert locked.status_code == 400 and "locked" in locked.json()["error_description"]
