"""Per-request steps on a validated document: pick the operation, coerce the variables."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode

from gateway.document.cache import ValidDocument
from gateway.document.errors import GraphQLRequestError, from_graphql_error


def select_operation(valid: ValidDocument, operation_name: str | None) -> OperationDefinitionNode:
    operations = valid.operations
    if operation_name is None:
        if len(operations) == 1:
            return next(iter(operations.values()))
        raise GraphQLRequestError.single(
            "Must provide operation name if query contains multiple operations.", "GRAPHQL_VALIDATION_FAILED"
        )
    operation = operations.get(operation_name)
    if operation is None:
        raise GraphQLRequestError.single(f'Unknown operation named "{operation_name}".', "GRAPHQL_VALIDATION_FAILED")
    return operation


def check_variables(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]) -> None:
    """Raise a 400 when the variables do not fit the operation's variable definitions.

    The coerced values are not kept: subgraphs get the client's JSON values, which the same
    definitions accept.
    """
    if not operation.variable_definitions:
        return
    result = get_variable_values(schema, operation.variable_definitions, variables, max_errors=20)
    if isinstance(result, list):
        raise GraphQLRequestError([from_graphql_error(e, "BAD_USER_INPUT") for e in result])
