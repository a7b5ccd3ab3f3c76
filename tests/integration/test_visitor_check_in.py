"""Issue 11 item 3 through the real gateway: a non-resident checks in at a Kakogawa shelter from the card's basic
information; the shelter's occupancy counts them; only Kakogawa's shelter staff see who they are."""

from __future__ import annotations

from subgraphs.common.municipality import HIMEJI, KAKOGAWA
from subgraphs.common.roster import STAFF
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce

SHELTER = f"{KAKOGAWA}:S008"        # opened by the seeded flood watch; the other integration tests use S001
SHELTER_STAFF = next(s for s in STAFF if s.municipality_code == KAKOGAWA and "safety:write" in s.scopes)
OTHER_CITY_STAFF = next(s for s in STAFF if s.municipality_code == HIMEJI and "identity:read" in s.scopes)
VISITOR = {"name": "大西 聡", "address": "兵庫県明石市大久保町1丁目2番3号", "birthDate": "1980-06-01", "sex": 1}

CHECK_IN = """mutation($i: VisitorCheckInInput!) { shelterVisitorCheckIn(input: $i) { name partyId cardHolder } }"""
SHELTER_VIEW = """query($s: ID!) { shelterVisitors(shelterId: $s) { name address birthDate sex } }"""
OCCUPANCY = """query($c: String!) { shelters(municipalityCode: $c, openOnly: true) { id occupancy { persons households } } }"""


async def _occupancy(stack, token: str) -> dict:  # noqa: ANN001
    # Asked as staff: an anonymous answer may come from the public response cache (occupancy: 5 s).
    body = (await post_graphql(stack.graphql_url, OCCUPANCY, {"c": KAKOGAWA}, token=token)).json()
    return next(s["occupancy"] for s in body["data"]["shelters"] if s["id"] == SHELTER)


async def test_visitor_check_in_counts_and_stays_with_the_shelters_municipality(stack):
    staff_token = await sign_in_with_pkce(stack.idp_url, SHELTER_STAFF.id, scope="openid safety:read safety:write")
    before = await _occupancy(stack, staff_token)
    response = await post_graphql(stack.graphql_url, CHECK_IN, {"i": {
        "shelterId": SHELTER, "certificateSerial": "0a1b2c3d4e5f6071", "holder": VISITOR,
        "children": [{"name": "大西 陸", "birthDate": "2022-03-03", "sex": 1}]}}, token=staff_token)
    body = response.json()
    assert "errors" not in body, body
    assert [v["name"] for v in body["data"]["shelterVisitorCheckIn"]] == ["大西 聡", "大西 陸"]
    assert await _occupancy(stack, staff_token) == {"persons": before["persons"] + 2,
                                                    "households": before["households"] + 1}

    seen = (await post_graphql(stack.graphql_url, SHELTER_VIEW, {"s": SHELTER}, token=staff_token)).json()
    assert seen["data"]["shelterVisitors"][0] == VISITOR

    other = await sign_in_with_pkce(stack.idp_url, OTHER_CITY_STAFF.id, scope="openid identity:read safety:read")
    refused = await post_graphql(stack.graphql_url, SHELTER_VIEW, {"s": SHELTER}, token=other)
    assert "大西" not in refused.text
    assert {e["extensions"]["code"] for e in refused.json()["errors"]} == {"FORBIDDEN"}
    anonymous = await post_graphql(stack.graphql_url, SHELTER_VIEW, {"s": SHELTER})
    assert "大西" not in anonymous.text and anonymous.json()["errors"]
