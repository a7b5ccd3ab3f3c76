"""Request errors: what a client did wrong, answered with a GraphQL error body and a 4xx status."""

from __future__ import annotations

from typing import Any, Iterable

from graphql import GraphQLError


def graphql_error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """One entry of a response's `errors` list."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def from_graphql_error(error: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
    formatted["extensions"] = {**extensions, "code": code}
    return formatted


class GraphQLRequestError(Exception):
    """The request cannot be executed at all; the response carries `errors` and no `data`."""

    def __init__(self, errors: Iterable[dict[str, Any]], status: int = 400, headers: dict[str, str] | None = None):
        self.errors = list(errors)
        self.status = status
        self.headers = headers or {}
        super().__init__(self.errors[0]["message"] if self.errors else "request error")

    @classmethod
    def single(
        cls, message: str, code: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> GraphQLRequestError:
        return cls([graphql_error(message, code)], status, headers)
