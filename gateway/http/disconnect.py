"""Cancel a GraphQL request whose client has gone (pure ASGI, around the app).

Neither uvicorn nor Starlette stops a handler when its client disconnects: the gateway would go on planning
and fetching for nobody, and the subgraphs with it. This middleware watches the connection for
`http.disconnect` and cancels the request's task; cancelling it cancels its subgraph fetches, whose closed
connections in turn make each subgraph cancel its work (subgraphs/common/load_shedding.py).

The body is still read when the app asks for it (its size limit keeps applying); only once it has all arrived
(or at once for GET, whose body nobody reads) is the connection watched, and what the watcher reads is handed
to the app if it asks.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, Awaitable, Callable, MutableMapping

log = logging.getLogger("kyodo.gateway.http")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# what the watcher keeps of a GET's body for an app that would read it (nobody does); more is dropped
_GET_BODY_KEPT = 64 * 1024


class CancelOnDisconnect:
    def __init__(self, app: Any, paths: tuple[str, ...]) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.cancelled = 0   # requests cancelled because their client left (tests, metrics)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        eager = scope.get("method") in ("GET", "HEAD")
        inbox: collections.deque[Message] = collections.deque()
        arrived = asyncio.Event()   # something for the app in `inbox`, or the client is gone
        wanted = asyncio.Event()    # the app waits for the next part of the body
        gone = False
        answered = False

        async def watch() -> None:
            nonlocal gone
            body_done = False
            kept = 0
            while True:
                if not (body_done or eager):
                    await wanted.wait()
                    wanted.clear()
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone = True
                    arrived.set()
                    return
                if message["type"] == "http.request":
                    body_done = body_done or not message.get("more_body", False)
                    kept += len(message.get("body", b""))
                    if not eager or kept <= _GET_BODY_KEPT:
                        inbox.append(message)
                        arrived.set()

        async def app_receive() -> Message:
            while True:
                if inbox:
                    return inbox.popleft()
                if gone:
                    return {"type": "http.disconnect"}
                arrived.clear()
                wanted.set()
                await arrived.wait()

        async def noting_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        work = asyncio.ensure_future(self.app(scope, app_receive, noting_send))
        watcher = asyncio.ensure_future(watch())
        try:
            await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done() and gone and not answered:
                work.cancel()
                self.cancelled += 1
                log.info("client went away before its answer; %s %s and its subgraph fetches were cancelled",
                         scope.get("method"), scope.get("path"))
                try:
                    await work
                except asyncio.CancelledError:
                    pass
                return
            await work   # finished (or the watcher failed): wait for the answer, re-raise what the app raised
        finally:
            watcher.cancel()
            if watcher.done() and not watcher.cancelled():
                watcher.exception()   # retrieved: a failed receive only ends the watching
            if not work.done():
                work.cancel()
