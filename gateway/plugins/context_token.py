"""The signed Kyodo-Context token: what each subgraph is told about the caller.

`context_headers(principal, subgraph)` (gateway/security.py's GatewaySecurity.context_headers) is
added to every subgraph fetch; anonymous callers get nothing. With the security stage given, its
JWKS is served for subgraphs and its sessions are closed at shutdown.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from gateway.plugins.protocol import SubgraphRequest

# context_headers(principal, subgraph_name) -> headers added to that subgraph's fetches
ContextHeaders = Callable[[Any, str], Mapping[str, str]]


class ContextTokenPlugin:
    name = "context_token"

    def __init__(self, context_headers: ContextHeaders, security: Any = None) -> None:
        self.context_headers = context_headers
        self.security = security

    async def subgraph_request(self, event: SubgraphRequest) -> None:
        headers = self.context_headers(event.state.principal, event.subgraph)
        if headers:
            event.headers.update(headers)

    def routes(self) -> list[Any]:
        if self.security is None:
            return []
        from starlette.routing import Route

        from gateway.security import CONTEXT_JWKS_PATH

        return [Route(CONTEXT_JWKS_PATH, self.security.jwks_endpoint, methods=["GET"])]

    async def close(self) -> None:
        if self.security is not None:
            await self.security.close()
