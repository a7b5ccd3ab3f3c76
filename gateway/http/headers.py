"""Drop every client-sent `kyodo-*` header at the edge.

`Kyodo-Context` and its kin are minted by the gateway for subgraphs; a client copying one in
must not reach anything downstream (authenticator, hooks, logs) as if the gateway had set it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_PREFIX = b"kyodo-"


class StripKyodoHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            if any(name.lower().startswith(_PREFIX) for name, _ in headers):
                scope = dict(scope)
                scope["headers"] = [(n, v) for n, v in headers if not n.lower().startswith(_PREFIX)]
        await self.app(scope, receive, send)
