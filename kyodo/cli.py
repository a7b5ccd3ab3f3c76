"""The `kyodo` command. Each package registers its own subcommands, so this file only dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that expose `register(subparsers)`; each adds its subcommands with `set_defaults(func=...)`.
COMMAND_MODULES = ("gateway.cli", "subgraphs.cli", "auth.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyodo", description="kyodo federation gateway and municipal subgraphs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kyodo.home import home_defaults

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # Databases and dev state live under KYODO_HOME (default: this checkout), not the current directory.
    with home_defaults():
        result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
