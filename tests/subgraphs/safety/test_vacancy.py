from __future__ import annotations

import pytest

from subgraphs.safety.vacancy import Vacancy, remaining_places, vacancy


@pytest.mark.parametrize(
    ("is_open", "capacity", "occupants", "expected"),
    [
        (False, 100, 0, Vacancy.CLOSED),
        (False, 100, 100, Vacancy.CLOSED),
        (True, 100, 0, Vacancy.AVAILABLE),
        (True, 100, 79, Vacancy.AVAILABLE),
        (True, 100, 80, Vacancy.CROWDED),
        (True, 100, 99, Vacancy.CROWDED),
        (True, 100, 100, Vacancy.FULL),
        (True, 100, 130, Vacancy.FULL),
        (True, None, 10, Vacancy.UNKNOWN),
        (True, 0, 0, Vacancy.UNKNOWN),
        (True, 100, None, Vacancy.UNKNOWN),
        (True, 100, -1, Vacancy.UNKNOWN),
    ],
)
def test_vacancy_from_capacity_and_occupants(is_open, capacity, occupants, expected) -> None:
    assert vacancy(is_open, capacity, occupants) is expected


def test_crowded_ratio_is_a_parameter() -> None:
    assert vacancy(True, 100, 60, crowded_ratio=0.5) is Vacancy.CROWDED
    assert vacancy(True, 100, 60, crowded_ratio=0.9) is Vacancy.AVAILABLE


def test_remaining_places_never_negative() -> None:
    assert remaining_places(True, 100, 30) == 70
    assert remaining_places(True, 100, 130) == 0
    assert remaining_places(False, 100, 30) is None
    assert remaining_places(True, None, 30) is None
