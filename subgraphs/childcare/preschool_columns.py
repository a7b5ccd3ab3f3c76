"""Header names of the Digital Agency's 子育て施設 (preschool) CSV, both generations, mapped to our fields.

The common facility columns (全国地方公共団体コード, ID, 名称, 所在地_連結表記 … and their older spellings) are
subgraphs/common/open_data_csv.py's; this adds the preschool dataset's own (収容定員/定員, 受入年齢 …).
"""

from __future__ import annotations

from subgraphs.common.open_data_csv import COMMON_FACILITY_COLUMNS, HeaderMapping
from subgraphs.common.open_data_csv import map_headers as map_facility_headers

# field -> accepted header spellings; the first is the current generation's name.
PRESCHOOL_ONLY_COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("種別", "施設種別"),
    "capacity": ("収容定員", "定員"),
    "accepted_ages": ("受入年齢", "対象年齢"),
    "available_days": ("利用可能曜日",),
    "start_time": ("開始時間",),
    "end_time": ("終了時間",),
    "temporary_care": ("一時預かりの有無", "一時預かり"),
    "sick_child_care": ("病児保育の有無", "病児保育"),
    "nursing_room": ("授乳室", "授乳室の有無"),
    "diaper_station": ("おむつ替えコーナー", "おむつ替えコーナーの有無"),
}
PRESCHOOL_COLUMNS: dict[str, tuple[str, ...]] = {**COMMON_FACILITY_COLUMNS, **PRESCHOOL_ONLY_COLUMNS}
CURRENT_GENERATION_MARKERS = ("収容定員",)


def map_headers(headers: list[str]) -> HeaderMapping:
    return map_facility_headers(PRESCHOOL_COLUMNS, headers, kind_specific=PRESCHOOL_ONLY_COLUMNS,
                                current_markers=CURRENT_GENERATION_MARKERS)
