"""How a subgraph logs the errors of a GraphQL request.

strawberry logs every error at ERROR with its traceback, so each expected refusal, unknown id or bad argument
looked like a crash. Here an expected client error (a `KyodoError`, or graphql-core's own parse, validation and
variable errors) is one INFO line without a traceback: code, path, message, request id. Anything else is a
defect and keeps its full traceback at ERROR (the client still sees only "Internal server error", from
`errors.SafeErrors`).

`install_error_logging(schema)` puts this in place of strawberry's `Schema.process_errors` on one schema
instance; `create_subgraph_app` does it for every subgraph.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from subgraphs.common.errors import KyodoError

log = logging.getLogger("kyodo.subgraphs.errors")


def client_error_code(error: GraphQLError) -> str | None:
    """The `extensions.code` of an expected client error; None for an unexpected one."""
    original = error.original_error
    if isinstance(original, KyodoError):
        return original.code
    if isinstance(original, GraphQLError) and original.original_error is None:
        return (original.extensions or {}).get("code") or "GRAPHQL_ERROR"
    if original is None:   # made by graphql-core itself: the request was bad (syntax, validation, variables)
        return (error.extensions or {}).get("code") or ("GRAPHQL_PARSE_FAILED" if error.message.startswith(
            "Syntax Error") else "GRAPHQL_VALIDATION_FAILED")
    return None


def _request_id(execution_context: Any) -> str:
    context = getattr(execution_context, "context", None)
    return str(getattr(context, "request_id", None) or "-")


def _path(error: GraphQLError) -> str:
    return ".".join(str(part) for part in error.path) if error.path else "-"


def log_graphql_errors(errors: list[GraphQLError], execution_context: Any = None) -> None:
    """One line per client error at INFO; a traceback at ERROR for anything unexpected."""
    request_id = _request_id(execution_context)
    for error in errors:
        code = client_error_code(error)
        if code is not None:
            log.info("client error %s at %s: %s (request %s)", code, _path(error), error.message, request_id)
        else:
            log.error("unexpected error at %s: %s (request %s)", _path(error), error.message, request_id,
                      exc_info=error.original_error)


def install_error_logging(schema: Any) -> None:
    """Make `schema` log through `log_graphql_errors` (an instance attribute shadows strawberry's method)."""
    schema.process_errors = log_graphql_errors
