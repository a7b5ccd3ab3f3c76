"""Facility ids `"{code}:{localId}"` (shelters, evacuation spaces, AEDs, sensors, gauges, childcare facilities).

An id is a key, not free text: the code is exactly the stored 6-digit 全国地方公共団体コード with a valid
check digit (the 5-digit CSV form is accepted by the importers, never in an id), the local id is the
open-data "ID" column as the importer stores it: 1-72 printable characters, no ':' and no surrounding spaces.
Anything else is refused as BAD_USER_INPUT; a well-formed id that no one holds is simply unknown.
Well-formedness is all a service can check on its own: whether a shelter exists (or is open) is known only
to the subgraph that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from subgraphs.common.errors import BadUserInput
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code

MAX_LOCAL_ID = 72   # the importers' limit on the open-data ID column


class InvalidFacilityId(ValueError):
    """The text is not `"{6-digit code}:{localId}"`."""


@dataclass(frozen=True)
class FacilityId:
    municipality_code: str
    local_id: str

    def __str__(self) -> str:
        return f"{self.municipality_code}:{self.local_id}"


def parse_facility_id(value: object) -> FacilityId:
    """Split and check an id; raise InvalidFacilityId with the reason."""
    if not isinstance(value, str):
        raise InvalidFacilityId("a facility id is text")
    code, separator, local_id = value.partition(":")
    if not separator:
        raise InvalidFacilityId(f'{value!r} is not "{{municipality code}}:{{local id}}"')
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidFacilityId(f"{code!r} is not a 6-digit municipality code")
    try:
        normalize_code(code)
    except InvalidMunicipalityCode as error:
        raise InvalidFacilityId(str(error)) from None
    if not local_id or len(local_id) > MAX_LOCAL_ID:
        raise InvalidFacilityId(f"the local id must have 1-{MAX_LOCAL_ID} characters")
    if ":" in local_id or local_id != local_id.strip() or not local_id.isprintable():
        raise InvalidFacilityId(f"the local id {local_id!r} has a ':', surrounding spaces or control characters")
    return FacilityId(code, local_id)


def facility_id_argument(value: object, field: str = "id") -> str:
    """A client-given facility id, checked; BAD_USER_INPUT (with `field`) when malformed."""
    try:
        return str(parse_facility_id(value))
    except InvalidFacilityId as error:
        raise BadUserInput(f"malformed facility id: {error}", field=field) from None


def is_facility_id(value: object) -> bool:
    try:
        parse_facility_id(value)
    except InvalidFacilityId:
        return False
    return True
