"""災害種別: the eight hazard kinds an evacuation space is designated for."""

from __future__ import annotations

from dataclasses import dataclass, fields

# field name -> the national column's hazard label (災害種別_<label>)
HAZARD_LABELS: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ、土石流及び地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}


@dataclass(frozen=True)
class HazardFlags:
    flood: bool = False
    landslide: bool = False
    storm_surge: bool = False
    earthquake: bool = False
    tsunami: bool = False
    large_fire: bool = False
    inland_flood: bool = False
    volcano: bool = False

    def designated(self) -> list[str]:
        """Field names of the hazards this place is designated for."""
        return [f.name for f in fields(self) if getattr(self, f.name)]
