"""`kyodo visitors purge [--retention-days N]`: the retention job for non-resident shelter check-ins.

Deletes visitor stays whose shelter's check-in was closed more than the retention period ago
(`KYODO_VISITOR_RETENTION_DAYS`, default 30; `visitor_retention`). Run it daily (cron or a systemd timer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta


async def _purge(retention: timedelta):  # noqa: ANN202 - PurgeResult
    from subgraphs.common.db import Database, upgrade_async

    from .visitor_retention import purge_expired

    database = Database.for_subgraph("identity")
    try:
        await upgrade_async("identity", database.url)
        async with database.transaction() as session:
            return await purge_expired(session, retention)
    finally:
        await database.dispose()


def _purge_command(args: argparse.Namespace) -> int:
    from .visitor_retention import retention_from_env

    try:
        retention = timedelta(days=args.retention_days) if args.retention_days is not None else retention_from_env()
        if retention < timedelta(0):
            raise ValueError("--retention-days must not be negative")
        result = asyncio.run(_purge(retention))
    except Exception as error:  # noqa: BLE001 - one line; the transaction rolled back, nothing was deleted
        print(f"kyodo visitors purge: {type(error).__name__}: {error} (nothing was deleted)", file=sys.stderr)
        return 1
    print(f"deleted {result.deleted} visitor stays of shelters closed on or before {result.cutoff.isoformat()}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    visitors = subparsers.add_parser("visitors", help="non-resident shelter check-ins (identity)")
    commands = visitors.add_subparsers(dest="visitors_command", metavar="ACTION", required=True)
    purge = commands.add_parser("purge", help="delete visitor stays past retention after their shelter closed")
    purge.add_argument("--retention-days", type=int, default=None,
                       help="override $KYODO_VISITOR_RETENTION_DAYS (default 30)")
    purge.set_defaults(func=_purge_command)
