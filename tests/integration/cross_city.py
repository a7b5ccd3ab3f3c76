"""The cross-city query of issue 3, and the check-in that puts the guardian in a shelter first.

One request reads a Himeji guardian's children with their next-due vaccinations (childcare, Himeji), the
guardian's point balance (currency, Kasai), the shelter they checked into (identity, Yabu) with its hazards
(safety, Kakogawa), and, as open data beside it, the open shelters of Kakogawa.
"""

from __future__ import annotations

CROSS_CITY_QUERY = """
query CrossCity($residentId: ID!, $asOf: Date!, $shelterCity: String!) {
  resident(id: $residentId) {
    id
    name
    municipality { code name }
    children {
      id
      birthDate
      resident { name }
      nextVaccinations(asOf: $asOf) { vaccineCode doseNumber label earliest deadline status }
    }
    pointAccount { balance }
    currentShelterStay {
      pets
      careNeeds
      shelter {
        id
        name
        municipalityName
        isOpen
        hazards { flood landslide stormSurge earthquake tsunami largeFire inlandFlood volcano designated }
        occupancy { persons households personsWithCareNeeds pets }
      }
    }
  }
  shelters(municipalityCode: $shelterCity, openOnly: true) { id name isOpen }
}
"""

CHECK_IN_MUTATION = """
mutation CheckIn($input: ShelterCheckInInput!) {
  shelterCheckIn(input: $input) { residentId householdId shelter { id } }
}
"""

# Personal-data leaves of the query, each owned by one subgraph (for the audit-log checks).
PERSONAL_PATHS = {
    "identity": ("resident",),
    "childcare": ("resident", "children"),
    "currency": ("resident", "pointAccount"),
}
