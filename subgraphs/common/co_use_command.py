"""`kyodo co-use list|join|leave`: who uses which platform, joining and leaving with an effective date.

Each platform's memberships live in its own database (`KYODO_<PLATFORM>_DATABASE_URL`); the command migrates
that database first. Trial use is not built yet (docs/co-use.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

PLATFORMS = ("childcare", "safety", "currency", "identity")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _code(value: str) -> str:
    from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code

    try:
        return normalize_code(value)
    except InvalidMunicipalityCode as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def _run(platform: str, action: str, code: str | None, on: date | None) -> list[str]:
    from sqlalchemy import select

    from subgraphs.common import co_use
    from subgraphs.common.db import Database, upgrade_async
    from subgraphs.common.membership_dates import is_member, join, leave, today_in_japan
    from subgraphs.common.municipality import MUNICIPALITIES

    database = Database.for_subgraph(platform)
    try:
        await upgrade_async(platform, database.url)
        async with database.transaction() as session:
            if action == "join":
                await join(session, platform, code, on or today_in_japan())
            elif action == "leave":
                await leave(session, platform, code, on or today_in_japan())
            rows = (await session.execute(select(co_use.Membership).where(co_use.Membership.platform == platform)
                                          .order_by(co_use.Membership.municipality_code))).scalars().all()
            today = today_in_japan()
            lines = []
            for row in rows:
                known = MUNICIPALITIES.get(row.municipality_code)
                state = "member" if is_member(row, today) else ("left" if row.left_on and row.left_on <= today
                                                                else "joining")
                until = f" until {row.left_on.isoformat()}" if row.left_on else ""
                lines.append(f"{platform:<10} {row.municipality_code} {known.name if known else '':<6} "
                             f"{state:<8} from {row.joined_on.isoformat()}{until}")
            return lines
    finally:
        await database.dispose()


def _command(args: argparse.Namespace) -> int:
    from subgraphs.common.membership_dates import MembershipError

    try:
        lines = asyncio.run(_run(args.platform, args.co_use_command, getattr(args, "code", None),
                                 getattr(args, "on", None)))
    except MembershipError as error:
        print(f"kyodo co-use {args.co_use_command}: {error} (nothing changed)", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line, never a traceback; the transaction rolled back
        print(f"kyodo co-use {args.co_use_command}: {type(error).__name__}: {error} (nothing changed)",
              file=sys.stderr)
        return 1
    print("\n".join(lines) if lines else f"no municipality uses {args.platform}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    co_use = subparsers.add_parser("co-use", help="which municipality uses which platform; join or leave")
    commands = co_use.add_subparsers(dest="co_use_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="memberships of one platform, with their dates")
    listing.add_argument("platform", choices=PLATFORMS)
    listing.set_defaults(func=_command)
    for action, text in (("join", "let a municipality join a platform from a day on"),
                         ("leave", "a municipality stops using a platform from a day on")):
        command = commands.add_parser(action, help=text)
        command.add_argument("platform", choices=PLATFORMS)
        command.add_argument("code", type=_code, help="全国地方公共団体コード (5 or 6 digits)")
        command.add_argument("--on", type=_day, default=None, help="effective day, YYYY-MM-DD (default today, JST)")
        command.set_defaults(func=_command)
