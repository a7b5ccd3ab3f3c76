"""Find the objects an entity fetch applies to and build their `_entities` representations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

from gateway.planner import PlanSelection

JsonObject = dict[str, Any]
# a response path as a chain of (parent chain, key) pairs, built without copying lists
PathChain = Union[tuple["PathChain", Union[str, int]], None]


def objects_at(data: Any, path: Sequence[str]) -> list[JsonObject]:
    """Every object at a Flatten path (response keys; "@" walks into a list), in response order."""
    level: list[Any] = [data]
    # comprehensions, not loops calling append: this walks every object of the response so far
    for segment in path:
        if segment == "@":
            level = [item for value in level if type(value) is list for item in value]
        else:
            level = [child for value in level if type(value) is dict
                     and (child := value.get(segment)) is not None]
    found: list[Any] = []
    for value in level:
        if type(value) is dict:
            found.append(value)
        elif type(value) is list:  # a list the path did not mark (defensive)
            found.extend(item for item in value if type(item) is dict)
    return found


def objects_with_paths(data: Any, path: Sequence[str]) -> list[tuple[JsonObject, PathChain]]:
    """`objects_at`, each object with its response path as a chain of (parent, key) pairs; only
    needed to place a subgraph's errors, so it is walked only when there are some."""
    level: list[Any] = [(data, None)]
    for segment in path:
        following: list[Any] = []
        append = following.append
        if segment == "@":
            for value, at in level:
                if type(value) is list:
                    for i, item in enumerate(value):
                        if item is not None:
                            append((item, (at, i)))
        else:
            for value, at in level:
                if type(value) is dict:
                    child = value.get(segment)
                    if child is not None:
                        append((child, (at, segment)))
        level = following
    found: list[Any] = []
    for value, at in level:
        if type(value) is dict:
            found.append((value, at))
        elif type(value) is list:
            found.extend((item, (at, i)) for i, item in enumerate(value) if type(item) is dict)
    return found


def path_list(chain: PathChain) -> list[str | int]:
    out: list[str | int] = []
    while chain is not None:
        chain, key = chain
        out.append(key)
    out.reverse()
    return out


def build_representation(obj: JsonObject, selection: PlanSelection,
                         applies: Callable[[str | None, str | None], bool]) -> JsonObject:
    out: JsonObject = {}
    for f in selection.fields:
        if f.response_key not in obj:
            continue
        value = obj[f.response_key]
        if f.sub is not None and value is not None:
            value = _nested(value, f.sub, applies)
        out[f.name] = value
    if selection.fragments:
        typename = obj.get("__typename")
        for frag in selection.fragments:
            if applies(frag.type_condition, typename):
                for k, v in build_representation(obj, frag.sub, applies).items():
                    if isinstance(v, dict) and isinstance(out.get(k), dict):
                        out[k] = {**out[k], **v}
                    else:
                        out[k] = v
    return out


def _nested(value: Any, selection: PlanSelection, applies: Callable[[str | None, str | None], bool]) -> Any:
    if isinstance(value, list):
        return [_nested(v, selection, applies) if v is not None else None for v in value]
    if isinstance(value, dict):
        return build_representation(value, selection, applies)
    return value
