"""Serve ASGI apps over real HTTP on free loopback ports (uvicorn in a thread), and record what they receive.

The socket is bound before the app exists, so a component can learn its own URL first (the gateway's URL is
what the subgraphs are told to fetch its context-token JWKS from) and no port is ever guessed or reused.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn

START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


class LoopbackServer:
    """One uvicorn server on 127.0.0.1:<free port>; `url` is known from construction on."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self, app: Any) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"serve-{self.name}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"{self.name} did not start at {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=STOP_TIMEOUT_SECONDS)
        self.socket.close()


@dataclass
class ReceivedCall:
    path: str
    query: str | None
    variables: dict
    has_context: bool   # whether a Kyodo-Context header came with it

    @property
    def representations(self) -> list:
        return list(self.variables.get("representations") or [])


@dataclass
class CallRecorder:
    """ASGI middleware: remembers every HTTP request a subgraph receives (path, GraphQL text, context header)."""

    app: Any
    calls: list[ReceivedCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {name.decode("latin-1").lower() for name, _ in scope.get("headers", [])}
        self._remember(scope["path"], body, "kyodo-context" in headers)
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _remember(self, path: str, body: bytes, has_context: bool) -> None:
        query, variables = None, {}
        try:
            payload = json.loads(body) if body else {}
            query, variables = payload.get("query"), payload.get("variables") or {}
        except (ValueError, AttributeError):
            pass
        with self.lock:
            self.calls.append(ReceivedCall(path, query, variables, has_context))

    def count(self) -> int:
        with self.lock:
            return len(self.calls)

    def since(self, mark: int) -> list[ReceivedCall]:
        with self.lock:
            return list(self.calls[mark:])
