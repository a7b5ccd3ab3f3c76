"""Map the headers of the Digital Agency's open-data CSVs (both generations) to field names.

The current 自治体標準オープンデータセット names columns like 所在地_連結表記 and 全国地方公共団体コード;
older files say 住所 and 都道府県コード又は市区町村コード, drop the 災害種別_ prefix, and write full-width
brackets. Headers are compared after NFKC normalisation and whitespace removal, so （方書） and (方書)
are the same column.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .hazards import HAZARD_LABELS

COMMON_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("全国地方公共団体コード", "都道府県コード又は市区町村コード", "市区町村コード"),
    "local_id": ("ID", "NO", "No.", "番号"),
    "municipality_name": ("地方公共団体名",),
    "name": ("名称", "施設名", "施設・場所名"),
    "name_kana": ("名称_カナ", "名称カナ", "施設名カナ"),
    "name_en": ("名称_英字", "名称_ローマ字"),
    "address": ("所在地_連結表記", "住所", "所在地"),
    "address_prefecture": ("所在地_都道府県",),
    "address_city": ("所在地_市区町村",),
    "address_town": ("所在地_町字",),
    "address_block": ("所在地_番地以下",),
    "building": ("建物名等(方書)", "方書"),
    "latitude": ("緯度",),
    "longitude": ("経度",),
    "elevation": ("標高",),
    "phone": ("電話番号",),
    "extension": ("内線番号",),
    "email": ("連絡先メールアドレス",),
    "postal_code": ("郵便番号",),
    "url": ("URL",),
    "note": ("備考",),
}

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
    "evacuation_space": {**COMMON_COLUMNS, **EVACUATION_SPACE_COLUMNS},
    "aed": {**COMMON_COLUMNS, **AED_COLUMNS},
}

REQUIRED_FIELDS = ("code", "local_id", "name")

# Columns only a file of that kind has; a file with none of them is probably another dataset.
KIND_SPECIFIC_FIELDS: dict[str, frozenset[str]] = {
    "evacuation_space": frozenset(EVACUATION_SPACE_COLUMNS),
    "aed": frozenset(AED_COLUMNS),
}


def normalize_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "")
    return "".join(text.split())


@dataclass(frozen=True)
class HeaderMapping:
    field_by_index: dict[int, str]  # CSV column index -> field name
    missing: tuple[str, ...]  # required fields with no column
    kind_specific: tuple[str, ...]  # fields present that only this kind of dataset has
    unknown: tuple[str, ...]  # headers that map to nothing (ignored)
    duplicated: tuple[str, ...]  # fields named by more than one column


def map_headers(kind: str, headers: list[str]) -> HeaderMapping:
    if kind not in COLUMNS_BY_KIND:
        raise ValueError(f"unknown open-data kind {kind!r}; expected one of {sorted(COLUMNS_BY_KIND)}")
    alias_to_field = {
        normalize_header(alias): field for field, aliases in COLUMNS_BY_KIND[kind].items() for alias in aliases
    }
    field_by_index: dict[int, str] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, header in enumerate(headers):
        field = alias_to_field.get(normalize_header(header))
        if field is None:
            if header.strip():
                unknown.append(header)
            continue
        if field in field_by_index.values():
            duplicated.append(field)
            continue
        field_by_index[index] = field
    present = set(field_by_index.values())
    missing = tuple(f for f in REQUIRED_FIELDS if f not in present)
    kind_specific = tuple(f for f in field_by_index.values() if f in KIND_SPECIFIC_FIELDS[kind])
    return HeaderMapping(field_by_index, missing, kind_specific, tuple(unknown), tuple(duplicated))
