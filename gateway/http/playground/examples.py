"""The playground's first tabs: one example operation per kind of caller, against the kyodo supergraph.

They open when a browser has no GraphiQL tabs stored yet. tests/gateway_http/test_playground_examples.py
validates every one against the composed schema, so a renamed field fails a test, not a front-end developer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    title: str     # also the operation name, which GraphiQL shows as the tab's title
    query: str


OPEN_DATA = Example("OpenData", '''# Open data: no sign-in needed. Shelters (Kakogawa), AEDs with pediatric pads, the member cities.
query OpenData {
  shelters(municipalityCode: "282103", openOnly: false, limit: 5) {
    id
    name
    hazards { flood earthquake }
    occupancy { persons }
  }
  aeds(municipalityCode: "282103", pediatricOnly: true, limit: 5) { id name locationInFacility }
  municipalities { code name }
}
''')

GUARDIAN = Example("GuardianAcrossCities", '''# A guardian's view across four cities' platforms in one request: identity (Yabu) knows the
# resident, childcare (Himeji) the children's vaccinations, currency (Kasai) the points.
# Press "Sign in" and choose 山田 太郎 (dev password kyodo-dev), or: kyodo token --resident r-258f70da9558
query GuardianAcrossCities {
  me {
    name
    municipality { name }
    children {
      birthDate
      nextVaccinations(asOf: "2026-11-26") { label earliest deadline }
    }
    pointAccount { balance }
  }
}
''')

STAFF = Example("KakogawaSafetyStaff", '''# Staff of Kakogawa's safety section: live shelter occupancy and watch-over counts (no personal data).
# Sign in as 岡田 浩 (s-3830e96b16fc), or: kyodo token --staff s-3830e96b16fc
query KakogawaSafetyStaff {
  shelters(municipalityCode: "282103", openOnly: true) {
    name
    occupancy { persons households personsWithCareNeeds pets }
  }
  watchTagStats(municipalityCode: "282103", hours: 24) { registeredTags activeTags detections }
}
''')

VENDOR = Example("VendorMerchants", '''# A partner vendor's back-end (client credentials; client id kyodo-vendor). Get a token with
#   kyodo token --vendor
# and put {"Authorization": "Bearer <token>"} in the Headers tab below. A vendor reads open data;
# personal fields answer null with an error at their path.
query VendorMerchants {
  merchants(municipalityCode: "282201") { id name category active }
  earningRules { code name points expiry }
}
''')

EXAMPLES: tuple[Example, ...] = (OPEN_DATA, GUARDIAN, STAFF, VENDOR)


def default_tabs() -> list[dict[str, str]]:
    """GraphiQL's `defaultTabs` prop."""
    return [{"query": example.query} for example in EXAMPLES]
