"""Run an ASGI app on a free ephemeral port in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import uvicorn


@contextmanager
def serve_factory(factory: Callable[[str], object], *, host: str = "127.0.0.1") -> Iterator[tuple[str, object]]:
    """Binds a free port, builds the app from its base URL, serves it; yields (url, app)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    url = f"http://{host}:{sock.getsockname()[1]}"
    app = factory(url)
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", loop="asyncio", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            sock.close()
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield url, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_app(app, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Yields the base URL (http://127.0.0.1:<port>) while the app is served; stops it after."""
    with serve_factory(lambda url: app, host=host) as (url, _):
        yield url
