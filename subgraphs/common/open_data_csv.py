"""Loading the Digital Agency's open-data facility CSVs (自治体標準オープンデータセット), for every kind.

Shared national data handling, so every subgraph that imports such a file reads it the same way:
- encoding: a BOM or valid UTF-8 is UTF-8, anything else Shift_JIS read as cp932 (what Excel writes);
- headers of both generations (全国地方公共団体コード, 所在地_連結表記 … and the older
  都道府県コード又は市区町村コード, 住所, 方書 …), compared after NFKC with whitespace removed;
- the common facility columns typed the same way (code in its 6-digit form, "{code}:{localId}" ids, flags,
  coordinates, counts, times), each problem a `RowProblem` naming its column;
- a bad row is reported with its physical line number and the column named as the file's own header;
- all or nothing: one bad row and nothing is stored (`partial=True`, `kyodo import --partial`, stores the good rows);
- everything is upserted by id in one transaction: an error while storing leaves the database as it was.
A kind (preschool, evacuation_space, aed) adds only its own columns and their typing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.db import Database
from subgraphs.common.municipality import MUNICIPALITIES, InvalidMunicipalityCode, normalize_code

MAX_LOCAL_ID = 72
REQUIRED_FIELDS: tuple[str, ...] = ("code", "local_id", "name")
_LOOKUP_CHUNK = 500

# field -> accepted header spellings; the first is the current generation's name.
COMMON_FACILITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("全国地方公共団体コード", "都道府県コード又は市区町村コード", "市区町村コード"),
    "local_id": ("ID", "NO", "No.", "番号"),
    "municipality_name": ("地方公共団体名", "市区町村名"),
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
    "phone": ("電話番号",),
    "extension": ("内線番号",),
    "email": ("連絡先メールアドレス",),
    "postal_code": ("郵便番号",),
    "url": ("URL",),
    "note": ("備考",),
}
# Headers only the current generation has; a kind may name more (e.g. 収容定員).
CURRENT_GENERATION_MARKERS: tuple[str, ...] = ("全国地方公共団体コード", "所在地_連結表記")
_COMMON_TEXT_FIELDS = ("name_kana", "name_en", "address", "address_prefecture", "address_city", "address_town",
                       "address_block", "building", "phone", "extension", "email", "postal_code", "url", "note")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unknown kind, unreadable, required columns missing)."""


class RowProblem(ValueError):
    """Why one row cannot be loaded; the message starts with the column's name."""


# --- the file -------------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding). BOM or valid UTF-8 -> UTF-8; else Shift_JIS as cp932 (the superset Excel writes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "shift_jis"
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"the file is neither UTF-8 nor Shift_JIS (byte {exc.start})") from None


def normalize_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "")
    return "".join(text.split())


@dataclass(frozen=True)
class HeaderMapping:
    field_by_index: dict[int, str]   # CSV column index -> field
    missing: tuple[str, ...]         # required fields without a column
    kind_specific: tuple[str, ...]   # fields present that only this kind of dataset has
    unknown: tuple[str, ...]         # headers that map to nothing (画像, FAX番号 …)
    duplicated: tuple[str, ...]      # headers naming a field an earlier column already gave
    generation: str                  # "current" or "legacy"
    header_by_field: dict[str, str] = field(default_factory=dict)   # field -> the file's own header
    field_by_alias: dict[str, str] = field(default_factory=dict)    # normalized spelling -> field
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> accepted headers

    def header_of(self, name: str) -> str:
        """The header this file uses for `name` (a field, or any accepted spelling of one)."""
        field_name = name if name in self.spellings else self.field_by_alias.get(normalize_header(name), name)
        if field_name in self.header_by_field:
            return self.header_by_field[field_name]
        spellings = self.spellings.get(field_name)
        return spellings[0] if spellings else name

    def missing_headers(self) -> list[str]:
        """Each missing required column as "名称 (or 施設名, …)": what the file could call it."""
        described = []
        for name in self.missing:
            spellings = self.spellings.get(name, (name,))
            others = f" (or {', '.join(spellings[1:])})" if len(spellings) > 1 else ""
            described.append(f"{spellings[0]}{others}")
        return described

    @property
    def ignored(self) -> tuple[str, ...]:
        """Every header whose column is not loaded."""
        return self.unknown + self.duplicated


def map_headers(columns: dict[str, tuple[str, ...]], headers: list[str], *,
                kind_specific: Iterable[str] = (), current_markers: Iterable[str] = ()) -> HeaderMapping:
    """Map a file's headers to fields by `columns` (field -> spellings of both generations)."""
    alias_to_field = {normalize_header(alias): name for name, aliases in columns.items() for alias in aliases}
    field_by_index: dict[int, str] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, header in enumerate(headers):
        name = alias_to_field.get(normalize_header(header))
        if name is None:
            if header.strip():
                unknown.append(header)
        elif name in field_by_index.values():
            duplicated.append(header)
        else:
            field_by_index[index] = name
    present = set(field_by_index.values())
    specific = frozenset(kind_specific)
    normalized = {normalize_header(h) for h in headers}
    markers = (*CURRENT_GENERATION_MARKERS, *current_markers)
    current = any(normalize_header(m) in normalized for m in markers)
    return HeaderMapping(field_by_index, tuple(f for f in REQUIRED_FIELDS if f not in present),
                         tuple(f for f in field_by_index.values() if f in specific), tuple(unknown),
                         tuple(duplicated), "current" if current else "legacy",
                         header_by_field={name: headers[index].strip() for index, name in field_by_index.items()},
                         field_by_alias=alias_to_field, spellings=dict(columns))


# --- one row's values -----------------------------------------------------------------------------------

_TRUE_FLAGS = {"1", "○", "〇", "◯", "true", "yes", "有", "有り", "あり", "可"}
_FALSE_FLAGS = {"0", "false", "no", "無", "無し", "なし", "不可", "×", "-"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


def nfkc(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def optional_text(value: str | None) -> str | None:
    return (value or "").strip() or None


def parse_flag(column: str, value: str | None, *, empty_is_none: bool = True) -> bool | None:
    """"1"/empty in the current datasets; 有/無, あり/なし, ○/× in older or hand-made files. Empty is None
    ("not stated"), or False where the dataset defines empty as "no" (the hazard flags)."""
    text = nfkc(value).lower()
    if not text:
        return None if empty_is_none else False
    if text in _TRUE_FLAGS:
        return True
    if text in _FALSE_FLAGS:
        return False
    raise RowProblem(f"{column}: expected 1/有/あり or 0/無/なし (or empty), got {value!r}")


def parse_float(column: str, value: str | None, low: float, high: float) -> float | None:
    text = nfkc(value)
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
    """A whole number of people or places: "1,200", "120人", "60名"."""
    text = nfkc(value).replace(",", "").removesuffix("人").removesuffix("名")
    if not text:
        return None
    if not text.isdigit():
        raise RowProblem(f"{column}: expected a whole number, got {value!r}")
    return int(text)


def parse_time(column: str, value: str | None) -> str | None:
    """"HH:MM" (seconds dropped); 24:00 is the end of the day."""
    text = nfkc(value)
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
        return normalize_code(nfkc(value))
    except InvalidMunicipalityCode as exc:
        raise RowProblem(f"全国地方公共団体コード: {exc}") from None


def facility_values(raw: dict[str, str]) -> dict[str, Any]:
    """The common facility columns typed, with the id "{code}:{localId}" (the 地方公共団体名 filled from
    the code when the file leaves it empty)."""
    code = parse_code(raw.get("code"))
    local_id = nfkc(raw.get("local_id"))
    if not local_id:
        raise RowProblem("ID: empty")
    if len(local_id) > MAX_LOCAL_ID or ":" in local_id:
        raise RowProblem(f"ID: {local_id!r} is longer than {MAX_LOCAL_ID} characters or contains ':'")
    name = optional_text(raw.get("name"))
    if not name:
        raise RowProblem("名称: empty")
    known = MUNICIPALITIES.get(code)
    return {
        "id": f"{code}:{local_id}", "municipality_code": code, "local_id": local_id, "name": name,
        "municipality_name": optional_text(raw.get("municipality_name")) or (known.name if known else None),
        **{name_: optional_text(raw.get(name_)) for name_ in _COMMON_TEXT_FIELDS},
        "latitude": parse_float("緯度", raw.get("latitude"), -90.0, 90.0),
        "longitude": parse_float("経度", raw.get("longitude"), -180.0, 180.0),
    }


# --- the rows, the report, the transaction --------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    line: int      # physical line in the file; the header is line 1
    message: str


@dataclass
class ImportReport:
    kind: str
    path: str
    encoding: str = ""
    header_generation: str = ""   # "current" or "legacy"
    rows: int = 0                 # data rows read (blank lines not counted)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()
    partial: bool = False         # store the good rows even when some are rejected
    stored: bool = False          # False: nothing was written (a rejected row without `partial`)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        if self.stored:
            counts = (f"{self.rows} rows, {self.inserted} inserted, {self.updated} updated, "
                      f"{self.unchanged} unchanged, {len(self.errors)} rejected")
        else:
            counts = (f"{self.rows} rows, {len(self.errors)} rejected: nothing imported "
                      "(fix those rows, or pass --partial to import the others)")
        lines = [f"{self.kind} from {self.path} ({self.encoding}, {self.header_generation} headers): {counts}"]
        lines += [f"  line {e.line}: {e.message}" for e in self.errors]
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


def parse_rows(text: str, report: ImportReport, headers_to_mapping: Callable[[list[str]], HeaderMapping],
               to_values: Callable[[dict[str, str]], dict[str, Any]], *,
               needs_kind_column: bool = False) -> list[dict[str, Any]]:
    """Validated rows' values; each rejected row lands in report.errors with its line number.

    `needs_kind_column`: refuse a file with none of the kind's own columns (probably another dataset)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    mapping = headers_to_mapping(headers)
    if mapping.missing:
        raise ImportFileError(f"required columns missing: {'; '.join(mapping.missing_headers())} "
                              f"(the file's headers: {', '.join(headers)})")
    if needs_kind_column and not mapping.kind_specific:
        raise ImportFileError(f"no column of a {report.kind} dataset found (the file's headers: "
                              f"{', '.join(headers)}); is this another dataset?")
    report.header_generation = mapping.generation
    report.ignored_columns = mapping.ignored
    rows: list[dict[str, Any]] = []
    first_line_by_id: dict[str, int] = {}
    line = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append(RowError(line, f"unreadable CSV: {exc}"))
            break
        row_line, line = line, reader.line_num + 1   # a quoted cell may span several physical lines
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        if len(cells) > len(headers):
            report.errors.append(RowError(row_line, f"{len(cells)} cells but the header has {len(headers)} columns"))
            continue
        raw = {name: cells[index] for index, name in mapping.field_by_index.items() if index < len(cells)}
        try:
            values = to_values(raw)
        except RowProblem as exc:
            report.errors.append(RowError(row_line, _in_file_terms(str(exc), mapping)))
            continue
        first = first_line_by_id.setdefault(values["id"], row_line)
        if first != row_line:
            report.errors.append(RowError(row_line, f"{mapping.header_of('local_id')}: duplicate "
                                                    f"{values['local_id']!r} (first at line {first})"))
            continue
        rows.append(values)
    return rows


def _in_file_terms(message: str, mapping: HeaderMapping) -> str:
    """A RowProblem names a column by its current-generation header; say it as the file does."""
    column, separator, rest = message.partition(": ")
    return f"{mapping.header_of(column)}{separator}{rest}" if separator else message


async def upsert_rows(session: AsyncSession, model: type, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """Upsert by id inside the caller's transaction, counting inserted/updated/unchanged."""
    for start in range(0, len(rows), _LOOKUP_CHUNK):
        chunk = rows[start:start + _LOOKUP_CHUNK]
        found = await session.execute(select(model).where(model.id.in_([r["id"] for r in chunk])))
        existing = {row.id: row for row in found.scalars()}
        for values in chunk:
            current = existing.get(values["id"])
            if current is None:
                session.add(model(**values))
                report.inserted += 1
                continue
            changed = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changed:
                report.unchanged += 1
                continue
            for key, value in changed.items():
                setattr(current, key, value)
            report.updated += 1
    await session.flush()


async def import_file(report: ImportReport, *, subgraph: str,
                      parse: Callable[[str, ImportReport], list[dict[str, Any]]],
                      store: Callable[[AsyncSession, list[dict[str, Any]], ImportReport], Awaitable[None]],
                      database: Database | None = None) -> ImportReport:
    """Read report.path, parse it, and store every good row in one transaction (default database: the
    subgraph's `KYODO_<NAME>_DATABASE_URL`). Raises ImportFileError when the file as a whole is unusable.
    With a rejected row and without `report.partial`, nothing is stored (`report.stored` stays False)."""
    try:
        data = Path(report.path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {report.path}: {exc.strerror}") from None
    text, report.encoding = decode(data)
    rows = parse(text, report)
    if report.errors and not report.partial:
        return report
    own_database = database is None
    database = database or Database.for_subgraph(subgraph)
    try:
        async with database.transaction() as session:
            await store(session, rows, report)
        report.stored = True
    finally:
        if own_database:
            await database.dispose()
    return report
