from __future__ import annotations

import math

import pytest

from subgraphs.safety.river_levels import (
    GaugeThresholds,
    RiverStage,
    ThresholdError,
    alert_level,
    river_stage,
    validate_thresholds,
)

# A gauge shaped like 国包 on the 加古川 (synthetic values, metres).
KUNIKANE = GaugeThresholds(standby=3.0, caution=4.0, evacuation_decision=5.2, danger=5.8)


@pytest.mark.parametrize(
    ("level", "stage", "expected_alert"),
    [
        (-0.5, RiverStage.NORMAL, None),
        (2.99, RiverStage.NORMAL, None),
        (3.0, RiverStage.STANDBY, 1),  # reaching a threshold counts
        (3.99, RiverStage.STANDBY, 1),
        (4.0, RiverStage.CAUTION, 2),
        (5.19, RiverStage.CAUTION, 2),
        (5.2, RiverStage.EVACUATION_DECISION, 3),
        (5.79, RiverStage.EVACUATION_DECISION, 3),
        (5.8, RiverStage.DANGER, 4),
        (9.0, RiverStage.DANGER, 4),  # a level alone never reaches 5
    ],
)
def test_stage_and_alert_level_by_band(level: float, stage: RiverStage, expected_alert: int | None) -> None:
    assert river_stage(level, KUNIKANE) is stage
    assert alert_level(level, KUNIKANE) == expected_alert


def test_reported_flooding_is_level_5_whatever_the_level() -> None:
    assert river_stage(1.0, KUNIKANE, flooding_observed=True) is RiverStage.FLOODING
    assert alert_level(1.0, KUNIKANE, flooding_observed=True) == 5


def test_non_finite_level_is_refused() -> None:
    with pytest.raises(ValueError):
        river_stage(math.nan, KUNIKANE)


@pytest.mark.parametrize(
    "values",
    [
        (3.0, 3.0, 5.2, 5.8),  # equal is not rising
        (4.0, 3.0, 5.2, 5.8),
        (3.0, 4.0, 6.0, 5.8),
        (3.0, 4.0, 5.2, 5.2),
        (5.8, 5.2, 4.0, 3.0),
        (math.nan, 4.0, 5.2, 5.8),
        (3.0, math.inf, 5.2, 5.8),
        (3.0, 4.0, None, 5.8),
        (True, 4.0, 5.2, 5.8),
    ],
)
def test_thresholds_must_rise_strictly(values: tuple) -> None:
    with pytest.raises(ThresholdError):
        validate_thresholds(*values)
    with pytest.raises(ThresholdError):
        GaugeThresholds(*values)


def test_rising_thresholds_are_accepted_and_the_message_names_the_pair() -> None:
    validate_thresholds(-1.0, 0, 0.5, 2)
    with pytest.raises(ThresholdError, match="避難判断水位.*氾濫危険水位"):
        validate_thresholds(1.0, 2.0, 3.0, 2.5)
