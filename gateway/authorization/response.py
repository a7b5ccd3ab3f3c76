"""Put the removed fields back into a response as nulls.

The plan is built from the pruned document, so its result lacks the removed fields. If the
response is shaped from the client's original operation, a missing field already reads as null
and this is not needed; otherwise the HTTP stage calls `null_removed_fields(data, result.removed_paths)`.
"""

from __future__ import annotations

from typing import Any, Iterable

from gateway.authorization.pruning import LIST_MARKER, Path


def _fill(value: Any, path: Path) -> None:
    if not path or value is None:
        return
    head, rest = path[0], path[1:]
    if head == LIST_MARKER:
        if isinstance(value, list):
            for item in value:
                _fill(item, rest)
        return
    if not isinstance(value, dict):
        return
    if not rest:
        value.setdefault(head, None)
    else:
        _fill(value.get(head), rest)


def null_removed_fields(data: dict | None, removed_paths: Iterable[Path]) -> dict | None:
    """Adds `key: null` for each removed path whose parent object is present; returns `data`."""
    if data is None:
        return None
    for path in removed_paths:
        _fill(data, tuple(path))
    return data
