"""What happens to a leaving municipality's data (共同利用の終了): export, then deletion; audit records stay.

The rule (docs/co-use.md §2):
* From the leave day on nobody reads the data through the gateway (PLATFORM_NOT_JOINED).
* Export window: for `KYODO_CO_USE_EXPORT_DAYS` days after the leave day (default 90) the operator exports the
  municipality's rows for it (`kyodo co-use export`), read-only. An export is possible before leaving too.
* After the window the operator deletes them (`kyodo co-use purge`); refused earlier, and refused for a member.
* Audit records are kept: they record who read whose data, which the municipality must be able to answer for
  (個人情報保護法: safety measures, the person's right to disclosure), and deleting some would break the hash
  chain that proves none was altered. Membership and usage rows are kept too (the record of when and how much).

Which rows are the municipality's: a table with `municipality_code` selects on it; a table without one follows
its foreign keys to such a table (a child's vaccinations through the child); `EXTRA_SELECTORS` covers the few
tables that name a municipality another way (a shelter id starts with its municipality code). The export
writes one JSON Lines or CSV file per table plus manifest.json into a new directory, all or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, inspect as sa_inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from subgraphs.common.membership_dates import MembershipError, today_in_japan

EXPORT_DAYS_ENV = "KYODO_CO_USE_EXPORT_DAYS"
DEFAULT_EXPORT_DAYS = 90
KEPT_PREFIXES = ("audit_", "co_use_")   # kept after leaving (see the module docstring)


def export_days() -> int:
    raw = os.environ.get(EXPORT_DAYS_ENV, "")
    try:
        return int(raw) if raw else DEFAULT_EXPORT_DAYS
    except ValueError:
        raise MembershipError(f"{EXPORT_DAYS_ENV} must be a whole number of days, not {raw!r}") from None


def _shelter_prefix(table: Table, code: str) -> ColumnElement[bool]:
    return table.c.shelter_id.like(f"{code}:%")


def _tag_of(table: Table, code: str) -> ColumnElement[bool]:
    tags = SQLModel.metadata.tables["safety_watch_tag"]
    return table.c.tag_id.in_(select(tags.c.id).where(tags.c.municipality_code == code))


# Tables that say whose they are without a municipality column or a foreign key.
EXTRA_SELECTORS: dict[str, Callable[[Table, str], ColumnElement[bool]]] = {
    "identity_visitor_stay": _shelter_prefix,      # visitors at the municipality's shelters
    "identity_shelter_closure": _shelter_prefix,
    "safety_tag_pairing": _tag_of,
}


def platform_tables(platform: str) -> list[Table]:
    """The platform's own tables, parents before children."""
    import importlib

    importlib.import_module(f"subgraphs.{platform}.schema")   # every model module of the platform
    return [t for t in SQLModel.metadata.sorted_tables if t.name.startswith(f"{platform}_")]


def selector(table: Table, code: str, _seen: frozenset[str] = frozenset()) -> ColumnElement[bool] | None:
    """The rows of `table` that belong to municipality `code`, or None if the table holds none of its own."""
    if table.name in EXTRA_SELECTORS:
        return EXTRA_SELECTORS[table.name](table, code)
    if "municipality_code" in table.c:
        return table.c.municipality_code == code
    parts = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name in _seen or parent is table:
            continue
        parent_rows = selector(parent, code, _seen | {table.name})
        if parent_rows is not None:
            parts.append(fk.parent.in_(select(fk.column).where(parent_rows)))
    return or_(*parts) if parts else None


@dataclass(frozen=True)
class LeavingState:
    left_on: date | None
    export_until: date | None     # last day of the export window


async def leaving_state(session: AsyncSession, platform: str, code: str) -> LeavingState:
    from subgraphs.common import co_use

    row = await co_use.membership(session, platform, code)
    if row is None or row.left_on is None:
        return LeavingState(None, None)
    return LeavingState(row.left_on, row.left_on + timedelta(days=export_days() - 1))


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


async def existing_tables(session: AsyncSession, tables: list[Table]) -> list[Table]:
    connection = await session.connection()
    names = set(await connection.run_sync(lambda c: sa_inspect(c).get_table_names()))
    return [t for t in tables if t.name in names]


async def read_rows(session: AsyncSession, platform: str, code: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the municipality in the platform's tables (one transaction: one consistent picture)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in await existing_tables(session, platform_tables(platform)):
        where = selector(table, code)
        if where is None:
            continue
        result = await session.execute(select(table).where(where).order_by(*table.primary_key.columns))
        rows[table.name] = [{k: _plain(v) for k, v in row._mapping.items()} for row in result]
    return rows


def write_export(rows: dict[str, list[dict[str, Any]]], out: Path, *, platform: str, code: str,
                 fmt: str = "jsonl") -> Path:
    """One file per table plus manifest.json, written to a temporary directory and renamed to `out` at the end:
    `out` either holds the whole export or does not exist. Refuses an `out` that exists."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"format is jsonl or csv, not {fmt!r}")
    if out.exists():
        raise FileExistsError(f"{out} exists; give a new directory (an export never mixes with other files)")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        files = {}
        for name, table_rows in rows.items():
            path = work / f"{name}.{fmt}"
            if fmt == "jsonl":
                with path.open("w", encoding="utf-8", newline="\n") as handle:
                    for row in table_rows:
                        handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            else:
                columns = [c.name for c in SQLModel.metadata.tables[name].columns]
                with path.open("w", encoding="utf-8-sig", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\r\n")
                    writer.writeheader()
                    writer.writerows(table_rows)
            files[path.name] = {"table": name, "rows": len(table_rows),
                                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        manifest = {"platform": platform, "municipality_code": code, "format": fmt,
                    "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"), "files": files}
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
        os.chmod(work, 0o700)          # personal data: owner only
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out


async def check_export_allowed(session: AsyncSession, platform: str, code: str, today: date | None = None) -> None:
    state = await leaving_state(session, platform, code)
    today = today or today_in_japan()
    if state.export_until is not None and today > state.export_until:
        raise MembershipError(f"the export window of {code} on {platform} ended on {state.export_until.isoformat()}")


async def purge(session: AsyncSession, platform: str, code: str, *, today: date | None = None,
                actor: str = "kyodo co-use purge") -> dict[str, int]:
    """Delete the municipality's rows from the platform's tables once its export window is over; one audit
    record says so (the records themselves stay). Children first, in the caller's one transaction."""
    from subgraphs.common import audit

    today = today or today_in_japan()
    state = await leaving_state(session, platform, code)
    if state.left_on is None:
        raise MembershipError(f"{code} has not left {platform}; only a municipality that left is purged")
    if today <= state.export_until:
        raise MembershipError(f"{code} left {platform} on {state.left_on.isoformat()}; its export window lasts "
                              f"until {state.export_until.isoformat()}, purge after that")
    deleted: dict[str, int] = {}
    for table in reversed(await existing_tables(session, platform_tables(platform))):
        where = selector(table, code)
        if where is not None:
            result = await session.execute(delete(table).where(where))
            deleted[table.name] = int(result.rowcount or 0)
    await audit.record(session, actor, f"municipality:{code}", sorted(deleted),
                       f"co-use retention: delete after leaving on {state.left_on.isoformat()}", "deleted",
                       subject_municipality=code, subgraph=platform)
    return deleted
