"""How the executor talks to subgraphs: the `SubgraphFetcher` protocol and its aiohttp implementation."""

from __future__ import annotations

from typing import Any, Callable, Protocol

import aiohttp
import orjson


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
        try:
            async with self.session.post(url, data=orjson.dumps(payload), headers=headers) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise SubgraphRequestError(subgraph, f"request failed: {error.__class__.__name__}") from error
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not JSON") from error
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphRequestError(subgraph, f"HTTP {status}, body is not a GraphQL response")
        return parsed
