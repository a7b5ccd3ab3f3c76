"""`kyodo persisted publish MANIFEST [--config FILE] [--supergraph FILE]`: trusted documents into the store.

The store is the one the gateway with these settings reads (`[persisted_documents]`: a directory, or
Redis when `redis_url` is set). The whole manifest is checked first (and, with `--supergraph`, every
operation validated against the API schema): one bad entry and nothing is published. Exit 0 published,
1 refused (an invalid manifest or operation, the store failing), 2 usage (a file that cannot be read,
bad settings).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, parse, validate

from gateway.persisted.manifest import ManifestError, PersistedOperation, parse_manifest
from gateway.persisted.store import StoreError, open_store, store_directory
from gateway.settings import SettingsError, load_settings


def invalid_operations(schema: GraphQLSchema, operations: list[PersistedOperation]) -> list[str]:
    """One line per operation that does not parse or validate against `schema`."""
    problems = []
    for operation in operations:
        label = operation.name or operation.id
        try:
            errors = validate(schema, parse(operation.body))
        except GraphQLError as error:
            errors = [error]
        if errors:
            problems.append(f"{label}: {' '.join(errors[0].message.split())}")
    return problems


def publish_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        raw = Path(args.manifest).read_bytes()
    except SettingsError as error:
        print(f"kyodo persisted: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"kyodo persisted: cannot read {args.manifest}: {error.strerror or error}", file=sys.stderr)
        return 2
    try:
        operations = parse_manifest(raw)
    except ManifestError as error:
        print(f"kyodo persisted: {args.manifest}: {error}; nothing was published", file=sys.stderr)
        return 1
    if args.supergraph:
        from gateway.http.command import ServeError, load_supergraph_text

        try:
            supergraph = load_supergraph_text(Path(args.supergraph).read_text(encoding="utf-8"), args.supergraph)
        except (OSError, ServeError) as error:
            print(f"kyodo persisted: {error}", file=sys.stderr)
            return 2
        problems = invalid_operations(supergraph.api_schema, operations)
        if problems:
            for line in problems:
                print(f"kyodo persisted: invalid against {args.supergraph}: {line}", file=sys.stderr)
            print("kyodo persisted: nothing was published", file=sys.stderr)
            return 1

    async def publish() -> int:
        store = open_store(settings.persisted_documents)
        try:
            return await store.publish(operations)
        finally:
            await store.close()

    try:
        count = asyncio.run(publish())
    except StoreError as error:
        print(f"kyodo persisted: {error}", file=sys.stderr)
        return 1
    where = settings.persisted_documents.redis_url or store_directory(settings.persisted_documents)
    print(f"published {count} trusted document{'s' if count != 1 else ''} to {_redacted(str(where))}")
    if settings.persisted_documents.mode == "off":
        print("note: [persisted_documents] mode is off in these settings; the gateway does not use them yet")
    return 0


def _redacted(where: str) -> str:
    """A Redis URL without its password."""
    if "@" in where and "://" in where:
        scheme, rest = where.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return where
