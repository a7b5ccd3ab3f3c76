"""Read a GraphQL-over-HTTP request (GET query string or POST JSON body) into a GraphQLRequest.

Everything malformed is a GraphQLRequestError with status 400 (413 for a body over the limit,
415 for a POST that is not JSON): the client always gets a GraphQL error body.
"""

from __future__ import annotations

from typing import Any, Mapping

import orjson
from starlette.requests import Request

from gateway.document import GraphQLRequestError
from gateway.pipeline import GraphQLRequest

BAD_REQUEST = "BAD_REQUEST"


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(chunks)


def _too_large(max_bytes: int) -> GraphQLRequestError:
    return GraphQLRequestError.single(
        f"Request body exceeds the maximum of {max_bytes} bytes.", "REQUEST_TOO_LARGE", status=413
    )


def request_from_json_body(body: bytes, content_type: str | None) -> GraphQLRequest:
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    if essence != "application/json":
        raise GraphQLRequestError.single(
            "POST requests must have Content-Type: application/json.", "UNSUPPORTED_MEDIA_TYPE", status=415
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise GraphQLRequestError.single("The request body is not valid JSON.", BAD_REQUEST) from None
    if isinstance(payload, list):
        raise GraphQLRequestError.single("Batched requests are not supported; send one operation.", BAD_REQUEST)
    if not isinstance(payload, dict):
        raise GraphQLRequestError.single("The request body must be a JSON object.", BAD_REQUEST)
    return request_from_params(payload)


def request_from_query_string(params: Mapping[str, str]) -> GraphQLRequest:
    values: dict[str, Any] = {name: params.get(name) for name in ("query", "operationName", "documentId")}
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw is not None and raw != "":
            try:
                values[name] = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise GraphQLRequestError.single(f'"{name}" must be a JSON-encoded object.', BAD_REQUEST) from None
    return request_from_params(values)


def request_from_params(params: Mapping[str, Any]) -> GraphQLRequest:
    """A GraphQL request from its parameters (a JSON body's, or a WebSocket subscribe payload's)."""
    query = params.get("query")
    extensions = params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise GraphQLRequestError.single('"extensions" must be an object.', BAD_REQUEST)
    document_id = params.get("documentId")
    if document_id is not None and (not isinstance(document_id, str) or not document_id):
        raise GraphQLRequestError.single('"documentId" must be a non-empty string.', BAD_REQUEST)
    if query is None or query == "":
        if document_id is None and not (extensions and "persistedQuery" in extensions):
            raise GraphQLRequestError.single('The request has no "query".', BAD_REQUEST)
        query = ""  # a persisted document's id: resolved by the persisted-documents plugin, or refused
    if not isinstance(query, str):
        raise GraphQLRequestError.single('"query" must be a string.', BAD_REQUEST)
    operation_name = params.get("operationName")
    if operation_name == "":
        operation_name = None
    if operation_name is not None and not isinstance(operation_name, str):
        raise GraphQLRequestError.single('"operationName" must be a string or null.', BAD_REQUEST)
    variables = params.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise GraphQLRequestError.single('"variables" must be an object or null.', BAD_REQUEST)
    return GraphQLRequest(query=query, operation_name=operation_name, variables=variables, extensions=extensions,
                          document_id=document_id)


def require_query(request: GraphQLRequest) -> None:
    """After the persisted-documents plugin (if any) had its turn, an id with no document text is refused."""
    if not request.query:
        raise GraphQLRequestError.single("Persisted queries are not supported.", "PERSISTED_QUERY_NOT_SUPPORTED")
