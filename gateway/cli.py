"""Gateway subcommands: `kyodo serve`, `kyodo plan`, `kyodo compose`.

Each command's body lives beside the stage it drives; this file only declares the arguments.
"""

from __future__ import annotations

import argparse
import sys


def _serve(args: argparse.Namespace) -> int:
    try:
        from gateway.http.command import serve_command
    except Exception as error:  # fail closed: a gateway missing a part never starts half-built
        print(f"kyodo serve: the gateway cannot be loaded: {type(error).__name__}: {' '.join(str(error).split())}",
              file=sys.stderr)
        return 2
    return serve_command(args)


def _plan(args: argparse.Namespace) -> int:
    from gateway.planner.command import plan_command

    return plan_command(args)


def _compose(args: argparse.Namespace) -> int:
    from gateway.composition.command import compose_command

    return compose_command(args)


def _persisted_publish(args: argparse.Namespace) -> int:
    from gateway.persisted.command import publish_command

    return publish_command(args)


def _check(args: argparse.Namespace) -> int:
    from gateway.schema_check.command import check_command

    return check_command(args)


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway (uvicorn + uvloop)")
    source = serve.add_mutually_exclusive_group()
    source.add_argument("--supergraph", metavar="FILE", help="a composed Federation 2 supergraph SDL")
    source.add_argument("--subgraphs", metavar="FILE", help="a config listing subgraphs (name + url or sdl file) to compose")
    serve.add_argument("--config", metavar="FILE", help="gateway settings (TOML)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)

    plan = subparsers.add_parser("plan", help="print the query plan of an operation")
    plan.add_argument("--supergraph", metavar="FILE", required=True)
    plan.add_argument("--operation-name", default=None)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON instead of text")
    plan.add_argument("query", help="the operation text, or @FILE to read it from a file")
    plan.set_defaults(func=_plan)

    compose = subparsers.add_parser("compose", help="compose subgraphs into a supergraph and print it")
    compose.add_argument("--subgraphs", metavar="FILE", help="config listing subgraphs (name + url or sdl file)")
    compose.add_argument("--subgraph", action="append", default=[], metavar="NAME=URL_OR_FILE",
                         help="one subgraph; repeatable")
    compose.add_argument("--output", "-o", metavar="FILE", help="write the supergraph here instead of stdout")
    compose.set_defaults(func=_compose)

    persisted = subparsers.add_parser("persisted", help="trusted documents (persisted operations) for citizen apps")
    persisted_commands = persisted.add_subparsers(dest="persisted_command", required=True)
    publish = persisted_commands.add_parser("publish", help="publish an Apollo persisted-query manifest to the gateway's store")
    publish.add_argument("manifest", metavar="MANIFEST", help="persisted-query-manifest.json")
    publish.add_argument("--config", metavar="FILE", help="gateway settings (TOML): [persisted_documents] names the store")
    publish.add_argument("--supergraph", metavar="FILE", help="validate every operation against this supergraph first")
    publish.set_defaults(func=_persisted_publish)

    check = subparsers.add_parser("check", help="classify schema changes (breaking/dangerous/safe) for CI")
    check.add_argument("old", metavar="OLD", help="the schema in use (SDL: a supergraph or an API/contract schema)")
    check.add_argument("new", metavar="NEW", help="the proposed schema")
    check.add_argument("--operations", metavar="MANIFEST", help="a persisted-query manifest: name the operations NEW breaks")
    check.add_argument("--contract", metavar="NAME", help="compare this contract's schema of both supergraphs")
    check.add_argument("--config", metavar="FILE", help="gateway settings (TOML) defining the contracts")
    check.set_defaults(func=_check)
