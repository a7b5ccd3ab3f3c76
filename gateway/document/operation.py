"""Which operation of a validated document a request runs (read from the document's analyses)."""

from __future__ import annotations

from graphql.language import OperationDefinitionNode

from gateway.document.cache import ValidDocument


def select_operation(valid: ValidDocument, operation_name: str | None) -> OperationDefinitionNode:
    """The operation's definition, or GraphQLRequestError (400); for readers that need only the AST
    (the request log). The pipeline reads `valid.operation(name)`, the whole analysis."""
    return valid.operation(operation_name).operation
