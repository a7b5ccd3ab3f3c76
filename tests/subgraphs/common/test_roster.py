from __future__ import annotations

from datetime import date

from subgraphs.common.municipality import MUNICIPALITIES, normalize_code
from subgraphs.common.roster import HOUSEHOLDS, PEOPLE_BY_ID, ROSTER, STAFF, by_label, pseudonymous_id


def test_ids_are_unique_stable_and_pseudonymous():
    assert len(PEOPLE_BY_ID) == len(ROSTER)
    assert by_label("himeji-1/taro").id == pseudonymous_id("r", "himeji-1/taro")
    for person in ROSTER:
        assert person.family_name not in person.id and person.id.startswith("r-")


def test_households_and_guardians_are_consistent():
    for household in HOUSEHOLDS:
        assert household.municipality_code in MUNICIPALITIES
        for member_id in household.member_ids:
            member = PEOPLE_BY_ID[member_id]
            assert member.household_id == household.id
            assert member.municipality_code == household.municipality_code
            for guardian_id in member.guardian_ids:
                guardian = PEOPLE_BY_ID[guardian_id]
                assert guardian.household_id == household.id and guardian.age_on(date(2026, 11, 26)) >= 18


def test_roster_has_children_of_the_ages_the_rules_need():
    ages_in_months = sorted((date(2026, 11, 26).year - p.birth_date.year) * 12 + date(2026, 11, 26).month
                            - p.birth_date.month for p in ROSTER if p.guardian_ids)
    assert ages_in_months[0] < 6          # an infant
    assert any(12 <= a < 24 for a in ages_in_months)
    assert any(a >= 11 * 12 for a in ages_in_months)
    assert {p.sex for p in ROSTER} <= {0, 1, 2, 9}


def test_staff_codes_are_valid_and_scopes_name_platforms():
    for member in STAFF:
        assert normalize_code(member.municipality_code) == member.municipality_code
        assert all(":" in scope for scope in member.scopes)
