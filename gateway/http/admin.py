"""The admin listener ([admin] port): /metrics and /health for the monitoring network only.

`kyodo serve` runs ONE uvicorn server on two sockets, the public port and the admin port, and
`ListenerRouter` sends each request to the app of the socket it arrived on (the ASGI scope's
`server` is the local address). The public app has no /metrics unless
`[admin] metrics_on_public_port = true`; health stays on both (load balancers probe the serving
port, and it says nothing but "UP").
"""

from __future__ import annotations

import socket
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


class ListenerRouter:
    def __init__(self, public: ASGIApp, admin: ASGIApp, admin_port: int) -> None:
        self.public = public
        self.admin = admin
        self.admin_port = admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            server = scope.get("server")
            if server is not None and server[1] == self.admin_port:
                await self.admin(scope, receive, send)
                return
        await self.public(scope, receive, send)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket for uvicorn (which would bind only one itself)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def wrap_for_admin(app: Any, admin_port: int) -> Any:
    """The app to serve when an admin port is configured (the admin app was built by create_app)."""
    return ListenerRouter(app, app.state.admin_app, admin_port)
