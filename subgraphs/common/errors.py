"""GraphQL errors with `extensions.code`, and the schema extension that keeps internals away from clients.

Resolvers raise `KyodoError` (or one of the helpers). Anything else a resolver raises reaches the client only as
"Internal server error" with code INTERNAL_SERVER_ERROR; its traceback goes to the log (`error_logging`).
Errors without a path (parse, validation, variable coercion) are the client's and keep their message.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
PLATFORM_NOT_JOINED = "PLATFORM_NOT_JOINED"
DATABASE_BUSY = "DATABASE_BUSY"
AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
ENTITIES_BATCH_TOO_LARGE = "ENTITIES_BATCH_TOO_LARGE"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


class KyodoError(Exception):
    """An error whose message and code are meant for the client."""

    code = INTERNAL_SERVER_ERROR

    def __init__(self, message: str, code: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        # Strawberry copies `extensions` from the original error into the GraphQL error.
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(KyodoError):
    code = BAD_USER_INPUT


class Unauthenticated(KyodoError):
    code = UNAUTHENTICATED


class Forbidden(KyodoError):
    code = FORBIDDEN


class NotFound(KyodoError):
    code = NOT_FOUND


class Conflict(KyodoError):
    code = CONFLICT


class PlatformNotJoined(KyodoError):
    code = PLATFORM_NOT_JOINED


class DatabaseBusy(KyodoError):
    """No pooled connection came free in time: answered at once instead of holding the request."""

    code = DATABASE_BUSY


class AuditUnavailable(KyodoError):
    """The request's audit records could not be written, so none of its personal data is returned."""

    code = AUDIT_UNAVAILABLE


# The outcomes of the personal-data rule that refuse one item (a field, a list entry) rather than fail the
# request: the schema makes those positions nullable so the refusal stays where it happened.
REFUSAL_CODES = frozenset({FORBIDDEN, UNAUTHENTICATED, PLATFORM_NOT_JOINED})


def is_refusal(error: BaseException) -> bool:
    return isinstance(error, KyodoError) and error.code in REFUSAL_CODES


def _client_error(error: GraphQLError) -> GraphQLError:
    """Keep a client-facing error, making sure it carries a code."""
    original = error.original_error
    if isinstance(original, KyodoError):
        extensions = dict(error.extensions or {})
        extensions.update(original.extensions)
        return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path,
                            None, extensions)
    if error.extensions and "code" in error.extensions:
        return error
    # No path: the request itself was bad (syntax, unknown field, wrong variable type).
    if error.message.startswith("Syntax Error"):
        code = GRAPHQL_PARSE_FAILED
    elif "Variable" in error.message or "value" in error.message.lower():
        code = BAD_USER_INPUT
    else:
        code = GRAPHQL_VALIDATION_FAILED
    return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path,
                        None, {**(error.extensions or {}), "code": code})


class SafeErrors(MaskErrors):
    """Give every error an `extensions.code`; replace unexpected exceptions by a generic message."""

    def __init__(self) -> None:
        super().__init__(error_message="Internal server error")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if isinstance(original, KyodoError) or original is None or error.path is None:
                processed.append(_client_error(error))
                continue
            if isinstance(original, GraphQLError) and original.original_error is None:
                processed.append(_client_error(original))  # a resolver re-raised a client-shaped error
                continue
            processed.append(GraphQLError(self.error_message, error.nodes, error.source, error.positions,
                                          error.path, None, {"code": INTERNAL_SERVER_ERROR}))
        return processed
