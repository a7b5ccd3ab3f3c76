"""The gateway as a graphql-transport-ws client of a subgraph: one WebSocket per client subscription.

`open_subgraph_stream(session, url, query, variables, headers)` yields each `next` payload (a GraphQL
response) until the subgraph sends `complete`. A subgraph that refuses (`error`), closes the socket
or cannot be reached raises `SubgraphStreamError`; leaving the iteration early (the client went away)
sends `complete` and closes the socket.

The headers are the ones a query fetch to that subgraph would carry (the plugins' `subgraph_request`
hooks: the Kyodo-Context token, the request id, `traceparent`), sent on the upgrade request.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncGenerator, Mapping

import aiohttp
import orjson

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION_ID = "1"  # one subscription per socket


class SubgraphStreamError(Exception):
    """The subgraph's stream failed; `reason` is safe to show a client (no addresses, no traces)."""

    def __init__(self, reason: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


async def open_subgraph_stream(session: aiohttp.ClientSession, url: str, query: str,
                               variables: Mapping[str, Any] | None, headers: Mapping[str, str], *,
                               ack_timeout: float = 10.0) -> AsyncGenerator[dict[str, Any], None]:
    try:
        ws = await session.ws_connect(
            url, protocols=(PROTOCOL,), headers=dict(headers), autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
        )
    except aiohttp.WSServerHandshakeError as error:
        raise SubgraphStreamError(f"the subgraph refused the WebSocket upgrade ({error.status})") from None
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
        raise SubgraphStreamError(f"the subgraph could not be reached ({type(error).__name__})") from None
    completed = False
    try:
        if ws.protocol != PROTOCOL:
            raise SubgraphStreamError("the subgraph does not speak graphql-transport-ws")
        await ws.send_str(orjson.dumps({"type": "connection_init"}).decode())
        ack = await _receive(ws, ack_timeout)
        if ack.get("type") != "connection_ack":
            raise SubgraphStreamError("the subgraph did not acknowledge the connection")
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = dict(variables)
        await ws.send_str(orjson.dumps({"id": SUBSCRIPTION_ID, "type": "subscribe", "payload": payload}).decode())
        while True:
            message = await _receive(ws, None)
            kind = message.get("type")
            if kind == "ping":
                await ws.send_str(orjson.dumps({"type": "pong"}).decode())
            elif kind == "next" and message.get("id") == SUBSCRIPTION_ID:
                body = message.get("payload")
                if isinstance(body, dict):
                    yield body
            elif kind == "error" and message.get("id") == SUBSCRIPTION_ID:
                completed = True
                errors = message.get("payload")
                raise SubgraphStreamError("the subgraph refused the subscription",
                                          [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [])
            elif kind == "complete" and message.get("id") == SUBSCRIPTION_ID:
                completed = True
                return
    finally:
        if not completed and not ws.closed:
            try:
                await ws.send_str(orjson.dumps({"id": SUBSCRIPTION_ID, "type": "complete"}).decode())
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                pass
        await ws.close()


async def _receive(ws: aiohttp.ClientWebSocketResponse, timeout: float | None) -> dict[str, Any]:
    try:
        message = await asyncio.wait_for(ws.receive(), timeout)
    except asyncio.TimeoutError:
        raise SubgraphStreamError("the subgraph did not answer in time") from None
    if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
        try:
            decoded = orjson.loads(message.data)
        except orjson.JSONDecodeError:
            raise SubgraphStreamError("the subgraph sent a message that is not JSON") from None
        if isinstance(decoded, dict):
            return decoded
        raise SubgraphStreamError("the subgraph sent a message that is not an object")
    raise SubgraphStreamError("the subgraph closed the subscription's connection")
