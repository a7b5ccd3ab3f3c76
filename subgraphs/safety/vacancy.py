"""空き状況 of an open shelter, derived from its 想定収容人数 and the evacuees present."""

from __future__ import annotations

import enum

# Share of capacity from which a shelter is reported crowded (混雑). An operating choice, not a
# national rule, so it is a parameter with this default.
DEFAULT_CROWDED_RATIO = 0.8


class Vacancy(enum.Enum):
    AVAILABLE = "AVAILABLE"  # 空きあり
    CROWDED = "CROWDED"  # 混雑
    FULL = "FULL"  # 満員
    CLOSED = "CLOSED"  # not open: no vacancy to speak of
    UNKNOWN = "UNKNOWN"  # open, but capacity or head count not known


def vacancy(
    is_open: bool,
    capacity: int | None,
    occupants: int | None,
    crowded_ratio: float = DEFAULT_CROWDED_RATIO,
) -> Vacancy:
    if not is_open:
        return Vacancy.CLOSED
    if capacity is None or occupants is None or capacity <= 0 or occupants < 0:
        return Vacancy.UNKNOWN
    if occupants >= capacity:
        return Vacancy.FULL
    if occupants >= capacity * crowded_ratio:
        return Vacancy.CROWDED
    return Vacancy.AVAILABLE


def remaining_places(is_open: bool, capacity: int | None, occupants: int | None) -> int | None:
    """Places left (never negative), None when closed or unknown."""
    if not is_open or capacity is None or occupants is None or capacity <= 0 or occupants < 0:
        return None
    return max(capacity - occupants, 0)
