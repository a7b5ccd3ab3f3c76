"""The monthly cost-sharing report: usage per municipality × platform × connected application, as CSV.

Read from every subgraph's `co_use_daily_use` (`usage_counting`): a use is one distinct principal on one day,
so a caller's repeated queries cannot inflate a share. `principal_days` is what shares are computed from;
`platform_share_percent` is the municipality's part of that platform's month (all its applications together
over the platform's total). The CSV is UTF-8 with a byte-order mark, which spreadsheet software on Japanese
Windows needs to read the municipality names correctly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from subgraphs.common.municipality import MUNICIPALITIES
from subgraphs.common.usage_counting import UsageLine, month_bounds, monthly_usage

# Romanised names for labels where no Japanese-capable font is installed (charts) and for non-Japanese readers.
ROMAJI: dict[str, str] = {
    "280003": "Hyogo Pref.", "282014": "Himeji", "282103": "Kakogawa", "282201": "Kasai", "282227": "Yabu",
    "282197": "Sanda", "282138": "Nishiwaki", "282189": "Ono", "282286": "Kato", "283827": "Harima",
    "282154": "Miki", "282162": "Takasago", "283819": "Inami", "283657": "Taka",
}
COLUMNS = ("month", "platform", "municipality_code", "municipality", "municipality_romaji", "client_id",
           "principal_days", "distinct_principals", "platform_share_percent", "tenant")
TRIAL = "trial"


@dataclass(frozen=True)
class ReportRow:
    month: str
    line: UsageLine
    platform_share_percent: float | None    # None for trial use: it enters no share

    def as_csv(self) -> list[str]:
        code = self.line.municipality_code
        known = MUNICIPALITIES.get(code)
        return [self.month, self.line.platform, code, known.name if known else "", romaji(code),
                self.line.client_id, str(self.line.principal_days), str(self.line.distinct_principals),
                "" if self.platform_share_percent is None else f"{self.platform_share_percent:.1f}",
                self.line.tenant]


def romaji(code: str) -> str:
    return ROMAJI.get(code, code)


def build_rows(month: str, lines: list[UsageLine]) -> list[ReportRow]:
    """Real use first, with shares; then trial use on lines of its own, without a share."""
    month_bounds(month)   # refuses anything but YYYY-MM
    totals: dict[str, int] = {}
    per_municipality: dict[tuple[str, str], int] = {}
    trial = sorted((u for u in lines if u.tenant == TRIAL), key=lambda u: (u.platform, u.municipality_code, u.client_id))
    lines = [u for u in lines if u.tenant != TRIAL]
    for line in lines:
        totals[line.platform] = totals.get(line.platform, 0) + line.principal_days
        key = (line.platform, line.municipality_code)
        per_municipality[key] = per_municipality.get(key, 0) + line.principal_days
    ordered = sorted(lines, key=lambda u: (u.platform, u.municipality_code, u.client_id))
    return [ReportRow(month, u, 100.0 * per_municipality[(u.platform, u.municipality_code)] / totals[u.platform]
                      if totals[u.platform] else 0.0) for u in ordered] + [ReportRow(month, u, None) for u in trial]


def to_csv(rows: list[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.as_csv())
    return buffer.getvalue()


def write_csv(rows: list[ReportRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_csv(rows), encoding="utf-8-sig", newline="")
    return path


async def collect(month: str, database_urls: dict[str, str], *, trials: bool = True) -> list[UsageLine]:
    """Every subgraph's lines for the month, and (`trials`) its trial sandbox's as tenant "trial"; a database
    that does not exist yet (or predates the table) adds none."""
    import dataclasses

    from subgraphs.common.sandbox import sandbox_url

    month_bounds(month)
    lines: list[UsageLine] = []
    for name, url in database_urls.items():
        lines += await _lines_of(name, url, month, missing_ok=False)
        if trials:
            lines += [dataclasses.replace(line, tenant=TRIAL)
                      for line in await _lines_of(name, sandbox_url(name, url), month, missing_ok=True)]
    return lines


async def _lines_of(name: str, url: str, month: str, *, missing_ok: bool) -> list[UsageLine]:
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.engine import make_url

    from subgraphs.common.db import Database

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return []
    database = Database(name, url)
    try:
        try:
            async with database.engine.connect() as connection:
                if not await connection.run_sync(lambda c: sa_inspect(c).has_table("co_use_daily_use")):
                    return []
        except (sa_exc.DBAPIError, OSError):
            if missing_ok:   # no sandbox database on this server: no trial ever ran
                return []
            raise
        async with database.sessions() as session:
            return await monthly_usage(session, month)
    finally:
        await database.dispose()
