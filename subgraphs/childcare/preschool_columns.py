"""Header names of the Digital Agency's 子育て施設 (preschool) CSV, both generations, mapped to our fields.

The current 自治体標準オープンデータセット says 全国地方公共団体コード, ID, 所在地_連結表記, 収容定員…;
the older 推奨データセット says 都道府県コード又は市区町村コード, NO, 住所, 方書, 定員…. Headers are compared
after NFKC normalisation with whitespace removed, so full-width brackets and stray spaces do not matter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# field -> accepted header spellings; the first is the current generation's name.
PRESCHOOL_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("全国地方公共団体コード", "都道府県コード又は市区町村コード", "市区町村コード"),
    "local_id": ("ID", "NO", "No.", "番号"),
    "municipality_name": ("地方公共団体名", "市区町村名"),
    "name": ("名称", "施設名"),
    "name_kana": ("名称_カナ", "名称カナ", "施設名カナ"),
    "name_en": ("名称_英字", "名称_ローマ字"),
    "kind": ("種別", "施設種別"),
    "address": ("所在地_連結表記", "住所", "所在地"),
    "address_prefecture": ("所在地_都道府県",),
    "address_city": ("所在地_市区町村",),
    "address_town": ("所在地_町字",),
    "address_block": ("所在地_番地以下",),
    "building": ("建物名等(方書)", "方書"),
    "latitude": ("緯度",),
    "longitude": ("経度",),
    "phone": ("電話番号",),
    "extension": ("内線番号",),
    "email": ("連絡先メールアドレス",),
    "postal_code": ("郵便番号",),
    "capacity": ("収容定員", "定員"),
    "accepted_ages": ("受入年齢", "対象年齢"),
    "available_days": ("利用可能曜日",),
    "start_time": ("開始時間",),
    "end_time": ("終了時間",),
    "temporary_care": ("一時預かりの有無", "一時預かり"),
    "sick_child_care": ("病児保育の有無", "病児保育"),
    "nursing_room": ("授乳室", "授乳室の有無"),
    "diaper_station": ("おむつ替えコーナー", "おむつ替えコーナーの有無"),
    "url": ("URL",),
    "note": ("備考",),
}

REQUIRED_FIELDS: tuple[str, ...] = ("code", "local_id", "name")
CURRENT_GENERATION_MARKERS = ("全国地方公共団体コード", "所在地_連結表記", "収容定員")


def normalize_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "")
    return "".join(text.split())


_ALIAS_TO_FIELD = {normalize_header(alias): field for field, aliases in PRESCHOOL_COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class HeaderMapping:
    field_by_index: dict[int, str]   # CSV column index -> field
    missing: tuple[str, ...]         # required fields without a column
    ignored: tuple[str, ...]         # headers we do not keep (画像, FAX番号 …)
    generation: str                  # "current" or "legacy"


def map_headers(headers: list[str]) -> HeaderMapping:
    field_by_index: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        field = _ALIAS_TO_FIELD.get(normalize_header(header))
        if field is None or field in field_by_index.values():
            if header.strip():
                ignored.append(header)
            continue
        field_by_index[index] = field
    present = set(field_by_index.values())
    normalized = {normalize_header(h) for h in headers}
    current = any(normalize_header(m) in normalized for m in CURRENT_GENERATION_MARKERS)
    return HeaderMapping(field_by_index, tuple(f for f in REQUIRED_FIELDS if f not in present), tuple(ignored),
                         "current" if current else "legacy")
