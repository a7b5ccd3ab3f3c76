"""One admitted subscription as the chunks of a streamed HTTP response (SSE, multipart): the events in
their framing, a keep-alive chunk while idle, the end; the subscription ends when the client goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from gateway.document import graphql_error

log = logging.getLogger("kyodo.gateway.subscriptions")


@dataclass(frozen=True)
class Framing:
    """How a transport writes a stream: its first chunk, an event, a keep-alive, and its end."""

    event: Callable[[dict[str, Any]], bytes]
    keepalive: bytes
    end: bytes
    start: bytes = b""


async def stream_chunks(subscription: Any, framing: Framing, keepalive_seconds: float) -> AsyncIterator[bytes]:
    """`subscription`: gateway.subscriptions.service.OpenSubscription."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def deliver(body: dict[str, Any]) -> None:
        await queue.put(framing.event(body))

    async def produce() -> None:
        try:
            await subscription.run(deliver)
        except Exception:
            log.exception("a streamed subscription failed")
            await deliver({"data": None, "errors": [
                graphql_error("The gateway failed to run this subscription.", "INTERNAL_SERVER_ERROR")]})
        finally:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        if framing.start:
            yield framing.start
        while True:
            try:
                chunk = await asyncio.wait_for(queue.get(), keepalive_seconds)
            except asyncio.TimeoutError:
                yield framing.keepalive
                continue
            if chunk is None:
                break
            yield chunk
        yield framing.end
    finally:
        # The client went away (the response's iteration was cancelled) or the stream is over.
        if not producer.done():
            producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
        subscription.release()
