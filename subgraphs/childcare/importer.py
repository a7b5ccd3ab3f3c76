"""`kyodo import preschool FILE.csv`: load the Digital Agency 子育て施設 CSV into the childcare database.

How the file is read (encodings, both header generations, bad rows by line, one transaction, upsert by id)
is subgraphs/common/open_data_csv.py's, shared with safety's importer; this names the preschool columns
(preschool_columns), their typing (preschool_rows) and the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.childcare.models import ChildcareFacility
from subgraphs.childcare.preschool_columns import map_headers
from subgraphs.childcare.preschool_rows import facility_values
from subgraphs.common import open_data_csv
from subgraphs.common.db import Database
from subgraphs.common.open_data_csv import ImportFileError, ImportReport, RowError

__all__ = ["ImportFileError", "ImportReport", "RowError", "import_csv", "parse_rows", "store_rows"]

SUBGRAPH = "childcare"
KINDS = ("preschool",)


def parse_rows(text: str, report: ImportReport) -> list[dict[str, Any]]:
    return open_data_csv.parse_rows(text, report, map_headers, facility_values)


async def store_rows(session: AsyncSession, rows: list[dict[str, Any]], report: ImportReport) -> None:
    await open_data_csv.upsert_rows(session, ChildcareFacility, rows, report)


async def import_csv(kind: str = "preschool", path: str | Path = "", *, database: Database | None = None,
                     partial: bool = False) -> ImportReport:
    """Import one CSV (default database: `KYODO_CHILDCARE_DATABASE_URL` or var/childcare.sqlite).

    Raises ImportFileError when the file as a whole is unusable; nothing is written then. A rejected row
    means nothing is written either, unless `partial` (then the good rows are).
    """
    if kind not in KINDS:
        raise ImportFileError(f"unknown kind {kind!r} for childcare; expected one of {', '.join(KINDS)}")
    # `store_rows` is looked up when called, so a test can wrap it
    return await open_data_csv.import_file(
        ImportReport(kind=kind, path=str(path), partial=partial), subgraph=SUBGRAPH, parse=parse_rows,
        store=lambda session, rows, report: store_rows(session, rows, report), database=database)
