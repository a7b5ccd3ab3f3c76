"""`kyodo usage report --month YYYY-MM [--out DIR] [--format csv|png|both]`: the monthly cost-sharing report.

Writes `usage-YYYY-MM.csv` (`usage_report`) and `usage-YYYY-MM.png` (`usage_chart`) into DIR (default
var/reports) from the four subgraph databases (`KYODO_<NAME>_DATABASE_URL`), and prints their paths.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

SUBGRAPHS = ("childcare", "safety", "currency", "identity")


def _month(value: str) -> str:
    from subgraphs.common.usage_counting import month_bounds

    try:
        month_bounds(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _report(args: argparse.Namespace) -> int:
    from subgraphs.common.db import default_url
    from subgraphs.common.usage_report import build_rows, collect, write_csv

    try:
        lines = asyncio.run(collect(args.month, {name: default_url(name) for name in SUBGRAPHS}))
        rows = build_rows(args.month, lines)
        out = Path(args.out)
        written = []
        if args.format in ("csv", "both"):
            written.append(write_csv(rows, out / f"usage-{args.month}.csv"))
        if args.format in ("png", "both"):
            from subgraphs.common.usage_chart import draw_chart

            written.append(draw_chart(args.month, rows, out / f"usage-{args.month}.png"))
    except Exception as error:  # noqa: BLE001 - one line for the operator, never a traceback
        print(f"kyodo usage report: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{len(rows)} usage lines for {args.month}")
    for path in written:
        print(path)
    return 0


def register_report(usage: argparse.ArgumentParser) -> None:
    """Add `report` under `kyodo usage`; plain `kyodo usage` keeps showing the counters."""
    commands = usage.add_subparsers(dest="usage_command", metavar="ACTION", required=False)
    report = commands.add_parser("report", help="monthly cost-sharing report as CSV and a PNG bar chart")
    report.add_argument("--month", type=_month, required=True, metavar="YYYY-MM")
    report.add_argument("--out", default="var/reports", metavar="DIR", help="where to write (default var/reports)")
    report.add_argument("--format", choices=("csv", "png", "both"), default="both")
    report.set_defaults(func=_report)
