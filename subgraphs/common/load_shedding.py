"""Load shedding for a subgraph's /graphql (pure ASGI, outside the app).

- A bound on requests executing at once (`KYODO_SUBGRAPH_MAX_IN_FLIGHT`): past it the request is answered at
  once with 503, `Retry-After` and a GraphQL error body (SERVICE_OVERLOADED), never queued. A queue only
  turns a burst into minutes of latency for everybody; a quick 503 lets the gateway and clients back off.
- A client that disconnects before its answer (the gateway gave up on it) has its work cancelled: the
  request body is read first, then the connection is watched for `http.disconnect`.
- A request that runs past `KYODO_SUBGRAPH_REQUEST_TIMEOUT`, or past the time the gateway has left for it
  (`Kyodo-Request-Timeout-Ms`, milliseconds, sent with every fetch), is cancelled and answered 503
  (REQUEST_TIMEOUT) if nothing was sent yet. The header can only shorten the limit, never lengthen it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from subgraphs.common.serving_settings import ServingSettings

log = logging.getLogger("kyodo.subgraphs.load")

SERVICE_OVERLOADED = "SERVICE_OVERLOADED"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
# what the gateway has left of its client's time budget, in milliseconds (gateway/executor/fetcher.py)
DEADLINE_HEADER = b"kyodo-request-timeout-ms"


def time_limit(scope: dict, ceiling: float) -> float:
    """Seconds this request may run: the subgraph's own limit, or the caller's remaining budget if shorter."""
    for name, value in scope.get("headers") or ():
        if name.lower() == DEADLINE_HEADER:
            try:
                budget = int(value) / 1000
            except ValueError:
                return ceiling   # malformed: ignored, the subgraph's own limit applies
            return min(ceiling, budget) if budget > 0 else ceiling
    return ceiling


def _error_body(message: str, code: str, retry_after: int) -> bytes:
    return json.dumps({"data": None, "errors": [{"message": message,
                                                 "extensions": {"code": code, "retryAfter": retry_after}}]}).encode()


async def _send_503(send: Callable[[dict], Awaitable[None]], message: str, code: str, retry_after: int) -> None:
    body = _error_body(message, code, retry_after)
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LoadShedding:
    def __init__(self, app: Any, settings: ServingSettings | None = None, paths: tuple[str, ...] = ("/graphql",),
                 subgraph: str = "") -> None:
        self.app = app
        self.settings = settings or ServingSettings.from_env()
        self.paths = paths
        self.subgraph = subgraph
        self.in_flight = 0
        self.shed = 0        # answered 503 because the bound was reached (for tests and metrics)
        self.abandoned = 0   # cancelled because the client went away or the time ran out

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.settings.max_in_flight:
            self.shed += 1
            await _send_503(send, f"{self.subgraph or 'this subgraph'} is at capacity; retry shortly",
                            SERVICE_OVERLOADED, self.settings.retry_after)
            return
        self.in_flight += 1
        try:
            await self._run(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _run(self, scope: dict, receive: Any, send: Any) -> None:
        # Read the request first, so that whatever arrives afterwards can only be the client leaving.
        messages: list[dict] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return   # gone before it finished asking
            messages.append(message)
            if not message.get("more_body"):
                break
        gone = asyncio.Event()

        async def replay() -> dict:
            if messages:
                return messages.pop(0)
            await gone.wait()
            return {"type": "http.disconnect"}

        started = answered = False

        async def noting_send(message: dict) -> None:
            nonlocal started, answered
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True   # servers report "disconnect" once the answer is out: that is no abandonment
            await send(message)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        work = asyncio.ensure_future(self.app(scope, replay, noting_send))
        watcher = asyncio.ensure_future(watch())
        limit = time_limit(scope, self.settings.request_timeout)
        try:
            done, _ = await asyncio.wait({work, watcher}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            if work in done or answered:
                await work   # finished, or only returning after its answer: re-raise what the app raised
                return
            work.cancel()
            self.abandoned += 1
            if watcher in done:
                log.info("%s: client went away; its request was cancelled", self.subgraph)
            else:
                log.warning("%s: request ran past its %.3f s limit%s and was cancelled", self.subgraph, limit,
                            " (the gateway's remaining budget)" if limit < self.settings.request_timeout else "")
            try:
                await work
            except asyncio.CancelledError:
                pass
            except Exception as error:  # noqa: BLE001 - cleanup after cancel failed; the request is over anyway
                log.warning("%s: cancelled request ended with %s", self.subgraph, type(error).__name__)
            if watcher not in done and not started:
                await _send_503(send, "the request took too long and was abandoned; retry shortly",
                                REQUEST_TIMEOUT, self.settings.retry_after)
        finally:
            watcher.cancel()
            if not work.done():
                work.cancel()
