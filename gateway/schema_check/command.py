"""`kyodo check OLD NEW [--operations MANIFEST] [--contract NAME --config FILE]`: may NEW replace OLD?

OLD and NEW are SDL files: a supergraph (its API schema is compared: what clients see) or a plain schema
(an API or contract SDL, e.g. downloaded from /contracts/vendor/schema.graphql). With `--contract`, both
supergraphs are filtered through that contract of the settings first. Every change is printed as
breaking / dangerous / safe; with `--operations`, the manifest's operations a change breaks are named.

Exit status, for CI: 0 no breaking change (dangerous ones are printed, not failed), 1 a breaking change
(or an operation broken), 2 usage (a file that cannot be read or parsed, bad settings).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_schema

from gateway.persisted.manifest import ManifestError, parse_manifest
from gateway.schema_check.classify import BREAKING, DANGEROUS, SAFE, classify_changes
from gateway.schema_check.operations import broken_operations


class CheckError(Exception):
    """A usage problem: one line, exit 2."""


def _is_supergraph(sdl: str) -> bool:
    return "specs.apollo.dev/join/" in sdl or "join__Graph" in sdl


def load_schema(path: str, contract: tuple[tuple[str, ...], tuple[str, ...]] | None) -> GraphQLSchema:
    try:
        sdl = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CheckError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        if _is_supergraph(sdl):
            if contract is not None:
                from gateway.contracts import ContractError, contract_schema

                try:
                    return contract_schema(sdl, *contract)
                except ContractError as error:
                    raise CheckError(f"{path}: {error}") from None
            from gateway.supergraph import SupergraphError, load_supergraph

            try:
                return load_supergraph(sdl).api_schema
            except SupergraphError as error:
                raise CheckError(f"{path}: {' '.join(str(error).split())}") from None
        if contract is not None:
            raise CheckError(f"{path}: --contract needs supergraphs; this is a plain schema")
        return build_schema(sdl)
    except GraphQLError as error:
        raise CheckError(f"{path}: not a valid schema: {' '.join(error.message.split())}") from None
    except (TypeError, ValueError) as error:  # graphql-core's build errors for inconsistent SDL
        raise CheckError(f"{path}: not a valid schema: {' '.join(str(error).split())}") from None


def _contract(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not args.contract:
        return None
    from gateway.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
    except SettingsError as error:
        raise CheckError(str(error)) from None
    contract = settings.contracts.get(args.contract)
    if contract is None:
        raise CheckError(f"no contract named {args.contract!r} in {args.config or 'the settings'} "
                         f"(known: {', '.join(sorted(settings.contracts)) or 'none'})")
    return contract.include, contract.exclude


def check_command(args: argparse.Namespace) -> int:
    try:
        contract = _contract(args)
        old, new = load_schema(args.old, contract), load_schema(args.new, contract)
        operations = None
        if args.operations:
            try:
                operations = parse_manifest(Path(args.operations).read_bytes())
            except OSError as error:
                raise CheckError(f"cannot read {args.operations}: {error.strerror or error}") from None
            except ManifestError as error:
                raise CheckError(f"{args.operations}: {error}") from None
    except CheckError as error:
        print(f"kyodo check: {error}", file=sys.stderr)
        return 2
    changes = classify_changes(old, new)
    for level in (BREAKING, DANGEROUS, SAFE):
        for change in (c for c in changes if c.level == level):
            print(f"{level:<9}  {change.kind:<34} {change.description}")
    counts = {level: sum(1 for c in changes if c.level == level) for level in (BREAKING, DANGEROUS, SAFE)}
    broken = broken_operations(old, new, operations, changes) if operations is not None else []
    for item in broken:
        print(f"operation {item.label} breaks: {'; '.join(item.reasons)}")
    summary = f"{counts[BREAKING]} breaking, {counts[DANGEROUS]} dangerous, {counts[SAFE]} safe"
    if operations is not None:
        summary += f"; {len(broken)} of {len(operations)} operations broken"
    print(summary if changes or operations is not None else "no changes")
    return 1 if counts[BREAKING] or broken else 0
