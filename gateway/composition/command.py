"""`kyodo compose --subgraphs FILE | --subgraph NAME=URL_OR_FILE … [-o FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.composition.config import SubgraphEntry, read_config, read_sdl_file, run_sync
from gateway.composition.errors import CompositionError


def entry_from_flag(value: str) -> SubgraphEntry:
    """NAME=URL fetches the SDL; NAME=FILE reads it (routing URL empty); NAME=FILE@URL reads it and routes to URL."""
    name, sep, target = value.partition("=")
    if not sep or not name or not target:
        raise CompositionError([f"--subgraph expects NAME=URL_OR_FILE, got {value!r}"])
    if target.startswith(("http://", "https://")):
        return SubgraphEntry(name, target, None)
    path, _, url = target.partition("@")
    return SubgraphEntry(name, url, read_sdl_file(name, path))


def compose_command(args: argparse.Namespace) -> int:
    try:
        if args.subgraphs and args.subgraph:
            raise CompositionError(["Use either --subgraphs FILE or --subgraph NAME=…, not both."])
        if args.subgraphs:
            entries = read_config(args.subgraphs)
        elif args.subgraph:
            entries = [entry_from_flag(v) for v in args.subgraph]
        else:
            raise CompositionError(["Nothing to compose: give --subgraphs FILE or --subgraph NAME=URL_OR_FILE."])
        supergraph = run_sync(entries)
    except CompositionError as err:
        print("composition failed:", file=sys.stderr)
        for message in err.errors:
            print(f"  - {message}", file=sys.stderr)
        return 1
    if args.output:
        try:
            Path(args.output).write_text(supergraph, encoding="utf-8")
        except OSError as err:
            print(f"cannot write {args.output}: {err.strerror}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(supergraph)
    return 0
