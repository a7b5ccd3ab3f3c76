"""Put the removed fields back into a response as nulls.

The plan is built from the pruned document, so its result lacks the removed fields; the
pipeline calls `null_removed_fields(data, result.removed_paths)` after execution. A removed
field that the schema declares non-null cannot be null, so, as GraphQL's null propagation would,
its nearest nullable ancestor becomes null instead (all of `data` if there is none).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from gateway.authorization.pruning import LIST_MARKER, Path


def _fill(value: Any, path: Path, nullable: Sequence[bool]) -> bool:
    """Fill below `value`; True when `value` itself must become null."""
    head, rest = path[0], path[1:]
    if head == LIST_MARKER:
        if not isinstance(value, list):
            return False
        for index, item in enumerate(value):
            if item is not None and rest and _fill(item, rest, nullable[1:]):
                if nullable[0]:
                    value[index] = None
                else:
                    return True
        return False
    if not isinstance(value, dict):
        return False
    if not rest:
        if head in value:
            return False  # another selection of the same key was kept and answered
        if nullable[0]:
            value[head] = None
            return False
        return True
    child = value.get(head)
    if child is None or not _fill(child, rest, nullable[1:]):
        return False
    if nullable[0]:
        value[head] = None
        return False
    return True


def null_removed_fields(data: dict[str, Any] | None, removed_paths: Iterable[Path]) -> dict[str, Any] | None:
    """Adds `key: null` for each removed path whose parent object is present (with null
    propagation for non-null fields); returns `data`, or None when the null reaches the root."""
    if data is None:
        return None
    for path in removed_paths:
        if not path:
            continue
        nullable = getattr(path, "nullable", None) or (True,) * len(path)
        if _fill(data, tuple(path), nullable):
            return None
    return data
