"""The persisted-operation manifest, in the format Apollo's generate-persisted-query-manifest (and Hive's
app deployments, converted the same way) produce:

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "Me", "type": "query", "body": "query Me { ... }"}]}

Parsing checks the whole file before anything is published: one bad entry refuses the manifest, with a
message naming the entry (`operations[3].body: must be a non-empty string`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = ("query", "mutation", "subscription")
MAX_ID_LENGTH = 256


class ManifestError(ValueError):
    """A manifest that cannot be published; one line naming the entry and what is wrong."""


@dataclass(frozen=True, slots=True)
class PersistedOperation:
    id: str
    name: str | None
    type: str
    body: str

    def to_json(self) -> bytes:
        return orjson.dumps({"id": self.id, "name": self.name, "type": self.type, "body": self.body})

    @classmethod
    def from_json(cls, raw: bytes | str) -> PersistedOperation:
        data = orjson.loads(raw)
        return cls(data["id"], data.get("name"), data["type"], data["body"])


def sha256_hex(text: str) -> str:
    """The id Apollo clients send for a document: the hex sha256 of its exact text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_manifest(raw: bytes | str) -> list[PersistedOperation]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ManifestError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ManifestError("must be a JSON object with format, version and operations")
    if data.get("format") != FORMAT:
        raise ManifestError(f'format: must be "{FORMAT}"')
    if data.get("version") != 1:
        raise ManifestError("version: must be 1")
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError("operations: must be a list")
    parsed: list[PersistedOperation] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(operations):
        where = f"operations[{index}]"
        parsed.append(_operation(entry, where))
        operation = parsed[-1]
        if operation.id in seen and seen[operation.id] != operation.body:
            # One id, two documents: a client could not know which one runs.
            raise ManifestError(f"{where}.id: {operation.id!r} is also the id of a different body")
        seen[operation.id] = operation.body
    return parsed


def _operation(entry: Any, where: str) -> PersistedOperation:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: must be an object with id, name, type and body")
    unknown = set(entry) - {"id", "name", "type", "body"}
    if unknown:
        raise ManifestError(f"{where}.{sorted(unknown)[0]}: unknown key")
    identifier, name, kind, body = entry.get("id"), entry.get("name"), entry.get("type"), entry.get("body")
    if not isinstance(identifier, str) or not identifier or len(identifier) > MAX_ID_LENGTH or not identifier.isprintable():
        raise ManifestError(f"{where}.id: must be a non-empty printable string of at most {MAX_ID_LENGTH} characters")
    if name is not None and not isinstance(name, str):
        raise ManifestError(f"{where}.name: must be a string")
    if kind not in OPERATION_TYPES:
        raise ManifestError(f"{where}.type: must be one of {', '.join(OPERATION_TYPES)}")
    if not isinstance(body, str) or not body.strip():
        raise ManifestError(f"{where}.body: must be a non-empty string")
    return PersistedOperation(identifier, name or None, kind, body)
