"""`kyodo import preschool FILE.csv`: load the Digital Agency 子育て施設 CSV into the childcare database.

- both header generations (preschool_columns), UTF-8 with or without BOM, or Shift_JIS (read as cp932);
- a bad row is reported with its line number and skipped; the good rows are loaded;
- all rows are written in one transaction: an error while storing leaves the database as it was;
- rows are upserted by id ("{code}:{ID}"), so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.childcare.models import ChildcareFacility
from subgraphs.childcare.preschool_columns import map_headers
from subgraphs.childcare.preschool_rows import RowProblem, facility_values
from subgraphs.common.db import Database

SUBGRAPH = "childcare"
KINDS = ("preschool",)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unknown kind, unreadable, required columns missing)."""


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

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        lines = [f"{self.kind} from {self.path} ({self.encoding}, {self.header_generation} headers): "
                 f"{self.rows} rows, {self.inserted} inserted, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.errors)} rejected"]
        lines += [f"  line {e.line}: {e.message}" for e in self.errors]
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding). BOM or valid UTF-8 -> UTF-8; else Shift_JIS as cp932 (what Excel writes)."""
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


def parse_rows(text: str, report: ImportReport) -> list[dict[str, Any]]:
    """Validated rows; each rejected row lands in report.errors with its line number."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    mapping = map_headers(headers)
    if mapping.missing:
        raise ImportFileError(f"required columns missing: {', '.join(mapping.missing)}")
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
            report.errors.append(RowError(row_line, f"{len(cells)} cells but the header has {len(headers)}"))
            continue
        raw = {name: cells[index] for index, name in mapping.field_by_index.items() if index < len(cells)}
        try:
            values = facility_values(raw)
        except RowProblem as exc:
            report.errors.append(RowError(row_line, str(exc)))
            continue
        first = first_line_by_id.setdefault(values["id"], row_line)
        if first != row_line:
            report.errors.append(RowError(row_line, f"duplicate ID {values['local_id']!r} (first at line {first})"))
            continue
        rows.append(values)
    return rows


async def store_rows(session: AsyncSession, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """Upsert by id inside the caller's transaction, counting inserted/updated/unchanged."""
    chunk_size = 500
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start:start + chunk_size]
        found = await session.execute(select(ChildcareFacility).where(
            ChildcareFacility.id.in_([r["id"] for r in chunk])))
        existing = {f.id: f for f in found.scalars()}
        for values in chunk:
            current = existing.get(values["id"])
            if current is None:
                session.add(ChildcareFacility(**values))
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


async def import_csv(kind: str = "preschool", path: str | Path = "", *, database: Database | None = None) -> ImportReport:
    """Import one CSV (default database: `KYODO_CHILDCARE_DATABASE_URL` or var/childcare.sqlite).

    Raises ImportFileError when the file as a whole is unusable; nothing is written then.
    """
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r} for childcare; expected one of {', '.join(KINDS)}")
    report = ImportReport(kind=kind, path=str(path))
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    text, report.encoding = decode(data)
    rows = parse_rows(text, report)
    own_database = database is None
    database = database or Database.for_subgraph(SUBGRAPH)
    try:
        async with database.transaction() as session:
            await store_rows(session, rows, report)
    finally:
        if own_database:
            await database.dispose()
    return report
