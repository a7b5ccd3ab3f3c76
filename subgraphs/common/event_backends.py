"""The brokers that carry a subgraph's events between its replicas (`subgraphs.common.events`), and the choice
between them (`KYODO_SUBGRAPH_EVENTS`, see `serving_settings`).

- `postgresql`: LISTEN/NOTIFY on the subgraph's own PostgreSQL database, over two asyncpg connections of
  its own outside the pool (one listens, one notifies). Nothing else to run.
- `redis`: Redis pub/sub (redis.asyncio): one connection subscribed, publishing through the client's pool.
- `local`: this process only (`events.LocalBackend`).

Every replica of a subgraph listens on one channel, `<KYODO_SUBGRAPH_EVENTS_CHANNEL>.<subgraph>`, and picks the
topics its own subscribers want; events are small (ids only), so this costs little and needs no per-topic
LISTEN/SUBSCRIBE bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from subgraphs.common.events import Backend, EventBroker, LocalBackend
from subgraphs.common.serving_settings import ServingSettings, SettingError

log = logging.getLogger("kyodo.subgraphs.events")

PG_CHANNEL_LIMIT = 63          # PostgreSQL identifiers (NOTIFY channels) are at most 63 bytes
KEEPALIVE_SECONDS = 15.0       # how often an idle listening connection is checked, so a dead one is noticed
CONNECT_TIMEOUT_SECONDS = 5.0


class PostgresBackend:
    name = "postgresql"

    def __init__(self, dsn: str, channel: str) -> None:
        if len(channel.encode()) > PG_CHANNEL_LIMIT:
            raise SettingError(f"event channel {channel!r} is longer than PostgreSQL's {PG_CHANNEL_LIMIT} bytes")
        self.dsn = dsn
        self.channel = channel
        self._publisher: Any = None
        self._publishing = asyncio.Lock()
        self._listener: Any = None
        self._keepalive: asyncio.Task[None] | None = None

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)

    async def publish(self, message: str) -> None:
        async with self._publishing:   # one asyncpg connection runs one statement at a time
            if self._publisher is None or self._publisher.is_closed():
                self._publisher = await self._connect()
            try:
                await self._publisher.execute("SELECT pg_notify($1, $2)", self.channel, message)
            except Exception:
                await self._close_quietly(self._publisher)
                self._publisher = None
                raise

    async def listen(self, deliver: Callable[[str], None], lost: Callable[[BaseException], None]) -> None:
        await self._stop_listening()
        connection = await self._connect()
        reported = False

        def report(error: BaseException) -> None:
            nonlocal reported
            if not reported and self._listener is connection:
                reported = True
                lost(error)

        connection.add_termination_listener(lambda _c: report(ConnectionError("the LISTEN connection closed")))
        await connection.add_listener(self.channel, lambda _c, _pid, _channel, payload: deliver(payload))
        self._listener = connection

        async def keepalive() -> None:
            while True:
                await asyncio.sleep(KEEPALIVE_SECONDS)
                try:
                    await asyncio.wait_for(connection.execute("SELECT 1"), CONNECT_TIMEOUT_SECONDS)
                except Exception as error:  # noqa: BLE001 - any failure means the connection is gone
                    report(error)
                    return

        self._keepalive = asyncio.create_task(keepalive())

    def listener_pid(self) -> int | None:
        """The server process of the LISTEN connection (operators can find it in pg_stat_activity)."""
        return self._listener.get_server_pid() if self._listener is not None else None

    async def _stop_listening(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(BaseException):
                await self._keepalive
            self._keepalive = None
        listener, self._listener = self._listener, None
        await self._close_quietly(listener)

    @staticmethod
    async def _close_quietly(connection: Any) -> None:
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)

    async def close(self) -> None:
        await self._stop_listening()
        publisher, self._publisher = self._publisher, None
        await self._close_quietly(publisher)


class RedisBackend:
    name = "redis"

    def __init__(self, url: str, channel: str) -> None:
        import redis.asyncio as redis

        self.channel = channel
        # named after the channel: `CLIENT LIST` shows which connections are kyodo's event listeners
        self._client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                            client_name=channel)
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, message: str) -> None:
        await self._client.publish(self.channel, message)

    async def listen(self, deliver: Callable[[str], None], lost: Callable[[BaseException], None]) -> None:
        await self._stop_listening()
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            # listening once Redis confirmed the subscription: an event published after this is received
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                while (await pubsub.get_message(timeout=CONNECT_TIMEOUT_SECONDS) or {}).get("type") != "subscribe":
                    pass
        except BaseException:
            await pubsub.aclose()
            raise

        async def read() -> None:
            try:
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if message is not None and message.get("type") == "message":
                        deliver(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - redis gave up reconnecting: end the subscriptions
                lost(error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

        self._reader = asyncio.create_task(read())

    async def _stop_listening(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    async def close(self) -> None:
        await self._stop_listening()
        with contextlib.suppress(Exception):
            await self._client.aclose()


def backend_name(settings: ServingSettings, database_url: str) -> str:
    """The backend `KYODO_SUBGRAPH_EVENTS` asks for; `auto`: redis if configured, else PostgreSQL's own
    LISTEN/NOTIFY when the database is PostgreSQL, else local."""
    is_postgresql = make_url(database_url).get_backend_name() == "postgresql"
    chosen = settings.events_backend
    if chosen == "auto":
        chosen = "redis" if settings.events_redis_url else "postgresql" if is_postgresql else "local"
    if chosen == "redis" and not settings.events_redis_url:
        raise SettingError("KYODO_SUBGRAPH_EVENTS=redis needs KYODO_SUBGRAPH_EVENTS_REDIS_URL")
    if chosen == "postgresql" and not is_postgresql:
        raise SettingError("KYODO_SUBGRAPH_EVENTS=postgresql needs the subgraph's database to be PostgreSQL")
    return chosen


def make_backend(subgraph: str, settings: ServingSettings, database_url: str) -> Backend:
    chosen = backend_name(settings, database_url)
    channel = f"{settings.events_channel}.{subgraph}"
    if chosen == "redis":
        assert settings.events_redis_url is not None
        return RedisBackend(settings.events_redis_url, channel)
    if chosen == "postgresql":
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresBackend(dsn, channel)
    return LocalBackend()


def make_broker(subgraph: str, settings: ServingSettings, database_url: str) -> EventBroker:
    """The events broker of one subgraph app, as its settings ask (fails at start on a bad combination)."""
    return EventBroker(make_backend(subgraph, settings, database_url), queue_size=settings.event_queue_size,
                       max_subscriptions=settings.max_subscriptions)
