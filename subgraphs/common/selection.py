"""Which fields a request asked for under the current field: what an audit record lists as `fields`."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info


def selected_field_names(info: Info) -> list[str]:
    """Field names under the current field (through fragments), sorted; ["id"] when nothing else was asked."""
    names: list[str] = []

    def walk(selections: list[Any]) -> None:
        for selection in selections:
            if hasattr(selection, "name") and hasattr(selection, "arguments"):
                if not selection.name.startswith("__"):
                    names.append(selection.name)
            else:
                walk(getattr(selection, "selections", []) or [])

    for field in info.selected_fields:
        walk(field.selections)
    return sorted(set(names)) or ["id"]
