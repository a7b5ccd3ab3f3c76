"""Real clients for the gateway's subscription transports: graphql-transport-ws over aiohttp's
WebSocket client, and an SSE reader over an aiohttp streaming response."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import aiohttp

PROTOCOL = "graphql-transport-ws"
WAIT = 10.0  # seconds any single expected message may take before a test fails (not a latency bound)


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), WAIT)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text message, got {message.type} {message.data!r} {message.extra!r}")
        return json.loads(message.data)

    async def closed_with(self) -> tuple[int | None, str]:
        """Wait for the server to close the socket: (close code, reason)."""
        while True:
            message = await asyncio.wait_for(self.ws.receive(), WAIT)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return self.ws.close_code, message.extra or ""

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": operation_id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})


async def ws_client(session: aiohttp.ClientSession, url: str, *, protocols: tuple[str, ...] = (PROTOCOL,),
                    headers: dict[str, str] | None = None) -> WsClient:
    ws = await session.ws_connect(url, protocols=protocols, headers=headers or {}, autoclose=False)
    return WsClient(ws)


async def sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream response, comments skipped."""
    event, data = "message", []
    while True:
        raw = await asyncio.wait_for(response.content.readline(), WAIT)
        if not raw:
            return
        line = raw.decode().rstrip("\n").rstrip("\r")
        if line == "":
            if data or event != "message":
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


async def wait_for_subscribers(session: aiohttp.ClientSession, gauges_url: str, station: str, count: int, *,
                               wait: float = WAIT) -> None:
    """Until the gauges subgraph has `count` subscribers for the station (the subscription reached it)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        async with session.post(gauges_url + "/graphql", json={
                "query": "query($s: String!) { subscribers(station: $s) }", "variables": {"s": station}}) as r:
            found = (await r.json())["data"]["subscribers"]
        if found == count:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"station {station} has {found} subscribers at the subgraph, expected {count}")
        await asyncio.sleep(0.02)


async def report_level(session: aiohttp.ClientSession, gauges_url: str, station: str, level_cm: int,
                       sequence: int) -> int:
    async with session.post(gauges_url + "/graphql", json={
            "query": "mutation($s: String!, $l: Int!, $n: Int!) { reportLevel(station: $s, levelCm: $l, sequence: $n) }",
            "variables": {"s": station, "l": level_cm, "n": sequence}}) as r:
        body = await r.json()
    return body["data"]["reportLevel"]
