"""A resident of a municipality that has not joined identity (共同利用 rule, issue 11 item 1).

identity still issues the pseudonymous id everyone else keys on, so such a resident keeps a `Resident` with
its id: every identity-owned field is null with PLATFORM_NOT_JOINED at its own path, while the platforms the
municipality did join (an Ono guardian's watch tags on safety) answer their fields of the same entity. Only a
caller the personal-data rule already allowed gets this (the person, a guardian, staff of that municipality):
anyone else is refused before co-use is looked at, so the id-only answer reveals nothing new.
"""

from __future__ import annotations

import strawberry

from subgraphs.common.errors import PlatformNotJoined

from .graphql_types import Resident


def not_joined_resident(resident_id: str, refusal: PlatformNotJoined) -> Resident:
    return Resident.refused(str(strawberry.ID(resident_id)), refusal)
