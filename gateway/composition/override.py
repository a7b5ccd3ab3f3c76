"""@override on one field: which subgraph's definition stops resolving it, and whether it is still used.

An overridden field that the source subgraph still needs (in a key, @requires or @provides, or for an
interface) keeps a `@join__field(usedOverridden: true)`; an unused one disappears from that subgraph.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gateway.composition.model import FieldDef, TypeDef
from gateway.composition.supergraph_model import SType

if TYPE_CHECKING:
    from gateway.composition.merger import Merger

LABEL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
PERCENT_RE = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


class FieldContext:
    """Per-field @override outcome: which subgraphs' definitions are overridden, and labels."""

    def __init__(self) -> None:
        self.used_overridden: set[int] = set()
        self.unused_overridden: set[int] = set()
        self.unknown_target: set[int] = set()
        self.labels: dict[int, str] = {}


def validate_override(merger: Merger, parents: list[TypeDef | None], sources: list[FieldDef | None], dest: SType,
                       name: str) -> FieldContext:
    context = FieldContext()
    overriding = [i for i, f in enumerate(sources) if f is not None and f.has("override")]
    coordinate = f"{dest.name}.{name}"
    for i in overriding:
        f = sources[i]
        assert f is not None
        directive = f.first("override")
        assert directive is not None
        parent = parents[i]
        subgraph = merger.names[i]
        if parent is not None and parent.kind == "INTERFACE":
            merger.errors.append(f'[{subgraph}] @override cannot be used on field "{coordinate}" on subgraph '
                               f'"{subgraph}": @override is not supported on interface type fields.')
            continue
        if parent is not None and merger.subgraphs[i].is_interface_object(parent):
            merger.errors.append(f'[{subgraph}] @override is not yet supported on fields of @interfaceObject types: '
                               f'cannot be used on field "{coordinate}" on subgraph "{subgraph}".')
            continue
        source_name = directive.string_arg("from") or ""
        if source_name not in merger.names:
            context.unknown_target.add(i)
            continue
        if source_name == subgraph:
            merger.errors.append(f'[{subgraph}] Source and destination subgraphs "{source_name}" are the same for '
                               f'overridden field "{coordinate}"')
            continue
        from_idx = merger.names.index(source_name)
        if from_idx in overriding:
            merger.errors.append(f'Field "{coordinate}" on subgraph "{subgraph}" is also marked with directive @override '
                               f'in subgraph "{source_name}". Only one @override directive is allowed per field.')
            continue
        from_field = sources[from_idx]
        if from_field is None:
            if merger._itf_object_fields(dest, name, from_idx):
                merger.errors.append(f'[{subgraph}] Invalid @override on field "{coordinate}" of subgraph "{subgraph}": '
                                   f'source subgraph "{source_name}" does not have field "{coordinate}" but abstracts '
                                   "it in an @interfaceObject and overriding abstracted fields is not supported.")
            continue
        conflict = next((d for d in ("requires", "provides") if from_field.has(d)), None)
        if conflict is not None or merger._is_external(i, dest.name, f):
            which = conflict or "external"
            where = source_name if conflict else subgraph
            merger.errors.append(f'[{subgraph}] @override cannot be used on field "{coordinate}" on subgraph '
                               f'"{subgraph}" since "{coordinate}" on "{where}" is marked with directive "@{which}"')
            continue
        from_parent = parents[from_idx]
        assert from_parent is not None
        label = directive.string_arg("label")
        if merger._is_external(from_idx, dest.name, from_field):
            pass  # the source no longer resolves it: nothing to record
        elif merger.facts[from_idx].is_used(from_parent, from_field):
            context.used_overridden.add(from_idx)
        else:
            context.unused_overridden.add(from_idx)
        if label is not None:
            if LABEL_RE.match(label) or PERCENT_RE.match(label):
                context.labels[i] = label
                context.labels[from_idx] = label
            else:
                merger.errors.append(f'[{subgraph}] Invalid @override label "{label}" on field "{coordinate}" on '
                                   f'subgraph "{subgraph}": labels must start with a letter and after that may contain '
                                   'alphanumerics, underscores, minuses, colons, periods, or slashes. Alternatively, '
                                   'labels may be of the form "percent(x)" where x is a float between 0-100 inclusive.')
    return context
