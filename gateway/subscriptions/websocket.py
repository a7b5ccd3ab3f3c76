"""GraphQL over WebSocket, the graphql-transport-ws protocol (the `graphql-ws` library's), on the
gateway's GraphQL paths.

connection_init (with the token, if not on the upgrade request) -> connection_ack; then any number of
subscribe/next/error/complete exchanges, each under the client's id; ping/pong either way. Close
codes are the protocol's:

| code | when |
| --- | --- |
| 4400 | a message that is not valid for the protocol (the reason says why) |
| 4401 | subscribe before the connection was acknowledged |
| 4403 | the token was refused at connection_init, or it expired while connected |
| 4406 | the client did not offer the graphql-transport-ws subprotocol |
| 4408 | no connection_init within `connection_init_timeout_seconds` |
| 4409 | subscribe with an id already in use on this connection |
| 4429 | a second connection_init |
| 4500 | the gateway failed (logged; no detail is sent) |

A subscription refused before its first event (validation, authorization of the whole operation,
demand control, rate limit, subscription limits) gets an `error` message with the GraphQL errors; the
connection stays open. When the connection's token expires, each open subscription gets a last
`next` carrying a TOKEN_EXPIRED error and `complete`, and the socket is closed with 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from auth.errors import AuthenticationError
from gateway.document import GraphQLRequestError, graphql_error
from gateway.http.request_reader import request_from_params, require_query
from gateway.pipeline import Pipeline
from gateway.plugins.protocol import RequestState
from gateway.plugins.request_id import request_id_from
from gateway.subscriptions.credentials import CredentialRequest, authorization_from_init, token_expiry
from gateway.subscriptions.limits import LIMIT_CODE
from gateway.subscriptions.service import TOKEN_EXPIRED

log = logging.getLogger("kyodo.gateway.subscriptions.websocket")

PROTOCOL = "graphql-transport-ws"
TRANSPORT = "websocket"


class ProtocolViolation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocketConnection:
    """One client's socket: its credentials, its subscriptions (id -> task)."""

    def __init__(self, gateway: Any, websocket: WebSocket, pipeline: Pipeline | None) -> None:
        self.gateway = gateway
        self.service = gateway.subscriptions
        self.settings = gateway.settings.subscriptions
        self.ws = websocket
        self.pipeline = pipeline
        self.principal: Any = None
        self.expires_at: float | None = None
        self.acknowledged = False
        self.initialising = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.send_lock = asyncio.Lock()
        self.closed = False

    async def serve(self) -> None:
        offered = self.ws.scope.get("subprotocols") or []
        if PROTOCOL not in offered:
            await self.ws.accept()
            await self.close(4406, "Subprotocol not acceptable")
            return
        await self.ws.accept(subprotocol=PROTOCOL)
        expiry_watch: asyncio.Task[None] | None = None
        try:
            try:
                first = await asyncio.wait_for(self._receive(), self.settings.connection_init_timeout_seconds)
            except asyncio.TimeoutError:
                await self.close(4408, "Connection initialisation timeout")
                return
            await self._handle(first)
            if self.expires_at is not None:
                expiry_watch = asyncio.create_task(self._expire_at(self.expires_at))
            while not self.closed:
                await self._handle(await self._receive())
        except ProtocolViolation as violation:
            await self.close(violation.code, violation.reason)
        except WebSocketDisconnect:
            pass
        except Exception:
            # the gateway's fault (e.g. the token issuer's keys could not be fetched): logged, never sent
            log.exception("WebSocket connection failed")
            await self.close(4500, "Internal server error")
        finally:
            self.closed = True
            if expiry_watch is not None:
                expiry_watch.cancel()
            for task in list(self.operations.values()):
                task.cancel()
            if self.operations:
                await asyncio.gather(*self.operations.values(), return_exceptions=True)

    async def _receive(self) -> dict[str, Any]:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes")
        try:
            decoded = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            raise ProtocolViolation(4400, "Invalid message received: not JSON") from None
        if not isinstance(decoded, dict) or not isinstance(decoded.get("type"), str):
            raise ProtocolViolation(4400, "Invalid message received: no type")
        return decoded

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._connection_init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            if not self.acknowledged:
                raise ProtocolViolation(4401, "Unauthorized")
            await self._subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                raise ProtocolViolation(4400, "Invalid message received: complete without an id")
            task = self.operations.pop(operation_id, None)
            if task is not None:
                task.cancel()
        else:
            raise ProtocolViolation(4400, f"Invalid message received: unknown type {kind[:40]!r}")

    async def _connection_init(self, payload: Any) -> None:
        if self.acknowledged or self.initialising:
            raise ProtocolViolation(4429, "Too many initialisation requests")
        self.initialising = True
        try:
            authorization = authorization_from_init(payload)
        except ValueError as error:
            raise ProtocolViolation(4400, f"Invalid message received: {error}") from None
        if authorization is None:
            authorization = self.ws.headers.get("authorization")
        try:
            credentials = CredentialRequest({"authorization": authorization} if authorization is not None else {})
            self.principal = await self.gateway.authenticator(credentials)
        except AuthenticationError as error:
            log.info("WebSocket connection refused: %s", error)
            raise ProtocolViolation(4403, "Forbidden") from None
        self.expires_at = token_expiry(authorization) if self.principal is not None else None
        self.acknowledged = True
        await self.send({"type": "connection_ack"})

    async def _subscribe(self, message: dict[str, Any]) -> None:
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            raise ProtocolViolation(4400, "Invalid message received: subscribe needs an id and a payload")
        if operation_id in self.operations:
            raise ProtocolViolation(4409, f"Subscriber for {operation_id[:64]} already exists")
        if len(self.operations) >= self.settings.max_per_connection:
            await self.send({"id": operation_id, "type": "error", "payload": [graphql_error(
                f"This connection has {self.settings.max_per_connection} subscriptions open, the most one "
                "connection may hold; complete one first.", LIMIT_CODE)]})
            return
        # The slot is taken now, so the id is in use while the operation is being admitted.
        self.operations[operation_id] = asyncio.create_task(self._operate(operation_id, payload))

    async def _operate(self, operation_id: str, payload: dict[str, Any]) -> None:
        try:
            try:
                request = request_from_params(payload)
                state = RequestState(request_id_from(self.ws.headers), "WEBSOCKET", self.ws.url.path, self.ws.headers,
                                     time.perf_counter(), principal=self.principal,
                                     client=self.ws.client.host if self.ws.client else None)
                for resolve in self.gateway.request_resolvers:
                    request = await resolve(request, state)
                require_query(request)
                subscription = await self.service.open(request, state, self.pipeline, transport=TRANSPORT)
            except GraphQLRequestError as error:
                await self.send({"id": operation_id, "type": "error", "payload": error.errors})
                return

            async def deliver(body: dict[str, Any]) -> None:
                await self.send({"id": operation_id, "type": "next", "payload": body})

            await subscription.run(deliver)
            await self.send({"id": operation_id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription %r failed", operation_id)
            with contextlib.suppress(Exception):
                await self.send({"id": operation_id, "type": "error", "payload": [
                    graphql_error("The gateway failed to run this subscription.", "INTERNAL_SERVER_ERROR")]})
        finally:
            if self.operations.get(operation_id) is asyncio.current_task():
                del self.operations[operation_id]

    async def _expire_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        expired = {"data": None, "errors": [graphql_error(
            "The access token this connection was opened with has expired; reconnect with a fresh token.",
            TOKEN_EXPIRED)]}
        for operation_id, task in list(self.operations.items()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.send({"id": operation_id, "type": "next", "payload": expired})
            await self.send({"id": operation_id, "type": "complete"})
        await self.close(4403, "Forbidden")

    async def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        async with self.send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.ws.send_text(orjson.dumps(message).decode())
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.closed = True

    async def close(self, code: int, reason: str) -> None:
        self.closed = True
        async with self.send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, OSError):
                    await self.ws.close(code, reason)


async def websocket_endpoint(gateway: Any, websocket: WebSocket, pipeline: Pipeline | None = None) -> None:
    await WebSocketConnection(gateway, websocket, pipeline).serve()
