"""Turn one evacuation-space or AED CSV row (already keyed by field name) into typed column values.

The common facility columns are typed by subgraphs/common/open_data_csv.py (code in 6 digits, id, names,
address, coordinates); this adds elevation and each dataset's own columns. Hazard flags are "1" or empty,
empty meaning "no"; the AED's pediatric flag left empty means "not stated".
"""

from __future__ import annotations

from typing import Any

from subgraphs.common.open_data_csv import (
    RowProblem, facility_values, optional_text, parse_count, parse_flag, parse_float, parse_time,
)

from .hazards import HAZARD_LABELS

__all__ = ["RowProblem", "aed_fields", "evacuation_space_fields"]


def _common_fields(raw: dict[str, str]) -> dict[str, Any]:
    fields = facility_values(raw)
    fields["elevation"] = parse_float("標高", raw.get("elevation"), -500.0, 9000.0)
    return fields


def evacuation_space_fields(raw: dict[str, str]) -> dict[str, Any]:
    fields = _common_fields(raw)
    for key, label in HAZARD_LABELS.items():
        fields[f"hazard_{key}"] = parse_flag(f"災害種別_{label}", raw.get(f"hazard_{key}"), empty_is_none=False)
    fields["also_shelter"] = parse_flag("指定避難所との重複", raw.get("also_shelter"), empty_is_none=False)
    fields["capacity"] = parse_count("想定収容人数", raw.get("capacity"))
    fields["target_communities"] = optional_text(raw.get("target_communities"))
    return fields


def aed_fields(raw: dict[str, str]) -> dict[str, Any]:
    fields = _common_fields(raw)
    fields["location_in_facility"] = optional_text(raw.get("location_in_facility"))
    fields["available_days"] = optional_text(raw.get("available_days"))
    fields["start_time"] = parse_time("開始時間", raw.get("start_time"))
    fields["end_time"] = parse_time("終了時間", raw.get("end_time"))
    fields["availability_note"] = optional_text(raw.get("availability_note"))
    fields["pediatric"] = parse_flag("小児対応設備の有無", raw.get("pediatric"))
    return fields
