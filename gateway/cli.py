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
