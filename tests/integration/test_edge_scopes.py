"""Issue 10, finding 12: scope rules declared in the subgraph SDLs (@requiresScopes / @authenticated) are composed
into the supergraph, and the gateway refuses such a field at the edge: the subgraph is never called. The
subgraphs' own checks stay as the second line (tests/subgraphs)."""

from __future__ import annotations

import re

import pytest

from subgraphs.common.municipality import KAKOGAWA
from subgraphs.common.roster import STAFF, by_label
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce

STATS = '{ watchTagStats(municipalityCode: "282103", hours: 24) { registeredTags } }'
TALLY = '{ earlyVotingTally(electionId: "e-none") { total } }'
REGISTER_CHILD = """mutation { registerChild(input: {childId: "r-edge-0001", municipalityCode: "282014",
  birthDate: "2026-10-01", sex: 1, guardianIds: []}) { id } }"""
OPEN_SHELTER = 'mutation { openShelter(id: "282103:S002") { id } }'
SAFETY_STAFF = next(s for s in STAFF if s.municipality_code == KAKOGAWA and "safety:read" in s.scopes)


def test_the_supergraph_carries_the_scope_rules(stack):
    sdl = stack.supergraph_sdl
    for field, scope in (("watchTagStats", "safety:read"), ("openShelter", "safety:write"),
                         ("registerChild", "childcare:write"), ("earlyVotingTally", "voting:admin"),
                         ("registerWatchApp", "safety:report")):
        # (the grant relay's identity:grant-relay operations are @inaccessible: tests/integration/test_grant_relay.py)
        line = next(line for line in sdl.splitlines() if re.match(rf"\s*{field}\b[(:]", line))
        assert "@requiresScopes" in line and f'"{scope}"' in line, line


@pytest.mark.parametrize("query, subgraph", [
    (STATS, "safety"), (OPEN_SHELTER, "safety"), (REGISTER_CHILD, "childcare"), (TALLY, "identity")])
async def test_a_field_without_its_scope_never_reaches_the_subgraph(stack, query, subgraph):
    token = await sign_in_with_pkce(stack.idp_url, by_label("kakogawa-1/makoto").id)   # a resident: no scopes
    mark = stack.calls_mark()
    body = (await post_graphql(stack.graphql_url, query, token=token)).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE", body
    assert stack.calls_since(mark)[subgraph] == []
    anonymous = (await post_graphql(stack.graphql_url, query)).json()
    assert anonymous["errors"][0]["extensions"]["code"] in ("UNAUTHORIZED_FIELD_OR_TYPE", "UNAUTHENTICATED")
    assert stack.calls_since(mark)[subgraph] == []


async def test_the_scope_holder_gets_through_and_the_subgraph_still_checks(stack):
    token = await sign_in_with_pkce(stack.idp_url, SAFETY_STAFF.id, scope="openid safety:read")
    mark = stack.calls_mark()
    body = (await post_graphql(stack.graphql_url, STATS, token=token)).json()
    assert "errors" not in body and body["data"]["watchTagStats"]["registeredTags"] >= 1
    assert len(stack.calls_since(mark)["safety"]) == 1
    # the scope passes the edge, but the municipality rule is the subgraph's: another city's counts are refused
    other = (await post_graphql(stack.graphql_url, STATS.replace("282103", "282014"), token=token)).json()
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
