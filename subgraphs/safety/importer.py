"""`kyodo import evacuation_space|aed FILE.csv`: load a Digital Agency open-data CSV.

How the file is read (encodings, both header generations, bad rows by line, one transaction, upsert by id)
is subgraphs/common/open_data_csv.py's, shared with childcare's importer; this names each kind's columns
(open_data_headers), their typing (open_data_rows) and table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import open_data_csv
from subgraphs.common.db import Database
from subgraphs.common.open_data_csv import ImportFileError, ImportReport, RowError

from .models import Aed, EvacuationSpace
from .open_data_headers import map_headers
from .open_data_rows import aed_fields, evacuation_space_fields

__all__ = ["ImportFileError", "ImportReport", "RowError", "import_csv", "parse_rows", "store_rows"]

SUBGRAPH = "safety"
KINDS: dict[str, tuple[type, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "evacuation_space": (EvacuationSpace, evacuation_space_fields),
    "aed": (Aed, aed_fields),
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")


def parse_rows(kind: str, text: str, report: ImportReport) -> list[dict[str, Any]]:
    """Rows that passed validation; every rejected row is added to report.errors."""
    _check_kind(kind)
    return open_data_csv.parse_rows(text, report, lambda headers: map_headers(kind, headers), KINDS[kind][1],
                                    needs_kind_column=True)


async def store_rows(session: AsyncSession, model: type, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """Upsert by id inside the caller's transaction."""
    await open_data_csv.upsert_rows(session, model, rows, report)


async def import_csv(kind: str, path: str | Path, *, database: Database | None = None,
                     partial: bool = False) -> ImportReport:
    """Import one CSV into the safety database (default: `KYODO_SAFETY_DATABASE_URL` or var/safety.sqlite).

    Raises ImportFileError when the file as a whole is unusable; nothing is written then. A rejected row
    means nothing is written either, unless `partial` (then the good rows are).
    """
    _check_kind(kind)
    model = KINDS[kind][0]
    # `store_rows` is looked up when called, so a test can wrap it
    return await open_data_csv.import_file(
        ImportReport(kind=kind, path=str(path), partial=partial), subgraph=SUBGRAPH,
        parse=lambda text, report: parse_rows(kind, text, report),
        store=lambda session, rows, report: store_rows(session, model, rows, report), database=database)
