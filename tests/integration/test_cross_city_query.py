"""Issue 3: the cross-city query through the real gateway, in one request, with a guardian's real token."""

from __future__ import annotations

from datetime import date

from subgraphs.common.municipality import KAKOGAWA, MUNICIPALITIES
from tests.integration.cross_city import CROSS_CITY_QUERY
from tests.integration.expectations import (
    expected_balance, expected_children, expected_occupancy, seeded_shelters,
)
from tests.integration.gateway_client import post_graphql

AS_OF = date(2026, 11, 26)


def cross_city_variables(resident_id: str) -> dict:
    return {"residentId": resident_id, "asOf": AS_OF.isoformat(), "shelterCity": KAKOGAWA}


async def test_card_tap_checks_the_household_in_through_the_gateway(checked_in):
    body = checked_in.response
    assert "errors" not in body, body
    stays = body["data"]["shelterCheckIn"]
    assert sorted(s["residentId"] for s in stays) == sorted(m.id for m in checked_in.members)
    assert {s["householdId"] for s in stays} == {checked_in.members[0].household_id}
    assert {s["shelter"]["id"] for s in stays} == {checked_in.shelter_id}


async def test_guardian_reads_four_cities_in_one_request(stack, guardian, guardian_token, checked_in):
    mark = stack.calls_mark()
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=guardian_token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    resident = body["data"]["resident"]

    # identity (Yabu)
    assert resident["id"] == guardian.id
    assert resident["name"] == guardian.name
    assert resident["municipality"] == {"code": guardian.municipality_code,
                                        "name": MUNICIPALITIES[guardian.municipality_code].name}

    # childcare (Himeji), each child's name through identity again
    children = {child["id"]: child for child in resident["children"]}
    expected = expected_children(guardian, AS_OF)
    assert set(children) == set(expected) and len(resident["children"]) == len(expected) == 2
    for child_id, want in expected.items():
        got = children[child_id]
        assert got["birthDate"] == want["birthDate"]
        assert got["resident"] == want["resident"]
        assert got["nextVaccinations"] == want["nextVaccinations"], child_id
        assert any(dose["status"] == "DUE" for dose in got["nextVaccinations"])  # something is due now

    # currency (Kasai)
    assert resident["pointAccount"] == {"balance": expected_balance(guardian)}

    # identity's stay + safety's shelter (Kakogawa) + identity's live occupancy on it
    stay = resident["currentShelterStay"]
    assert stay["pets"] == checked_in.pets
    assert stay["careNeeds"] == checked_in.care_needs
    shelter = stay["shelter"]
    seeded = seeded_shelters()[checked_in.shelter_id]
    assert shelter["id"] == seeded.id
    assert shelter["name"] == seeded.name
    assert shelter["municipalityName"] == seeded.municipality_name == "加古川市"
    assert shelter["isOpen"] is seeded.is_open is True
    assert shelter["hazards"] == seeded.hazards
    assert shelter["occupancy"] == expected_occupancy(checked_in.members, checked_in.care_needs, checked_in.pets)

    # open data beside it (safety)
    open_kakogawa = sorted((s.id, s.name) for s in seeded_shelters().values()
                           if s.is_open and s.id.startswith(KAKOGAWA + ":"))
    assert sorted((s["id"], s["name"]) for s in body["data"]["shelters"]) == open_kakogawa
    assert all(s["isOpen"] for s in body["data"]["shelters"])

    # one client request fanned out to all four subgraphs, each vouched for by a context token
    calls = stack.calls_since(mark)
    assert all(calls[name] for name in ("childcare", "currency", "identity", "safety")), calls
    assert all(call.has_context for received in calls.values() for call in received)
