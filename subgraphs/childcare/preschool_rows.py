"""One 子育て施設 CSV row (keyed by field name) -> typed ChildcareFacility values, or RowProblem saying why not.

The common facility columns are typed by subgraphs/common/open_data_csv.py; this adds the preschool columns.
An empty flag means "not stated" (None), not "no".
"""

from __future__ import annotations

from typing import Any

from subgraphs.common.open_data_csv import (
    RowProblem, facility_values as common_facility_values, optional_text, parse_count, parse_flag, parse_time,
)

__all__ = ["RowProblem", "facility_values"]

_TEXT_FIELDS = ("kind", "accepted_ages", "available_days")
_FLAG_FIELDS = {"temporary_care": "一時預かりの有無", "sick_child_care": "病児保育の有無",
                "nursing_room": "授乳室", "diaper_station": "おむつ替えコーナー"}


def facility_values(raw: dict[str, str]) -> dict[str, Any]:
    """Typed column values for ChildcareFacility, including the id "{code}:{localId}"."""
    values = common_facility_values(raw)
    for name in _TEXT_FIELDS:
        values[name] = optional_text(raw.get(name))
    values["capacity"] = parse_count("収容定員", raw.get("capacity"))
    values["start_time"] = parse_time("開始時間", raw.get("start_time"))
    values["end_time"] = parse_time("終了時間", raw.get("end_time"))
    for name, column in _FLAG_FIELDS.items():
        values[name] = parse_flag(column, raw.get(name))
    return values
