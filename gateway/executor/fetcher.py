"""How the executor talks to subgraphs: the `SubgraphFetcher` protocol and its aiohttp implementation."""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Protocol

import aiohttp
import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

logger = logging.getLogger(__name__)

_QUERY_START = re.compile(r"\s*(\{|query\b)")


# sent with every subgraph request (aiohttp copies them, so one dict serves all requests)
_BASE_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class SubgraphFetcher(Protocol):
    async def fetch(self, subgraph: str, query: str, variables: dict[str, Any] | None,
                    operation_name: str | None) -> dict[str, Any]: ...


class SubgraphRequestError(Exception):
    """A subgraph could not be reached or did not answer with a GraphQL JSON body."""

    def __init__(self, subgraph: str, reason: str) -> None:
        super().__init__(f"{subgraph}: {reason}")
        self.subgraph = subgraph
        self.reason = reason


class HttpSubgraphFetcher:
    """POSTs GraphQL over one pooled aiohttp session; bodies are (de)serialised with orjson."""

    def __init__(self, session: aiohttp.ClientSession, urls: dict[str, str],
                 headers_for: Callable[[str], dict[str, str]] | None = None) -> None:
        self.session = session
        self.urls = urls
        self.headers_for = headers_for

    async def fetch(self, subgraph: str, query: str, variables: dict[str, Any] | None,
                    operation_name: str | None) -> dict[str, Any]:
        url = self.urls.get(subgraph)
        if not url:
            raise SubgraphRequestError(subgraph, "no URL configured")
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        if operation_name:
            payload["operationName"] = operation_name
        headers = _BASE_HEADERS
        if self.headers_for is not None:
            extra = self.headers_for(subgraph)
            if extra:
                headers = {**_BASE_HEADERS, **extra}
        data = orjson.dumps(payload)
        retry = _is_query(query)
        while True:
            try:
                async with self.session.post(url, data=data, headers=headers) as response:
                    body = await response.read()
                    status = response.status
                break
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                retry = retry and _closed_under_us(error)
                logger.log(logging.INFO if retry else logging.WARNING,
                           "subgraph %s fetch failed (%s at %s): %s: %s%s", subgraph,
                           _describe(query, operation_name), url, error.__class__.__name__, error,
                           "; retrying once on a new connection" if retry else "")
                if not retry:
                    raise SubgraphRequestError(subgraph, f"request failed: {error.__class__.__name__}") from error
                retry = False
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not JSON") from error
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not a GraphQL response")
        return parsed


def _closed_under_us(error: BaseException) -> bool:
    """The connection died after it was handed to us: a pooled one the subgraph closed while idle (its close and
    our write crossed), or one dropped before any answer. Connecting (ClientConnectorError) and timeouts are not
    such errors. aiohttp does not tell us cheaply whether the connection came from the pool; for a read-only
    query one more attempt is harmless either way."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return False
    return isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                              aiohttp.ClientConnectionResetError))


def _is_query(operation: str) -> bool:
    """Only queries are retried: a mutation may have run before its connection went, so resending could run it
    twice. The planner writes the operation keyword first (or the `{` shorthand of a query)."""
    return _QUERY_START.match(operation) is not None


def _describe(operation: str, operation_name: str | None) -> str:
    """`query thing,_entities` for the log: the operation kind and root fields, never arguments or values."""
    try:
        document = parse(operation, no_location=True)
    except GraphQLError:
        return "unparsable operation"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            fields = ",".join(selection.name.value for selection in definition.selection_set.selections
                              if isinstance(selection, FieldNode))
            name = f" {operation_name}" if operation_name else ""
            return f"{definition.operation.value}{name} {fields or '(fragments)'}"
    return "no operation"
