"""Deduplication: identical subscriptions share one subgraph stream and one execution per event.

Identical means the same plan (same document and operation, same authorization outcome), the same
variable values and the same caller (the Principal, or anonymous): then every event's answer is the
same for all of them, so it is computed once and handed to each. Apollo Router deduplicates the same
way by default (`subscription.enable_deduplication`). The first subscriber's request id and trace
headers are the ones the subgraph sees.

A subscriber reads its own bounded queue; one that falls `MAX_PENDING` events behind is dropped from
the group (its subscription ends with an error), so a slow client never holds the others back nor
grows memory. The last subscriber leaving cancels the stream, closing the subgraph's socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncGenerator, Callable, Hashable

from gateway.document import graphql_error

MAX_PENDING = 256
_END = object()


class SlowSubscriber(Exception):
    pass


class SharedStream:
    def __init__(self, key: Hashable, streams: dict[Hashable, SharedStream],
                 source: Callable[[], AsyncGenerator[dict[str, Any], None]]) -> None:
        self.key = key
        self.streams = streams
        self.queues: set[asyncio.Queue[Any]] = set()
        self.task = asyncio.create_task(self._pump(source))

    async def _pump(self, source: Callable[[], AsyncGenerator[dict[str, Any], None]]) -> None:
        try:
            async with contextlib.aclosing(source()) as events:
                async for body in events:
                    for queue in list(self.queues):
                        if queue.qsize() >= MAX_PENDING:
                            self.queues.discard(queue)
                            queue.put_nowait(SlowSubscriber())
                        else:
                            queue.put_nowait(body)
        finally:
            self._forget()
            for queue in self.queues:
                queue.put_nowait(_END)

    def _forget(self) -> None:
        if self.streams.get(self.key) is self:
            del self.streams[self.key]

    def follow(self) -> AsyncGenerator[dict[str, Any], None]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues.add(queue)  # now, so no event published before the first read is missed
        return self._read(queue)

    async def _read(self, queue: asyncio.Queue[Any]) -> AsyncGenerator[dict[str, Any], None]:
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, SlowSubscriber):
                    yield {"data": None, "errors": [graphql_error(
                        f"This subscription fell {MAX_PENDING} events behind and was ended; subscribe again.",
                        "SUBSCRIPTION_TOO_SLOW")]}
                    return
                yield item
        finally:
            self.queues.discard(queue)
            if not self.queues and not self.task.done():
                self._forget()
                self.task.cancel()


def follow_shared(streams: dict[Hashable, SharedStream], key: Hashable,
                  source: Callable[[], AsyncGenerator[dict[str, Any], None]]) -> AsyncGenerator[dict[str, Any], None]:
    """The events of the stream for `key`, started from `source` if no identical subscription runs."""
    stream = streams.get(key)
    if stream is None or stream.task.done():
        stream = streams[key] = SharedStream(key, streams, source)
    return stream.follow()
