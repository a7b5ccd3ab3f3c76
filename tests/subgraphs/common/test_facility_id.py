from __future__ import annotations

import pytest

from subgraphs.common.errors import BadUserInput
from subgraphs.common.facility_id import (
    FacilityId, InvalidFacilityId, facility_id_argument, is_facility_id, parse_facility_id,
)

WELL_FORMED = ["282103:S001", "282103:0001", "282014:保育所-12", "283827:" + "x" * 72]
MALFORMED = [
    "bad", "", ":S001", "282103:", "282103", "28210:S001",       # no code / no local id / 5-digit form
    "282104:S001", "999999:S001", "2821O3:S001", "２８２１０３:S001",  # check digit, prefecture, not ASCII digits
    " 282103:S001", "282103:S001 ", "282103: S001", "282103:S:001",  # spaces, a second ':'
    "282103:S\n001", "282103:" + "x" * 73,
]


@pytest.mark.parametrize("value", WELL_FORMED)
def test_well_formed_ids_parse(value):
    parsed = parse_facility_id(value)
    assert str(parsed) == value and is_facility_id(value)
    assert parsed == FacilityId(value.split(":")[0], value.split(":", 1)[1])
    assert facility_id_argument(value) == value


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_ids_are_refused(value):
    assert not is_facility_id(value)
    with pytest.raises(InvalidFacilityId):
        parse_facility_id(value)
    with pytest.raises(BadUserInput) as raised:
        facility_id_argument(value, field="shelterId")
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "field": "shelterId"}


def test_not_text_is_refused():
    assert not is_facility_id(282103)
