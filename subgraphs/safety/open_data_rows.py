"""Turn one open-data CSV row (already keyed by field name) into typed column values, or say why not.

Values follow the national datasets: flags are "1" or empty, codes come in 5- or 6-digit form,
times are "HH:MM". Older or hand-made files vary (○, 有/無, full-width digits), which NFKC and a few
accepted spellings absorb.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from subgraphs.common.municipality import InvalidMunicipalityCode, MUNICIPALITIES, normalize_code

from .hazards import HAZARD_LABELS

MAX_LOCAL_ID = 72

_TRUE_FLAGS = {"1", "○", "〇", "◯", "true", "yes", "有", "有り", "あり", "可"}
_FALSE_FLAGS = {"", "0", "false", "no", "無", "無し", "なし", "不可", "×", "-"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class RowProblem(ValueError):
    """A row that cannot be loaded; the message names the column and the value."""


def _text(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _optional(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def parse_flag(column: str, value: str | None, *, empty_is_none: bool = False) -> bool | None:
    text = _text(value).lower()
    if text == "" and empty_is_none:
        return None
    if text in _TRUE_FLAGS:
        return True
    if text in _FALSE_FLAGS:
        return False
    raise RowProblem(f"{column}: expected 1 or empty, got {value!r}")


def parse_float(column: str, value: str | None, low: float, high: float) -> float | None:
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RowProblem(f"{column}: not a number: {value!r}") from None
    if not low <= number <= high:
        raise RowProblem(f"{column}: {number} is outside {low}..{high}")
    return number


def parse_count(column: str, value: str | None) -> int | None:
    text = _text(value).replace(",", "").removesuffix("人")
    if not text:
        return None
    if not text.isdigit():
        raise RowProblem(f"{column}: expected a whole number of people, got {value!r}")
    return int(text)


def parse_time(column: str, value: str | None) -> str | None:
    text = _text(value)
    if not text:
        return None
    match = _TIME.match(text)
    if not match:
        raise RowProblem(f"{column}: expected HH:MM, got {value!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise RowProblem(f"{column}: {value!r} is not a time of day")
    return f"{hour:02d}:{minute:02d}"


def parse_code(value: str | None) -> str:
    try:
        return normalize_code(_text(value))
    except InvalidMunicipalityCode as exc:
        raise RowProblem(f"全国地方公共団体コード: {exc}") from None


def _common_fields(raw: dict[str, str]) -> dict[str, Any]:
    code = parse_code(raw.get("code"))
    local_id = _text(raw.get("local_id"))
    if not local_id:
        raise RowProblem("ID: empty")
    if len(local_id) > MAX_LOCAL_ID or ":" in local_id:
        raise RowProblem(f"ID: {local_id!r} is too long or contains ':'")
    name = _optional(raw.get("name"))
    if not name:
        raise RowProblem("名称: empty")
    known = MUNICIPALITIES.get(code)
    return {
        "id": f"{code}:{local_id}",
        "municipality_code": code,
        "local_id": local_id,
        "municipality_name": _optional(raw.get("municipality_name")) or (known.name if known else None),
        "name": name,
        **{
            field: _optional(raw.get(field))
            for field in (
                "name_kana", "name_en", "address", "address_prefecture", "address_city", "address_town",
                "address_block", "building", "phone", "extension", "email", "postal_code", "url", "note",
            )
        },
        "latitude": parse_float("緯度", raw.get("latitude"), -90.0, 90.0),
        "longitude": parse_float("経度", raw.get("longitude"), -180.0, 180.0),
        "elevation": parse_float("標高", raw.get("elevation"), -500.0, 9000.0),
    }


def evacuation_space_fields(raw: dict[str, str]) -> dict[str, Any]:
    fields = _common_fields(raw)
    for key, label in HAZARD_LABELS.items():
        fields[f"hazard_{key}"] = parse_flag(f"災害種別_{label}", raw.get(f"hazard_{key}"))
    fields["also_shelter"] = parse_flag("指定避難所との重複", raw.get("also_shelter"))
    fields["capacity"] = parse_count("想定収容人数", raw.get("capacity"))
    fields["target_communities"] = _optional(raw.get("target_communities"))
    return fields


def aed_fields(raw: dict[str, str]) -> dict[str, Any]:
    fields = _common_fields(raw)
    fields["location_in_facility"] = _optional(raw.get("location_in_facility"))
    fields["available_days"] = _optional(raw.get("available_days"))
    fields["start_time"] = parse_time("開始時間", raw.get("start_time"))
    fields["end_time"] = parse_time("終了時間", raw.get("end_time"))
    fields["availability_note"] = _optional(raw.get("availability_note"))
    fields["pediatric"] = parse_flag("小児対応設備の有無", raw.get("pediatric"), empty_is_none=True)
    return fields
