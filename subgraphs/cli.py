"""Subgraph subcommands of `kyodo` (see kyodo/cli.py):

    kyodo subgraph NAME --port N [--host H] [--migrate]   run one subgraph (subgraphs/<name>/app.py: create_app())
    kyodo migrate [NAME…]                                  Alembic upgrade to head (subgraphs/<name>/migrations/)
    kyodo seed [NAME…]                                     migrate, then subgraphs/<name>/seed.py: seed(session)
    kyodo import KIND FILE.csv [--partial]                 open-data CSV import (evacuation_space, aed, preschool)
    kyodo audit verify [--subgraph NAME]                   check each keyed audit chain and its latest signed checkpoint
    kyodo audit checkpoint [--subgraph NAME]               sign each log's head into the checkpoint sink now
    kyodo audit export [--from D] [--to D] [--output F]    JSON Lines for an auditor, with the verification result
    kyodo usage [--subgraph NAME] [--period YYYY-MM]       co-use counters per municipality, for cost sharing
    kyodo usage report --month YYYY-MM [--out DIR]         the monthly cost-sharing report (CSV + PNG bar chart)
    kyodo co-use list|join|leave PLATFORM [CODE] [--on D] memberships of a platform; join or leave from a day on
    kyodo visitors purge [--retention-days N]              delete visitor shelter stays past retention after closing
    kyodo currency expire [--date YYYY-MM-DD]              book due point expiries (the nightly job) and report them
    kyodo relay grants [--every SECONDS]                   relay identity's currency grant requests to currency
    kyodo dev                                              migrate + seed + run everything (subgraphs/common/dev_stack.py)

Each database comes from `KYODO_<NAME>_DATABASE_URL`, default `<KYODO_HOME>/var/<name>.sqlite` (kyodo/home.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

SUBGRAPHS = ("childcare", "safety", "currency", "identity")
IMPORT_KINDS = {"evacuation_space": "safety", "aed": "safety", "preschool": "childcare"}
SUBGRAPHS_DIR = Path(__file__).resolve().parent

WS_MAX_MESSAGE_BYTES = 256 * 1024   # one graphql-transport-ws message (a subscribe carries its query text)


def _missing_part(name: str, part: str) -> str | None:
    """None if subgraphs/<name>/<part> exists (a module or a directory), else a message saying so."""
    if (SUBGRAPHS_DIR / name / f"{part}.py").exists() or (SUBGRAPHS_DIR / name / part).is_dir():
        return None
    return f"subgraph {name} has no {part} yet (subgraphs/{name}/{part}); skipped"


def _subgraph_name(value: str) -> str:
    if value not in SUBGRAPHS:
        raise argparse.ArgumentTypeError(f"unknown subgraph {value!r}; choose from {', '.join(SUBGRAPHS)}")
    return value


def _names(requested: list[str]) -> list[str]:
    return list(dict.fromkeys(requested)) or list(SUBGRAPHS)


# --- kyodo subgraph -------------------------------------------------------------------------------------

def _subgraph(args: argparse.Namespace) -> int:
    missing = _missing_part(args.name, "app")
    if missing:
        print(f"kyodo subgraph: {missing}", file=sys.stderr)
        return 2
    if args.migrate:
        code = _migrate_names([args.name])
        if code:
            return code
    import uvicorn

    from subgraphs.common.service_callers import ServiceCallerSettingsError

    try:
        app = importlib.import_module(f"subgraphs.{args.name}.app").create_app()
    except ServiceCallerSettingsError as error:
        print(f"kyodo subgraph {args.name}: {error}", file=sys.stderr)
        return 2
    print(f"kyodo subgraph {args.name} at http://{args.host}:{args.port}/graphql", flush=True)
    # WebSocket messages are subscribe requests from the gateway: a small bound instead of uvicorn's 16 MiB
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                server_header=False, ws_max_size=WS_MAX_MESSAGE_BYTES)
    return 0


# --- kyodo migrate / seed -------------------------------------------------------------------------------

def _migrate_names(names: list[str]) -> int:
    from subgraphs.common.db import default_url, upgrade

    for name in names:
        missing = _missing_part(name, "migrations")
        if missing:
            print(missing)
            continue
        try:
            upgrade(name)
        except Exception as error:  # noqa: BLE001 - one line per failure, not a traceback
            print(f"kyodo migrate: {name}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print(f"{name}: migrated to head ({_display_url(default_url(name))})")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    return _migrate_names(_names(args.names))


async def _seed_one(name: str) -> None:
    from subgraphs.common.db import Database

    seed = importlib.import_module(f"subgraphs.{name}.seed").seed
    database = Database.for_subgraph(name)
    try:
        async with database.transaction() as session:
            await seed(session)
    finally:
        await database.dispose()


def _seed_names(names: list[str]) -> int:
    code = _migrate_names(names)
    if code:
        return code
    for name in names:
        missing = _missing_part(name, "seed") or _missing_part(name, "migrations")
        if missing:
            print(missing)
            continue
        try:
            asyncio.run(_seed_one(name))
        except Exception as error:  # noqa: BLE001
            print(f"kyodo seed: {name}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print(f"{name}: seeded")
    return 0


def _seed(args: argparse.Namespace) -> int:
    return _seed_names(_names(args.names))


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- kyodo import ---------------------------------------------------------------------------------------

def _import(args: argparse.Namespace) -> int:
    subgraph = IMPORT_KINDS[args.kind]
    try:
        importer = importlib.import_module(f"subgraphs.{subgraph}.importer")
    except ModuleNotFoundError:
        print(f"kyodo import: the {subgraph} importer is not available", file=sys.stderr)
        return 2
    code = _migrate_names([subgraph])
    if code:
        return code
    file_error = getattr(importer, "ImportFileError", None)
    try:
        report = asyncio.run(importer.import_csv(args.kind, args.file, partial=args.partial))
    except Exception as error:  # noqa: BLE001
        if file_error is not None and isinstance(error, file_error):
            print(f"kyodo import: {error}", file=sys.stderr)
            return 2
        print(f"kyodo import: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(report.summary() if hasattr(report, "summary") else report)
    return 1 if getattr(report, "errors", None) else 0


# --- kyodo audit verify / checkpoint / export -------------------------------------------------------------

async def _open_audit(name: str):  # noqa: ANN202 - (Database | None, reason)
    """The subgraph's database if it holds an audit log; (None, "absent") otherwise."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.engine import make_url

    from subgraphs.common.db import Database, default_url

    url = default_url(name)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return None
    database = Database(name, url)
    async with database.engine.connect() as connection:
        has_table = await connection.run_sync(lambda c: sa_inspect(c).has_table("audit_record"))
    if not has_table:
        await database.dispose()
        return None
    return database


async def _verify_one(name: str):  # noqa: ANN202 - Verification | None | str
    """The verification of one subgraph's log (chain + latest checkpoint); None when there is no log yet."""
    from subgraphs.common.audit_keys import current_keys
    from subgraphs.common.audit_verify import verify_log

    database = await _open_audit(name)
    if database is None:
        return None
    try:
        async with database.sessions() as session:
            return await verify_log(session, current_keys(), name, database.url)
    finally:
        await database.dispose()


_KIND_TEXT = {"edited": "edited", "deleted": "deleted", "truncated": "truncated (missing at the end)",
              "rechained": "re-chained", "checkpoint": "checkpoint does not verify"}


def _report(name: str, verification) -> list[str]:  # noqa: ANN001
    lines = []
    for finding in verification.findings:
        where = f"audit record {finding.record_id} " if finding.record_id is not None else ""
        text = finding.kind if finding.kind in ("edited", "deleted") else _KIND_TEXT[finding.kind]
        lines.append(f"{name}: {where}{text}: {finding.detail}" if finding.kind not in ("edited", "deleted")
                     else f"{name}: {where}{text}")
    return lines


def _audit_verify(args: argparse.Namespace) -> int:
    from subgraphs.common.audit_keys import AuditKeyError

    names = [args.subgraph] if args.subgraph else list(SUBGRAPHS)
    status = 0
    for name in names:
        try:
            verification = asyncio.run(_verify_one(name))
        except AuditKeyError as error:
            print(f"{name}: cannot verify: {error}", file=sys.stderr)
            status = max(status, 2)
            continue
        except Exception as error:  # noqa: BLE001
            print(f"{name}: cannot verify: {type(error).__name__}: {error}", file=sys.stderr)
            status = max(status, 2)
            continue
        if verification is None:
            print(f"{name}: no audit log yet (database not migrated)")
        elif verification.intact:
            anchor = (f"matches the signed checkpoint of {verification.checkpoint.at} at record "
                      f"{verification.checkpoint.last_id}" if verification.anchored
                      else "no checkpoint yet: truncation cannot be detected until one is written")
            print(f"{name}: audit chain intact ({verification.head_id} records, head {verification.head_hash}); "
                  f"{anchor}")
        else:
            status = max(status, 1)
            for line in _report(name, verification):
                print(line)
    return status


async def _checkpoint_one(name: str):  # noqa: ANN202
    from sqlalchemy import select

    from subgraphs.common.audit import AuditHead
    from subgraphs.common.audit_checkpoints import CheckpointStore
    from subgraphs.common.audit_keys import current_keys

    database = await _open_audit(name)
    if database is None:
        return None
    try:
        async with database.sessions() as session:
            head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    finally:
        await database.dispose()
    if head is None:
        return None
    return CheckpointStore(current_keys(), database.url).write(name, head.last_id, head.last_hash,
                                                               head.keyed_from or 1)


def _audit_checkpoint(args: argparse.Namespace) -> int:
    """Sign the current head of each log into the sink now (for cron, and before an export)."""
    names = [args.subgraph] if args.subgraph else list(SUBGRAPHS)
    for name in names:
        try:
            checkpoint = asyncio.run(_checkpoint_one(name))
        except Exception as error:  # noqa: BLE001
            print(f"{name}: cannot write a checkpoint: {type(error).__name__}: {error}", file=sys.stderr)
            return 2
        if checkpoint is None:
            print(f"{name}: no audit log yet (database not migrated)")
        else:
            print(f"{name}: checkpoint at record {checkpoint.last_id} written to {checkpoint.path}")
    return 0


async def _export_one(name: str, since: str | None, until: str | None, out) -> int | None:  # noqa: ANN001
    import json

    from sqlalchemy import select

    from subgraphs.common.audit import AuditRecord
    from subgraphs.common.audit_keys import current_keys
    from subgraphs.common.audit_verify import verify_log

    database = await _open_audit(name)
    if database is None:
        return None
    try:
        async with database.sessions() as session:
            verification = await verify_log(session, current_keys(), name, database.url)
            out.write(json.dumps({"type": "verification", "from": since, "to": until, **verification.as_dict()},
                                 ensure_ascii=False) + "\n")
            statement = select(AuditRecord).order_by(AuditRecord.id)
            if since:
                statement = statement.where(AuditRecord.at >= since)
            if until:
                statement = statement.where(AuditRecord.at < until)
            count = 0
            async for row in await session.stream_scalars(statement.execution_options(yield_per=500)):
                record = {column: getattr(row, column) for column in
                          ("id", "at", "subgraph", "actor", "actor_municipality", "subject", "subject_municipality",
                           "purpose", "result", "prev_hash", "hash", "key_id")}
                record["fields"] = json.loads(row.fields)
                out.write(json.dumps({"type": "record", **record}, ensure_ascii=False) + "\n")
                count += 1
        return count if verification.intact else -1 - count
    finally:
        await database.dispose()


def _day_bound(value: str | None, end: bool) -> str | None:
    """A YYYY-MM-DD (or full ISO timestamp) bound as the text the records' `at` is compared with."""
    if value is None:
        return None
    if len(value) == 10:
        day = _iso_date(value)
        if end:
            from datetime import timedelta

            day = day + timedelta(days=1)   # --to is inclusive of that whole day
        return day.isoformat() + "T00:00:00.000000Z"
    return value


def _audit_export(args: argparse.Namespace) -> int:
    """JSON Lines for an auditor: first the verification result, then each record in the range."""
    since, until = _day_bound(args.from_, False), _day_bound(args.to, True)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    status = 0
    try:
        for name in ([args.subgraph] if args.subgraph else list(SUBGRAPHS)):
            try:
                written = asyncio.run(_export_one(name, since, until, out))
            except Exception as error:  # noqa: BLE001
                print(f"kyodo audit export: {name}: {type(error).__name__}: {error}", file=sys.stderr)
                return 2
            if written is not None and written < 0:
                status = 1
                print(f"kyodo audit export: {name}: the log does NOT verify (see the verification line)",
                      file=sys.stderr)
    finally:
        if args.output:
            out.close()
    return status


# --- kyodo usage ---------------------------------------------------------------------------------------

async def _usage_rows(name: str, period: str | None) -> list:
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.engine import make_url

    from subgraphs.common import co_use
    from subgraphs.common.db import Database, default_url

    url = default_url(name)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return []
    database = Database(name, url)
    try:
        async with database.engine.connect() as connection:
            if not await connection.run_sync(lambda c: sa_inspect(c).has_table("co_use_usage")):
                return []
        async with database.sessions() as session:
            return await co_use.usage_report(session, period=period)
    finally:
        await database.dispose()


def _usage(args: argparse.Namespace) -> int:
    from subgraphs.common.municipality import MUNICIPALITIES

    from kyodo.text_table import format_table

    names = [args.subgraph] if args.subgraph else list(SUBGRAPHS)
    rows = []
    for name in names:
        for row in asyncio.run(_usage_rows(name, args.period)):
            known = MUNICIPALITIES.get(row.municipality_code)
            label = f"{row.municipality_code} {known.name if known else ''}".strip()
            rows.append((name, row.platform, row.period, label, row.requests, row.records))
    # Aligned by display width: municipality names are kanji, two columns each.
    print(format_table(("subgraph", "platform", "period", "municipality", "accesses", "records"), rows,
                       right=(4, 5)))
    return 0


# --- kyodo currency expire ------------------------------------------------------------------------------

def _iso_date(value: str):  # noqa: ANN202 - date
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


async def _expire(day) -> object:  # noqa: ANN001
    from subgraphs.common.db import Database
    from subgraphs.currency.expiry_job import run_expiry

    database = Database.for_subgraph("currency")
    try:
        return await run_expiry(database, day)
    finally:
        await database.dispose()


def _currency_expire(args: argparse.Namespace) -> int:
    code = _migrate_names(["currency"])
    if code:
        return code
    try:
        report = asyncio.run(_expire(args.date))
    except Exception as error:  # noqa: BLE001 - one line, and the transaction rolled back
        print(f"kyodo currency expire: {type(error).__name__}: {error} (nothing was expired)", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


# --- kyodo relay grants ---------------------------------------------------------------------------------

def _relay_grants(args: argparse.Namespace) -> int:
    from subgraphs.grant_relay.command import run
    from subgraphs.grant_relay.settings import RelaySettings

    if args.every is not None and args.every <= 0:
        print("kyodo relay grants: --every must be a positive number of seconds", file=sys.stderr)
        return 2
    from gateway.settings import SettingsError

    try:
        settings = RelaySettings.from_env(gateway_url=args.gateway, issuer=args.issuer, batch=args.batch,
                                          identity_url=args.identity)
    except SettingsError as error:
        print(f"kyodo relay grants: {error}", file=sys.stderr)
        return 2
    return run(settings, args.every)


# --- kyodo dev ------------------------------------------------------------------------------------------

def _dev(args: argparse.Namespace) -> int:
    from subgraphs.common.dev_stack import DevPorts, DevStack, busy_ports_message

    ports = DevPorts.from_args(args)
    busy = busy_ports_message(args.host, ports, with_gateway=not args.no_gateway, with_idp=not args.no_idp)
    if busy:
        print(busy, file=sys.stderr)
        return 1
    if not args.no_idp:
        # The gateway's playground offers "Sign in" with the dev IdP (gateway/http/playground/sign_in.py);
        # DevStack hands this environment to the gateway it starts.
        os.environ.setdefault("KYODO_PLAYGROUND_SIGN_IN_ISSUER", f"http://{args.host}:{ports.idp}")
    code = _seed_names([n for n in SUBGRAPHS if not _missing_part(n, "app")])
    if code:
        return code
    return DevStack(host=args.host, ports=ports, with_gateway=not args.no_gateway, with_idp=not args.no_idp).run()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands; each sets `func` to a callable taking the parsed args."""
    subgraph = subparsers.add_parser("subgraph", help="run one municipal subgraph (uvicorn)")
    subgraph.add_argument("name", choices=SUBGRAPHS)
    subgraph.add_argument("--host", default="127.0.0.1")
    subgraph.add_argument("--port", type=int, required=True)
    subgraph.add_argument("--migrate", action="store_true", help="apply the Alembic migrations first")
    subgraph.add_argument("--log-level", default="info")
    subgraph.set_defaults(func=_subgraph)

    migrate = subparsers.add_parser("migrate", help="upgrade subgraph databases to the newest schema")
    migrate.add_argument("names", nargs="*", type=_subgraph_name, metavar="NAME", default=[],
                         help=f"any of {', '.join(SUBGRAPHS)} (default: all)")
    migrate.set_defaults(func=_migrate)

    seed = subparsers.add_parser("seed", help="migrate, then load the deterministic synthetic data")
    seed.add_argument("names", nargs="*", type=_subgraph_name, metavar="NAME", default=[],
                      help=f"any of {', '.join(SUBGRAPHS)} (default: all)")
    seed.set_defaults(func=_seed)

    importer = subparsers.add_parser("import", help="import a Digital Agency open-data CSV")
    importer.add_argument("kind", choices=sorted(IMPORT_KINDS))
    importer.add_argument("file", metavar="FILE.csv")
    importer.add_argument("--partial", action="store_true",
                          help="import the good rows even if some are rejected (default: all or nothing)")
    importer.set_defaults(func=_import)

    audit = subparsers.add_parser("audit", help="the tamper-evident audit logs")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="verify the keyed chains against the latest signed "
                                                      "checkpoints; exit 1 naming edits, deletions, truncation, "
                                                      "re-chaining")
    verify.add_argument("--subgraph", choices=SUBGRAPHS, default=None)
    verify.set_defaults(func=_audit_verify)
    checkpoint = audit_commands.add_parser("checkpoint", help="sign each log's current head into the checkpoint "
                                                              "sink now ($KYODO_AUDIT_CHECKPOINT_DIR)")
    checkpoint.add_argument("--subgraph", choices=SUBGRAPHS, default=None)
    checkpoint.set_defaults(func=_audit_checkpoint)
    export = audit_commands.add_parser("export", help="JSON Lines for an auditor: the verification result, then "
                                                      "the records from --from to --to (days inclusive)")
    export.add_argument("--subgraph", choices=SUBGRAPHS, default=None)
    export.add_argument("--from", dest="from_", default=None, metavar="YYYY-MM-DD")
    export.add_argument("--to", default=None, metavar="YYYY-MM-DD")
    export.add_argument("--output", default=None, metavar="FILE", help="default: standard output")
    export.set_defaults(func=_audit_export)

    usage = subparsers.add_parser("usage", help="co-use counters per municipality and platform (cost sharing)")
    usage.add_argument("--subgraph", choices=SUBGRAPHS, default=None)
    usage.add_argument("--period", default=None, metavar="YYYY-MM")
    usage.set_defaults(func=_usage)
    from subgraphs.common.usage_report_command import register_report   # kyodo usage report --month YYYY-MM

    register_report(usage)

    from subgraphs.identity.visitor_command import register as register_visitors   # kyodo visitors purge

    register_visitors(subparsers)
    from subgraphs.common.co_use_command import register as register_co_use   # kyodo co-use list|join|leave

    register_co_use(subparsers)

    currency = subparsers.add_parser("currency", help="currency platform jobs")
    currency_commands = currency.add_subparsers(dest="currency_command", metavar="ACTION", required=True)
    expire = currency_commands.add_parser("expire", help="book every due point expiry (nightly) and report it")
    expire.add_argument("--date", type=_iso_date, default=None,
                        help="expire lots that ended before this day (default: today in the currency's time zone)")
    expire.set_defaults(func=_currency_expire)

    relay = subparsers.add_parser("relay", help="outbox relays between subgraphs")
    relay_commands = relay.add_subparsers(dest="relay_command", metavar="WHAT", required=True)
    grants = relay_commands.add_parser("grants", help="hand identity's pending currency grant requests to currency")
    grants.add_argument("--gateway", default=None, help="gateway GraphQL URL ($KYODO_RELAY_GATEWAY_URL, "
                                                        "default http://127.0.0.1:4000/graphql)")
    grants.add_argument("--identity", default=None, help="the identity subgraph's GraphQL URL, asked directly "
                        "($KYODO_RELAY_IDENTITY_URL, default http://127.0.0.1:4104/graphql)")
    grants.add_argument("--issuer", default=None, help="IdP issuer ($KYODO_RELAY_ISSUER, default http://127.0.0.1:4400)")
    grants.add_argument("--batch", type=int, default=None, help="requests per round (default 50)")
    grants.add_argument("--every", type=float, default=None, metavar="SECONDS",
                        help="keep running, one round every SECONDS (what `kyodo dev` does)")
    grants.set_defaults(func=_relay_grants)

    dev = subparsers.add_parser("dev", help="migrate + seed, then run the four subgraphs, the dev IdP and the gateway")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--gateway-port", type=int, default=4000)
    dev.add_argument("--idp-port", type=int, default=4400)
    dev.add_argument("--subgraph-port", action="append", default=[], metavar="NAME=PORT",
                     help="override a subgraph's port (defaults 4101-4104); repeatable")
    dev.add_argument("--no-gateway", action="store_true")
    dev.add_argument("--no-idp", action="store_true")
    dev.set_defaults(func=_dev)
