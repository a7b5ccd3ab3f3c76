"""A graphql-transport-ws client over a real WebSocket (aiohttp), and real uvicorn subgraph servers, for the
subscription tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx

from tests.integration.servers import LoopbackServer

MESSAGE_TIMEOUT = 10.0     # generous: a bound on a hung test, not a latency assertion
QUIET_SECONDS = 0.5        # how long "no event arrives" is watched for


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class TransportWs:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = iter(range(1, 1_000_000))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def receive(self, timeout: float = MESSAGE_TIMEOUT) -> dict[str, Any]:
        """The next protocol message (pings answered); Closed when the server closes the socket."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                raise Closed(self.ws.close_code, str(message.extra or ""))
            body = json.loads(message.data)
            if body.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return body

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self.ids))
        await self.send({"id": operation_id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})
        return operation_id

    async def next_payload(self, operation_id: str, timeout: float = MESSAGE_TIMEOUT) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message.get("id") == operation_id and message["type"] == "next", message
        return message["payload"]

    async def next_payload_of(self, operation_ids: tuple[str, ...], timeout: float = MESSAGE_TIMEOUT) -> dict[str, Any]:
        """The next `next` payload of any of these operations (their order between them is not defined)."""
        message = await self.receive(timeout)
        assert message.get("id") in operation_ids and message["type"] == "next", message
        return message["payload"]

    async def refusal(self, operation_id: str) -> list[dict[str, Any]]:
        """The errors an operation ended with: an `error` message, or a `next` with errors then `complete`."""
        message = await self.receive()
        assert message.get("id") == operation_id, message
        if message["type"] == "error":
            return message["payload"]
        assert message["type"] == "next" and message["payload"].get("errors"), message
        assert (await self.receive()) == {"id": operation_id, "type": "complete"}
        return message["payload"]["errors"]

    async def nothing_for(self, seconds: float = QUIET_SECONDS) -> None:
        try:
            message = await self.receive(seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")


@asynccontextmanager
async def transport_ws(base_url: str, headers: dict[str, str] | None = None,
                       init: bool = True) -> AsyncIterator[TransportWs]:
    """A connection to `base_url`/graphql, acknowledged (connection_init sent, connection_ack read)."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(base_url.replace("http", "ws", 1) + "/graphql", protocols=("graphql-transport-ws",),
                                      headers=headers or {}, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            client = TransportWs(ws)
            if init:
                await client.send({"type": "connection_init", "payload": {}})
                ack = await client.receive()
                assert ack["type"] == "connection_ack", ack
            yield client


@asynccontextmanager
async def served(app: Any, name: str = "subgraph") -> AsyncIterator[str]:
    """`app` served by uvicorn on a free loopback port (in a thread of its own); yields its base URL."""
    server = LoopbackServer(name)
    await asyncio.to_thread(server.start, app)
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)


async def wait_subscribed(app: Any, topic: str, count: int = 1, timeout: float = MESSAGE_TIMEOUT) -> None:
    """Until `count` subscriptions to `topic` are live in `app` (its broker is listening): a subscribe message
    has no acknowledgement in graphql-transport-ws, so an event published before this could be missed."""
    deadline = time.monotonic() + timeout
    while app.state.events.subscriber_count(topic) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"no live subscription to {topic!r} after {timeout}s")
        await asyncio.sleep(0.01)


async def post(base_url: str, query: str, variables: dict[str, Any] | None = None,
               token: str | None = None) -> dict[str, Any]:
    headers = {"Kyodo-Context": token} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=MESSAGE_TIMEOUT) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
