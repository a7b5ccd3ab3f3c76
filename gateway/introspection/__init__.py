"""Answer `__schema` / `__type` root fields from the API schema, so they can sit beside ordinary fields."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute_sync,
)

from gateway.document import INTROSPECTION_ROOTS, PreparedOperation


def introspection_data(schema: GraphQLSchema, operation: PreparedOperation) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(data, errors) for the operation's introspection root fields (none: empty data)."""
    fields = tuple(f for f in operation.root_fields if f.name.value in INTROSPECTION_ROOTS)
    if not fields:
        return {}, []
    # The root fields are normalized (fragments inlined), so the document needs no fragment definitions.
    only_introspection = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=None,
        variable_definitions=operation.analysis.variable_definitions,
        directives=(),
        selection_set=SelectionSetNode(selections=fields),
    )
    result = execute_sync(schema, DocumentNode(definitions=(only_introspection,)),
                          variable_values=dict(operation.raw_variables))
    errors = [dict(e.formatted) for e in result.errors or ()]
    return (result.data or {}), errors
