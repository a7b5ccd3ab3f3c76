"""Find the objects an entity fetch applies to and build their `_entities` representations."""

from __future__ import annotations

from typing import Callable

from gateway.planner.fetch_selection import FetchSelection


def objects_at(data, path: list[str]) -> list[tuple[dict, list]]:
    """Every object at a Flatten path, with its concrete response path (list indices filled in)."""
    found: list[tuple[dict, list]] = []

    def walk(value, i: int, at: list) -> None:
        if value is None:
            return
        if i == len(path):
            if isinstance(value, dict):
                found.append((value, at))
            elif isinstance(value, list):  # a list the path did not mark (defensive)
                for j, item in enumerate(value):
                    walk(item, i, at + [j])
            return
        segment = path[i]
        if segment == "@":
            if isinstance(value, list):
                for j, item in enumerate(value):
                    walk(item, i + 1, at + [j])
            return
        if isinstance(value, dict):
            walk(value.get(segment), i + 1, at + [segment])

    walk(data, 0, [])
    return found


def build_representation(obj: dict, selection: FetchSelection, applies: Callable[[str | None, str | None], bool]) -> dict:
    out: dict = {}
    for f in selection.fields.values():
        if f.response_key not in obj:
            continue
        value = obj[f.response_key]
        if f.sub is not None and value is not None:
            value = _nested(value, f.sub, applies)
        out[f.name] = value
    if selection.fragments:
        typename = obj.get("__typename")
        for frag in selection.fragments.values():
            if applies(frag.type_condition, typename):
                for k, v in build_representation(obj, frag.sub, applies).items():
                    if isinstance(v, dict) and isinstance(out.get(k), dict):
                        out[k] = {**out[k], **v}
                    else:
                        out[k] = v
    return out


def _nested(value, selection: FetchSelection, applies):
    if isinstance(value, list):
        return [_nested(v, selection, applies) if v is not None else None for v in value]
    if isinstance(value, dict):
        return build_representation(value, selection, applies)
    return value
