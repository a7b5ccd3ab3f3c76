"""Field sets (`@key(fields:)`, `@requires`, `@provides`): parse them and find the fields they select."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import FieldNode, GraphQLSyntaxError, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse

from gateway.composition.subgraph import Subgraph
from gateway.composition.type_refs import named_type


class FieldSetError(Exception):
    pass


@dataclass(frozen=True)
class Selected:
    """One field a field set selects; `external_parent` is True when an ancestor in the set is external."""

    type_name: str
    field_name: str
    is_leaf: bool
    has_arguments_in_set: bool
    depth: int


def parse_selection_set(fields: str) -> SelectionSetNode:
    try:
        document = parse("{" + fields + "}")
    except GraphQLSyntaxError as err:
        raise FieldSetError(f"invalid field set: {err.message}") from None
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


def walk_field_set(subgraph: Subgraph, type_name: str, fields: str) -> list[Selected]:
    """Every field selected, in order; raises FieldSetError naming the unknown field or type."""
    out: list[Selected] = []
    _walk(subgraph, type_name, parse_selection_set(fields), out, 0)
    return out


def _walk(subgraph: Subgraph, type_name: str, selection_set: SelectionSetNode, out: list[Selected], depth: int) -> None:
    parent = subgraph.types.get(type_name)
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if parent is None or parent.kind not in ("OBJECT", "INTERFACE") or name not in parent.fields:
                raise FieldSetError(f'Cannot query field "{name}" on type "{type_name}"')
            field_def = parent.fields[name]
            out.append(Selected(type_name, name, selection.selection_set is None, bool(selection.arguments), depth))
            if selection.selection_set is not None:
                _walk(subgraph, named_type(field_def.type), selection.selection_set, out, depth + 1)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else type_name
            if condition not in subgraph.types:
                raise FieldSetError(f'Unknown type "{condition}"')
            _walk(subgraph, condition, selection.selection_set, out, depth)
        else:
            raise FieldSetError("named fragment spreads are not allowed in field sets")


_CONTEXT_RE = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.DOTALL)


def parse_context(value: str) -> tuple[str, str]:
    """`@fromContext(field: "$ctx { prop }")` -> ("ctx", " { prop }")."""
    match = _CONTEXT_RE.match(value)
    if not match:
        return "", value
    return match.group(1), match.group(2)


def context_selection_fields(selection: str) -> str:
    """The selection of a context reference without its outer braces, as a field set."""
    text = selection.strip()
    return text[1:-1] if text.startswith("{") and text.endswith("}") else text


def target_fields(subgraph: Subgraph, type_name: str, fields: str, with_implementations: bool) -> set[tuple[str, str]]:
    """The (type, field) pairs a field set touches; unparsable sets touch nothing (validation reports them)."""
    try:
        selected = walk_field_set(subgraph, type_name, fields)
    except FieldSetError:
        return set()
    out: set[tuple[str, str]] = set()
    for s in selected:
        out.add((s.type_name, s.field_name))
        if with_implementations:
            parent = subgraph.types.get(s.type_name)
            if parent is not None and parent.kind == "INTERFACE":
                for impl in subgraph.implementations(s.type_name):
                    if s.field_name in impl.fields:
                        out.add((impl.name, s.field_name))
    return out
