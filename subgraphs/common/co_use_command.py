"""`kyodo co-use …`: who uses which platform; joining, leaving, trials, and a leaving municipality's data.

    kyodo co-use list|join|leave PLATFORM [CODE] [--on DAY]      memberships with effective dates
    kyodo co-use trial start CODE PLATFORM --days N [--on DAY]  a trial in the sandbox (subgraphs.common.trial)
    kyodo co-use trial list | trial purge [PLATFORM]             trials; empty the sandboxes after they ended
    kyodo co-use export CODE PLATFORM --out DIR                  a leaving municipality's rows (retention.py)
    kyodo co-use purge CODE PLATFORM                             delete them after the export window
    kyodo co-use register-client CODE NAME                       an OIDC client for a municipality's own service

Each platform's memberships live in its own database (`KYODO_<PLATFORM>_DATABASE_URL`), its trials in its
sandbox (`KYODO_<PLATFORM>_TRIAL_DATABASE_URL`); the command migrates them first. Every failure is one line on
stderr and exit status 1, with nothing changed.
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


async def _trial(action: str, platform: str | None, code: str | None, days: int | None,
                 on: date | None) -> list[str]:
    from subgraphs.common.db import Database, default_url, upgrade_async
    from subgraphs.common.sandbox import prepare_sandbox, sandbox_url
    from subgraphs.common.membership_dates import today_in_japan
    from subgraphs.common.trial import purge_sandbox, start_trial, trials

    platforms = [platform] if platform else list(PLATFORMS)
    sandboxes = {name: sandbox_url(name, default_url(name)) for name in PLATFORMS}
    for name in PLATFORMS:   # a trial caller's request reaches every platform's sandbox: all are prepared
        await prepare_sandbox(name, sandboxes[name])
    lines: list[str] = []
    if action == "start":
        real, sandbox = Database.for_subgraph(platform), Database(platform, sandboxes[platform])
        try:
            await upgrade_async(platform, real.url)
            async with real.transaction() as real_session, sandbox.transaction() as sandbox_session:
                trial = await start_trial(real_session, sandbox_session, platform, code, days, on)
                from subgraphs.common import audit

                await audit.record(real_session, "kyodo co-use trial start", f"municipality:{code}", ["coUseTrial"],
                                   f"start {platform} trial {trial.starts_on}..{trial.ends_on}", "written",
                                   subject_municipality=code, subgraph=platform)
        finally:
            await real.dispose()
            await sandbox.dispose()
        return [f"{platform:<10} {code} trial from {trial.starts_on.isoformat()} to {trial.ends_on.isoformat()} "
                f"(sandbox {_display(sandboxes[platform])})"]
    if action == "purge":
        from subgraphs.common.membership_dates import MembershipError

        databases = {name: Database(name, sandboxes[name]) for name in PLATFORMS}
        try:
            running = []
            for name, database in databases.items():   # any running trial touches every sandbox: all must be over
                async with database.sessions() as session:
                    running += [t for t in await trials(session) if t.ends_on >= today_in_japan()]
            if running:
                raise MembershipError("trials still run or are coming: " + ", ".join(
                    f"{t.platform} {t.municipality} until {t.ends_on.isoformat()}" for t in running))
            for name in platforms:
                async with databases[name].transaction() as session:
                    deleted = await purge_sandbox(session, name)
                lines.append(f"{name:<10} sandbox purged: {sum(deleted.values())} rows deleted, synthetic residents "
                             "seeded again")
        finally:
            for database in databases.values():
                await database.dispose()
        return lines
    for name in platforms:
        database = Database(name, sandboxes[name])
        try:
            async with database.sessions() as session:
                for trial in await trials(session, name):
                    state = "running" if trial.active() else "ended" if trial.ends_on < today_in_japan() else "coming"
                    lines.append(f"{name:<10} {trial.municipality} {state:<8} {trial.starts_on.isoformat()} .. "
                                 f"{trial.ends_on.isoformat()}")
        finally:
            await database.dispose()
    return lines


def _display(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _export(platform: str, code: str, out: str, fmt: str) -> list[str]:
    from pathlib import Path

    from subgraphs.common import audit
    from subgraphs.common.db import Database, upgrade_async
    from subgraphs.common.retention import check_export_allowed, read_rows, write_export

    database = Database.for_subgraph(platform)
    try:
        await upgrade_async(platform, database.url)
        async with database.transaction() as session:
            await check_export_allowed(session, platform, code)
            rows = await read_rows(session, platform, code)
            # the export is a read of every person's data: audited, and only written if the record is
            await audit.record(session, "kyodo co-use export", f"municipality:{code}", sorted(rows),
                               "co-use retention: export for the leaving municipality", "permitted",
                               subject_municipality=code, subgraph=platform)
            written = write_export(rows, Path(out), platform=platform, code=code, fmt=fmt)
    finally:
        await database.dispose()
    return [f"{written}: {sum(len(r) for r in rows.values())} rows in {len(rows)} files + manifest.json"]


async def _purge(platform: str, code: str) -> list[str]:
    from subgraphs.common.db import Database, upgrade_async
    from subgraphs.common.retention import purge

    database = Database.for_subgraph(platform)
    try:
        await upgrade_async(platform, database.url)
        async with database.transaction() as session:
            deleted = await purge(session, platform, code)
    finally:
        await database.dispose()
    return [f"{platform:<10} {code}: deleted {count} rows from {table}" for table, count in deleted.items() if count] \
        or [f"{platform:<10} {code}: nothing to delete"]


def _run_lines(args: argparse.Namespace, what: str, run) -> int:  # noqa: ANN001 - a coroutine factory
    from subgraphs.common.membership_dates import MembershipError

    try:
        lines = asyncio.run(run())
    except (MembershipError, FileExistsError, ValueError) as error:
        print(f"kyodo co-use {what}: {error} (nothing changed)", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line, never a traceback; the transaction rolled back
        print(f"kyodo co-use {what}: {type(error).__name__}: {error} (nothing changed)", file=sys.stderr)
        return 1
    print("\n".join(lines) if lines else "nothing to show")
    return 0


def _trial_command(args: argparse.Namespace) -> int:
    return _run_lines(args, f"trial {args.trial_command}", lambda: _trial(
        args.trial_command, getattr(args, "platform", None), getattr(args, "code", None),
        getattr(args, "days", None), getattr(args, "on", None)))


def _export_command(args: argparse.Namespace) -> int:
    return _run_lines(args, "export", lambda: _export(args.platform, args.code, args.out, args.format))


def _purge_command(args: argparse.Namespace) -> int:
    return _run_lines(args, "purge", lambda: _purge(args.platform, args.code))


def _register_client_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from auth.idp.registered_clients import RegistrationError, register_client
    from kyodo.home import var_dir

    state_dir = Path(args.state_dir) if args.state_dir else var_dir() / "idp"
    try:
        client_id, secret = register_client(state_dir, args.code, args.name, redirect_uris=args.redirect_uri)
    except RegistrationError as error:
        print(f"kyodo co-use register-client: {error} (nothing changed)", file=sys.stderr)
        return 1
    if args.keycloak:
        import json

        from deploy.keycloak.realm import service_client

        keycloak = Path(args.keycloak)
        keycloak.write_text(json.dumps(service_client(client_id, args.redirect_uri), ensure_ascii=False, indent=2)
                            + "\n", encoding="utf-8")
        print(f"keycloak      {keycloak} (kcadm.sh create clients -r kyodo -f {keycloak})")
    print(f"client_id     {client_id}")
    print(f"client_secret {secret}")
    print("the secret is shown once and kept only as a hash; the dev IdP in that state dir knows the client now")
    return 0


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
    co_use = subparsers.add_parser("co-use", help="which municipality uses which platform; join, leave, trial, "
                                                  "export, purge, register-client")
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

    trial = commands.add_parser("trial", help="time-limited trials in the sandbox (synthetic residents)")
    trial_commands = trial.add_subparsers(dest="trial_command", metavar="ACTION", required=True)
    start = trial_commands.add_parser("start", help="start a trial of a platform for a municipality")
    start.add_argument("code", type=_code, help="全国地方公共団体コード of the municipality trying the platform")
    start.add_argument("platform", choices=PLATFORMS)
    start.add_argument("--days", type=int, required=True, help="how long, 1 to 90 days")
    start.add_argument("--on", type=_day, default=None, help="first day, YYYY-MM-DD (default today, JST)")
    start.set_defaults(func=_trial_command)
    for action, text in (("list", "trials per platform: running, coming, ended"),
                         ("purge", "delete what trial users wrote once no trial runs; synthetic residents return")):
        command = trial_commands.add_parser(action, help=text)
        command.add_argument("platform", nargs="?", choices=PLATFORMS)
        command.set_defaults(func=_trial_command)

    export = commands.add_parser("export", help="export a leaving municipality's rows of a platform (all or nothing)")
    export.add_argument("code", type=_code)
    export.add_argument("platform", choices=PLATFORMS)
    export.add_argument("--out", required=True, metavar="DIR", help="a new directory (refused if it exists)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.set_defaults(func=_export_command)
    purge = commands.add_parser("purge", help="delete a municipality's rows after its export window (audit kept)")
    purge.add_argument("code", type=_code)
    purge.add_argument("platform", choices=PLATFORMS)
    purge.set_defaults(func=_purge_command)

    register = commands.add_parser("register-client",
                                   help="register a municipality's own service as an OIDC client at the dev IdP")
    register.add_argument("code", type=_code)
    register.add_argument("name", help="a short name of the service, e.g. library (letters, digits, -)")
    register.add_argument("--redirect-uri", action="append", default=[], help="the service's sign-in return URL")
    register.add_argument("--state-dir", default=None, help="the dev IdP's state dir (default $KYODO_HOME/var/idp)")
    register.add_argument("--keycloak", metavar="FILE", default=None,
                          help="also write the client for the production Keycloak realm (kcadm.sh create clients)")
    register.set_defaults(func=_register_client_command)
