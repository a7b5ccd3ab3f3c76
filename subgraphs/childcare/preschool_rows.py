"""One 子育て施設 CSV row (keyed by field name) -> typed ChildcareFacility values, or RowProblem saying why not.

Flags arrive as "1"/empty in the current dataset and as 有/無, あり/なし or ○/× in older or hand-made files;
an empty flag means "not stated" (None), not "no".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code

MAX_LOCAL_ID = 72
_TRUE = {"1", "○", "〇", "◯", "true", "yes", "有", "有り", "あり", "可"}
_FALSE = {"0", "false", "no", "無", "無し", "なし", "不可", "×", "-"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_TEXT_FIELDS = ("municipality_name", "name_kana", "name_en", "kind", "address", "address_prefecture",
                "address_city", "address_town", "address_block", "building", "phone", "extension", "email",
                "postal_code", "accepted_ages", "available_days", "url", "note")
_FLAG_FIELDS = {"temporary_care": "一時預かりの有無", "sick_child_care": "病児保育の有無",
                "nursing_room": "授乳室", "diaper_station": "おむつ替えコーナー"}


class RowProblem(ValueError):
    """Why a row cannot be loaded; names the column and the value."""


def _nfkc(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _flag(column: str, value: str | None) -> bool | None:
    text = _nfkc(value).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowProblem(f"{column}: expected 1/有/あり or 0/無/なし, got {value!r}")


def _coordinate(column: str, value: str | None, limit: float) -> float | None:
    text = _nfkc(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RowProblem(f"{column}: not a number: {value!r}") from None
    if not -limit <= number <= limit:
        raise RowProblem(f"{column}: {number} is outside ±{limit}")
    return number


def _capacity(value: str | None) -> int | None:
    text = _nfkc(value).replace(",", "").removesuffix("人").removesuffix("名")
    if not text:
        return None
    if not text.isdigit():
        raise RowProblem(f"収容定員: expected a whole number, got {value!r}")
    return int(text)


def _time(column: str, value: str | None) -> str | None:
    text = _nfkc(value)
    if not text:
        return None
    match = _TIME.match(text)
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or (int(match[1]) == 24 and int(match[2])):
        raise RowProblem(f"{column}: expected HH:MM, got {value!r}")
    return f"{int(match[1]):02d}:{match[2]}"


def facility_values(raw: dict[str, str]) -> dict[str, Any]:
    """Typed column values for ChildcareFacility, including the id "{code}:{localId}"."""
    try:
        code = normalize_code(_nfkc(raw.get("code")))
    except InvalidMunicipalityCode as exc:
        raise RowProblem(f"全国地方公共団体コード: {exc}") from None
    local_id = _nfkc(raw.get("local_id"))
    if not local_id:
        raise RowProblem("ID: empty")
    if len(local_id) > MAX_LOCAL_ID or ":" in local_id:
        raise RowProblem(f"ID: {local_id!r} is longer than {MAX_LOCAL_ID} characters or contains ':'")
    name = (raw.get("name") or "").strip()
    if not name:
        raise RowProblem("名称: empty")
    values: dict[str, Any] = {"id": f"{code}:{local_id}", "municipality_code": code, "local_id": local_id,
                              "name": name}
    for field in _TEXT_FIELDS:
        values[field] = (raw.get(field) or "").strip() or None
    values["latitude"] = _coordinate("緯度", raw.get("latitude"), 90)
    values["longitude"] = _coordinate("経度", raw.get("longitude"), 180)
    values["capacity"] = _capacity(raw.get("capacity"))
    values["start_time"] = _time("開始時間", raw.get("start_time"))
    values["end_time"] = _time("終了時間", raw.get("end_time"))
    for field, column in _FLAG_FIELDS.items():
        values[field] = _flag(column, raw.get(field))
    return values
