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

# The same person's data asked of each platform directly (root fields of childcare and currency), so that a
# refusal is shown by every owning subgraph, not only by identity's `resident` in front of them.
PER_PLATFORM_QUERY = """
query PerPlatform($residentId: ID!, $childId: ID!, $asOf: Date!, $shelterId: ID!) {
  child(id: $childId) { id birthDate nextVaccinations(asOf: $asOf) { vaccineCode status } }
  pointAccount(residentId: $residentId) { residentId balance }
  shelter(id: $shelterId) { id name }
}
"""
