"""`kyodo import evacuation_space|aed FILE.csv`: load a Digital Agency open-data CSV.

- both header generations (open_data_headers), UTF-8 with or without BOM, or Shift_JIS (cp932);
- a bad row is reported with its line number and skipped; the good rows are loaded;
- everything is written in one transaction, so a failure leaves the database as it was;
- rows are upserted by id ("{code}:{ID}"), so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.db import Database

from .models import Aed, EvacuationSpace
from .open_data_headers import HeaderMapping, map_headers, normalize_header
from .open_data_rows import RowProblem, aed_fields, evacuation_space_fields

SUBGRAPH = "safety"
KINDS: dict[str, tuple[type, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "evacuation_space": (EvacuationSpace, evacuation_space_fields),
    "aed": (Aed, aed_fields),
}
_CURRENT_CODE_HEADER = normalize_header("全国地方公共団体コード")
_LOOKUP_CHUNK = 500


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unknown kind, undecodable, required columns missing)."""


@dataclass(frozen=True)
class RowError:
    line: int  # physical line in the file, the header being line 1
    message: str


@dataclass
class ImportReport:
    kind: str
    path: str
    encoding: str = ""
    header_generation: str = ""  # "current" (全国地方公共団体コード…) or "legacy" (都道府県コード又は市区町村コード…)
    rows: int = 0  # data rows read (blank lines not counted)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        lines = [
            f"{self.kind} from {self.path} ({self.encoding}, {self.header_generation} headers): "
            f"{self.rows} rows, {self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.errors)} rejected"
        ]
        lines += [f"  line {e.line}: {e.message}" for e in self.errors]
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name). A BOM or valid UTF-8 means UTF-8; otherwise Shift_JIS (as cp932, the
    superset Windows and Excel write)."""
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


@dataclass(frozen=True)
class ParsedRow:
    line: int
    values: dict[str, Any]


def parse_rows(kind: str, text: str, report: ImportReport) -> list[ParsedRow]:
    """Rows that passed validation; every rejected row is added to report.errors."""
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    mapping: HeaderMapping = map_headers(kind, headers)
    if mapping.missing:
        raise ImportFileError(f"required columns missing: {', '.join(mapping.missing)} (headers: {headers})")
    if not mapping.kind_specific:
        raise ImportFileError(f"no column of a {kind} dataset found (headers: {headers}); is this another dataset?")
    code_index = next(i for i, f in mapping.field_by_index.items() if f == "code")
    report.header_generation = "current" if normalize_header(headers[code_index]) == _CURRENT_CODE_HEADER else "legacy"
    report.ignored_columns = mapping.unknown
    to_fields = KINDS[kind][1]
    parsed: list[ParsedRow] = []
    first_line_by_id: dict[str, int] = {}
    next_line = 2
    while True:
        line = next_line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append(RowError(line, f"unreadable CSV: {exc}"))
            break
        next_line = reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        if len(cells) > len(headers):
            report.errors.append(RowError(line, f"{len(cells)} cells but the header has {len(headers)} columns"))
            continue
        raw = {name: cells[index] for index, name in mapping.field_by_index.items() if index < len(cells)}
        try:
            values = to_fields(raw)
        except RowProblem as exc:
            report.errors.append(RowError(line, str(exc)))
            continue
        first = first_line_by_id.setdefault(values["id"], line)
        if first != line:
            report.errors.append(RowError(line, f"duplicate ID {values['local_id']!r} (first at line {first})"))
            continue
        parsed.append(ParsedRow(line, values))
    return parsed


async def store_rows(session: AsyncSession, model: type, rows: list[ParsedRow], report: ImportReport) -> None:
    """Upsert by id inside the caller's transaction."""
    for start in range(0, len(rows), _LOOKUP_CHUNK):
        chunk = rows[start:start + _LOOKUP_CHUNK]
        ids = [row.values["id"] for row in chunk]
        existing = {obj.id: obj for obj in (await session.execute(select(model).where(model.id.in_(ids)))).scalars()}
        for row in chunk:
            current = existing.get(row.values["id"])
            if current is None:
                session.add(model(**row.values))
                report.inserted += 1
                continue
            changed = {k: v for k, v in row.values.items() if getattr(current, k) != v}
            if not changed:
                report.unchanged += 1
                continue
            for key, value in changed.items():
                setattr(current, key, value)
            report.updated += 1
    await session.flush()


async def import_csv(kind: str, path: str | Path, *, database: Database | None = None) -> ImportReport:
    """Import one CSV into the safety database (default: `KYODO_SAFETY_DATABASE_URL` or var/safety.sqlite).

    Raises ImportFileError when the file as a whole is unusable; nothing is written then.
    """
    report = ImportReport(kind=kind, path=str(path))
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    text, report.encoding = decode(data)
    rows = parse_rows(kind, text, report)
    own_database = database is None
    database = database or Database.for_subgraph(SUBGRAPH)
    try:
        async with database.transaction() as session:
            await store_rows(session, KINDS[kind][0], rows, report)
    finally:
        if own_database:
            await database.dispose()
    return report
