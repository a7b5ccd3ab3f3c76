"""Parse a federation FieldSet string (`"id organization { id }"`) into a selection set."""

from __future__ import annotations

from graphql import OperationDefinitionNode, SelectionSetNode, parse


def parse_field_set(text: str) -> SelectionSetNode:
    document = parse("{" + text + "}", no_location=True)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set
