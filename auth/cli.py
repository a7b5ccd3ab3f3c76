"""Subcommands of this package for the `kyodo` command (see kyodo/cli.py)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands; each sets `func` to a callable taking the parsed args."""
