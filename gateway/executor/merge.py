"""Merge subgraph results into the gateway's working response tree."""

from __future__ import annotations

from typing import Any

from gateway.planner import PlanSelection


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge `source` into `target` in place; lists merge item by item, a null never erases an object."""
    if target.keys().isdisjoint(source):
        # the common case (an entity's fields land on an object that has only its key): the loop below
        # would store every value as it is, so let dict.update do it in C
        target.update(source)
        return
    for key, value in source.items():
        current = target.get(key)
        if current is None:
            target[key] = value
        elif isinstance(current, dict):
            if isinstance(value, dict):
                deep_merge(current, value)
        elif isinstance(current, list):
            if isinstance(value, list) and len(value) == len(current):
                _merge_lists(current, value)
        elif value is not None:
            target[key] = value


def _merge_lists(current: list[Any], value: list[Any]) -> None:
    for i, item in enumerate(value):
        existing = current[i]
        if isinstance(existing, dict) and isinstance(item, dict):
            deep_merge(existing, item)
        elif isinstance(existing, list) and isinstance(item, list) and len(existing) == len(item):
            _merge_lists(existing, item)
        elif existing is None:
            current[i] = item


def apply_renames(value: Any, selection: PlanSelection) -> None:
    """Give aliased fields (see PlanField.sent_key) back their response keys, in place."""
    if isinstance(value, list):
        for item in value:
            apply_renames(item, selection)
        return
    if not isinstance(value, dict):
        return
    for f in selection.fields:
        if f.sent_key is not None and f.sent_key in value:
            value[f.response_key] = value.pop(f.sent_key)
        if f.sub is not None:
            child = value.get(f.response_key)
            if child is not None:
                apply_renames(child, f.sub)
    for frag in selection.fragments:
        apply_renames(value, frag.sub)
