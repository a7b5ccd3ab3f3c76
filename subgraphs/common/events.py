"""Events a subgraph publishes after a write commits, and the subscriptions that wait for them.

    publish_on_commit(session, topic, {"sensorId": "282103:S001"})   # inside a write's transaction
    async with broker.subscribe(topic) as events:                     # a subscription resolver
        async for payload in events: ...

- Sent only after the transaction commits (`Database.transaction` hands the session's pending events to its
  broker once the commit succeeded); a refused or rolled-back write publishes nothing.
- Payloads carry ids only: the subscriber re-reads the entity on delivery, so what it sends is current and
  goes through the same resolvers (and rules) as a query. Delivery is at most once: an event published while
  the broker is unreachable is lost, and its subscribers end (the client subscribes again).
- Backends (`KYODO_SUBGRAPH_EVENTS`, `serving_settings`): `local` fans out inside this process only (SQLite,
  one process); `postgresql` uses LISTEN/NOTIFY on the subgraph's own database; `redis` uses Redis pub/sub.
  With either of the last two every replica of the subgraph sees every event (`event_backends`).
- Bounded: each subscriber has a queue of `KYODO_SUBGRAPH_EVENT_QUEUE` events; one that falls that far behind
  is ended rather than buffered without limit. A process serves at most `KYODO_SUBGRAPH_MAX_SUBSCRIPTIONS`.
- An event received from the broker means a write happened (maybe in another replica): the process's short
  public cache is cleared so the re-read on delivery, and every query after it, sees that write.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from subgraphs.common.errors import KyodoError
from subgraphs.common.public_cache import shared_cache

log = logging.getLogger("kyodo.subgraphs.events")

PENDING_KEY = "kyodo.events.pending"   # session.info: events of the transaction, sent once it commits
SUBSCRIPTIONS_BUSY = "SUBSCRIPTIONS_BUSY"


class Backend(Protocol):
    """Carries encoded events between the replicas of one subgraph."""

    name: str

    async def publish(self, message: str) -> None: ...

    async def listen(self, deliver: Callable[[str], None], lost: Callable[[BaseException], None]) -> None:
        """Start receiving: `deliver` each message; `lost` once if the connection goes. Returns when listening."""

    async def close(self) -> None: ...


class BrokerUnavailable(Exception):
    """The broker's connection was lost: every subscription ends, the clients subscribe again."""


class SubscriberTooSlow(Exception):
    """The subscriber let its queue fill up: it is ended rather than buffered without bound."""


class SubscriptionsBusy(KyodoError):
    code = SUBSCRIPTIONS_BUSY


_END = object()


class Subscription:
    """One subscriber's bounded queue of payloads for one topic."""

    def __init__(self, topic: str, queue_size: int) -> None:
        self.topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(queue_size + 1)   # +1: room for the end marker
        self._limit = queue_size
        self.error: BaseException | None = None

    def deliver(self, payload: dict[str, Any]) -> None:
        if self.error is not None:
            return
        if self._queue.qsize() >= self._limit:
            log.warning("ended a subscriber to %s: %d events waiting", self.topic, self._limit)
            self.end(SubscriberTooSlow(f"{self._limit} events waiting on {self.topic!r}"))
            return
        self._queue.put_nowait(payload)

    def end(self, error: BaseException) -> None:
        """Stop this subscription: whatever is queued is dropped, the reader sees `error` next."""
        if self.error is not None:
            return
        self.error = error
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = await self._queue.get()
        if item is _END:
            assert self.error is not None
            raise self.error
        payload: dict[str, Any] = item
        return payload


class EventBroker:
    """One subgraph app's events: publishes through its backend, fans received events out to subscribers."""

    def __init__(self, backend: Backend, *, queue_size: int = 64, max_subscriptions: int = 5000) -> None:
        self.backend = backend
        self.queue_size = queue_size
        self.max_subscriptions = max_subscriptions
        self._topics: dict[str, set[Subscription]] = {}
        self._count = 0
        self._listening = False
        self._starting: asyncio.Lock | None = None

    def subscriber_count(self, topic: str | None = None) -> int:
        """Subscriptions to `topic` that receive events (the backend is listening), or all subscriptions of
        the process: lets a test know a subscription is in place before it publishes."""
        return self._count if topic is None else len(self._topics.get(topic, ()))

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Send one event now. Most callers want `publish_on_commit` instead."""
        await self.backend.publish(json.dumps({"topic": topic, "payload": payload}, separators=(",", ":")))

    async def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Send a committed transaction's events; a broker failure is logged (the write stands)."""
        for topic, payload in events:
            try:
                await self.publish(topic, payload)
            except Exception as error:  # noqa: BLE001 - the data is committed; losing the event is all that fails
                log.warning("could not publish %s on %s: %s", topic, self.backend.name, error)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        """A subscription to `topic`, live (the backend listening) when this yields."""
        if self._count >= self.max_subscriptions:
            raise SubscriptionsBusy(f"this service has {self._count} subscriptions open, its limit; try again "
                                    f"later", limit=self.max_subscriptions)
        self._count += 1   # taken before the wait below, so concurrent subscribers cannot pass the cap
        subscription = Subscription(topic, self.queue_size)
        try:
            await self._ensure_listening()
            # registered (and counted for its topic) only once the backend listens: from here on nothing is missed
            self._topics.setdefault(topic, set()).add(subscription)
            yield subscription
        finally:
            subscribers = self._topics.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._topics[topic]
            self._count -= 1

    async def _ensure_listening(self) -> None:
        if self._listening:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if not self._listening:
                await self.backend.listen(self._received, self._lost)
                self._listening = True

    def _received(self, message: str) -> None:
        try:
            event = json.loads(message)
            topic, payload = event["topic"], event["payload"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event on %s", self.backend.name)
            return
        shared_cache().clear()   # a write happened somewhere: cached public answers may be stale
        for subscription in list(self._topics.get(topic, ())):
            subscription.deliver(payload)

    def _lost(self, error: BaseException) -> None:
        log.warning("event broker %s lost its connection: %s", self.backend.name, error)
        self._end_all(BrokerUnavailable(str(error)))

    def _end_all(self, error: BaseException) -> None:
        self._listening = False
        for subscribers in list(self._topics.values()):
            for subscription in list(subscribers):
                subscription.end(error)

    async def close(self) -> None:
        """The app is stopping: every subscription ends, the backend's connections close."""
        self._end_all(BrokerUnavailable("the service is stopping"))
        await self.backend.close()


class LocalBackend:
    """Events stay inside this process: enough for one process (the embedded SQLite default)."""

    name = "local"

    def __init__(self) -> None:
        self._deliver: Callable[[str], None] | None = None

    async def publish(self, message: str) -> None:
        if self._deliver is not None:
            self._deliver(message)

    async def listen(self, deliver: Callable[[str], None], lost: Callable[[BaseException], None]) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None


def publish_on_commit(session: Any, topic: str, payload: dict[str, Any]) -> None:
    """Queue an event on the session's transaction: published once it commits, dropped if it rolls back."""
    session.info.setdefault(PENDING_KEY, []).append((topic, payload))


def take_pending(session: Any) -> list[tuple[str, dict[str, Any]]]:
    return session.info.pop(PENDING_KEY, None) or []
