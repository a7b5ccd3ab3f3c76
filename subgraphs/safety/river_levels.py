"""River gauge thresholds and the alert level derived from a water level.

The four thresholds of a gauge (Digital Agency disaster model, MLIT water-level stages) rise in this
order: 水防団待機水位 < 氾濫注意水位 < 避難判断水位 < 氾濫危険水位.

Mapping used here (MLIT's 水位危険度レベル and the 警戒レベル相当情報 issued for designated rivers):

| water level h                         | stage                 | 警戒レベル相当 |
|---------------------------------------|-----------------------|----------------|
| h < 水防団待機水位                     | NORMAL                | none           |
| 水防団待機水位 <= h < 氾濫注意水位       | STANDBY               | 1              |
| 氾濫注意水位 <= h < 避難判断水位         | CAUTION (氾濫注意情報) | 2              |
| 避難判断水位 <= h < 氾濫危険水位         | EVACUATION_DECISION   | 3              |
| 氾濫危険水位 <= h                       | DANGER (氾濫危険情報)  | 4              |
| flooding observed (氾濫発生情報)        | FLOODING              | 5              |

Level 5 means a flood is already happening: a water level alone never proves that, so it is only
derived when the observation itself reports flooding. The table is data (`ALERT_LEVEL_BY_STAGE`)
so that a city following a different reading can change it in one place.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class RiverStage(enum.Enum):
    NORMAL = "NORMAL"
    STANDBY = "STANDBY"  # 水防団待機水位 reached
    CAUTION = "CAUTION"  # 氾濫注意水位 reached
    EVACUATION_DECISION = "EVACUATION_DECISION"  # 避難判断水位 reached
    DANGER = "DANGER"  # 氾濫危険水位 reached
    FLOODING = "FLOODING"  # 氾濫発生 reported


ALERT_LEVEL_BY_STAGE: dict[RiverStage, int | None] = {
    RiverStage.NORMAL: None,
    RiverStage.STANDBY: 1,
    RiverStage.CAUTION: 2,
    RiverStage.EVACUATION_DECISION: 3,
    RiverStage.DANGER: 4,
    RiverStage.FLOODING: 5,
}


class ThresholdError(ValueError):
    """Thresholds that are missing, not finite or not strictly rising."""


@dataclass(frozen=True)
class GaugeThresholds:
    """The four thresholds of one gauge, in metres (same datum as the observed level)."""

    standby: float  # 水防団待機水位
    caution: float  # 氾濫注意水位
    evacuation_decision: float  # 避難判断水位
    danger: float  # 氾濫危険水位

    def __post_init__(self) -> None:
        validate_thresholds(self.standby, self.caution, self.evacuation_decision, self.danger)


THRESHOLD_NAMES = ("水防団待機水位", "氾濫注意水位", "避難判断水位", "氾濫危険水位")


def validate_thresholds(standby: float, caution: float, evacuation_decision: float, danger: float) -> None:
    """Raise ThresholdError unless all four are finite numbers in strictly rising order."""
    values = (standby, caution, evacuation_decision, danger)
    for name, value in zip(THRESHOLD_NAMES, values):
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ThresholdError(f"{name} must be a finite number, got {value!r}")
    for (low_name, low), (high_name, high) in zip(zip(THRESHOLD_NAMES, values), zip(THRESHOLD_NAMES[1:], values[1:])):
        if not low < high:
            raise ThresholdError(f"{low_name} ({low}) must be lower than {high_name} ({high})")


def river_stage(level: float, thresholds: GaugeThresholds, flooding_observed: bool = False) -> RiverStage:
    """The stage a water level has reached; reaching a threshold counts (h >= threshold)."""
    if flooding_observed:
        return RiverStage.FLOODING
    if not math.isfinite(level):
        raise ValueError(f"water level must be finite, got {level!r}")
    if level >= thresholds.danger:
        return RiverStage.DANGER
    if level >= thresholds.evacuation_decision:
        return RiverStage.EVACUATION_DECISION
    if level >= thresholds.caution:
        return RiverStage.CAUTION
    if level >= thresholds.standby:
        return RiverStage.STANDBY
    return RiverStage.NORMAL


def alert_level(level: float, thresholds: GaugeThresholds, flooding_observed: bool = False) -> int | None:
    """警戒レベル相当 for a water level (see the module table), None below 水防団待機水位."""
    return ALERT_LEVEL_BY_STAGE[river_stage(level, thresholds, flooding_observed)]
