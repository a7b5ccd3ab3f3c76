"""Map the headers of the Digital Agency's evacuation-space and AED CSVs (both generations) to field names.

The common facility columns and how headers are compared (NFKC, whitespace removed, so （方書） and (方書) are
the same column) are subgraphs/common/open_data_csv.py's; this adds each safety dataset's own columns. Older
evacuation-space files drop the 災害種別_ prefix.
"""

from __future__ import annotations

from subgraphs.common.open_data_csv import COMMON_FACILITY_COLUMNS, HeaderMapping, normalize_header
from subgraphs.common.open_data_csv import map_headers as map_facility_headers

from .hazards import HAZARD_LABELS

__all__ = ["COLUMNS_BY_KIND", "HeaderMapping", "KIND_SPECIFIC_FIELDS", "map_headers", "normalize_header"]

SAFETY_COMMON_COLUMNS: dict[str, tuple[str, ...]] = {**COMMON_FACILITY_COLUMNS, "elevation": ("標高",)}

EVACUATION_SPACE_COLUMNS: dict[str, tuple[str, ...]] = {
    **{f"hazard_{key}": (f"災害種別_{label}", label) for key, label in HAZARD_LABELS.items()},
    "also_shelter": ("指定避難所との重複", "指定避難所との住所同一"),
    "capacity": ("想定収容人数",),
    "target_communities": ("対象となる町会・自治会",),
}

AED_COLUMNS: dict[str, tuple[str, ...]] = {
    "location_in_facility": ("設置位置",),
    "available_days": ("利用可能曜日",),
    "start_time": ("開始時間",),
    "end_time": ("終了時間",),
    "availability_note": ("利用可能日時特記事項",),
    "pediatric": ("小児対応設備の有無", "小児対応"),
}

COLUMNS_BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "evacuation_space": {**SAFETY_COMMON_COLUMNS, **EVACUATION_SPACE_COLUMNS},
    "aed": {**SAFETY_COMMON_COLUMNS, **AED_COLUMNS},
}

# Columns only a file of that kind has; a file with none of them is probably another dataset.
KIND_SPECIFIC_FIELDS: dict[str, frozenset[str]] = {
    "evacuation_space": frozenset(EVACUATION_SPACE_COLUMNS),
    "aed": frozenset(AED_COLUMNS),
}


def map_headers(kind: str, headers: list[str]) -> HeaderMapping:
    if kind not in COLUMNS_BY_KIND:
        raise ValueError(f"unknown open-data kind {kind!r}; expected one of {sorted(COLUMNS_BY_KIND)}")
    return map_facility_headers(COLUMNS_BY_KIND[kind], headers, kind_specific=KIND_SPECIFIC_FIELDS[kind])
