"""Answer `__schema` / `__type` root fields from the API schema, so they can sit beside ordinary fields."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute_sync,
)

_INTROSPECTION_ROOTS = ("__schema", "__type")


def introspection_data(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                       fragments: dict[str, FragmentDefinitionNode], variables: dict):
    """(data, errors) for the operation's introspection root fields, or None if it has none."""
    from gateway.planner.builder import collect_root_fields

    fields: list[FieldNode] = [f for f in collect_root_fields(operation, fragments) if f.name.value in _INTROSPECTION_ROOTS]
    if not fields:
        return None
    only_introspection = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=None,
        variable_definitions=operation.variable_definitions,
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    doc = DocumentNode(definitions=(only_introspection, *fragments.values()))
    result = execute_sync(schema, doc, variable_values=variables)
    errors = [e.formatted for e in result.errors or ()]
    return (result.data or {}), errors
