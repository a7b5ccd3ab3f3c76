"""GraphQL over server-sent events, graphql-sse's "distinct connections" mode: one subscription per
HTTP request (POST with a JSON body, or GET with the query string) whose Accept asks for
`text/event-stream`.

Each result is `event: next` with the JSON body as `data`; the end is `event: complete` with an
empty `data` line (what graphql-sse and GraphQL Yoga send, which EventSource needs). A comment line
is sent every `sse_keepalive_seconds` so idle proxies keep the stream. A request refused before its
first event (bad request, token, validation, limits) is answered as any GraphQL request is: a 4xx
with a JSON `errors` body, not a stream. The client closing the response ends the subscription and
the gateway's socket to the subgraph.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator

import orjson
from starlette.responses import StreamingResponse

from gateway.document import graphql_error

log = logging.getLogger("kyodo.gateway.subscriptions.sse")

EVENT_STREAM = "text/event-stream"
TRANSPORT = "sse"


def wants_event_stream(accept: str | None) -> bool:
    """The client asks for an event stream (and lists it at all: GraphiQL's fetcher sends it first)."""
    if not accept:
        return False
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() == EVENT_STREAM:
            quality = next((p.partition("=")[2] for p in pieces[1:] if p.partition("=")[0].strip() == "q"), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def next_event(body: dict[str, Any]) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


COMPLETE_EVENT = b"event: complete\ndata:\n\n"
KEEPALIVE = b":\n\n"


def event_stream_response(subscription: Any, keepalive_seconds: float) -> StreamingResponse:
    """Stream one admitted subscription (gateway.subscriptions.service.OpenSubscription)."""
    return StreamingResponse(
        _events(subscription, keepalive_seconds),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"},
    )


async def _events(subscription: Any, keepalive_seconds: float) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def deliver(body: dict[str, Any]) -> None:
        await queue.put(next_event(body))

    async def produce() -> None:
        try:
            await subscription.run(deliver)
        except Exception:
            log.exception("an SSE subscription failed")
            await deliver({"data": None, "errors": [
                graphql_error("The gateway failed to run this subscription.", "INTERNAL_SERVER_ERROR")]})
        finally:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(queue.get(), keepalive_seconds)
            except asyncio.TimeoutError:
                yield KEEPALIVE
                continue
            if chunk is None:
                break
            yield chunk
        yield COMPLETE_EVENT
    finally:
        # The client went away (the response's iteration was cancelled) or the stream is over.
        if not producer.done():
            producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
        subscription.release()
