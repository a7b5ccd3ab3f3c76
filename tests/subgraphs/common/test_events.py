"""The event broker (subgraphs/common/events.py): published only after a commit, bounded per subscriber and per
process, and the backend chosen by the serving settings."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from subgraphs.common.db import Database
from subgraphs.common.event_backends import PostgresBackend, RedisBackend, backend_name, make_broker
from subgraphs.common.events import (
    EventBroker, LocalBackend, SubscriberTooSlow, SubscriptionsBusy, publish_on_commit,
)
from subgraphs.common.public_cache import shared_cache
from subgraphs.common.serving_settings import ServingSettings, SettingError


async def _next(subscription, timeout: float = 5.0):  # noqa: ANN001, ANN202
    return await asyncio.wait_for(subscription.__anext__(), timeout)


async def test_events_are_published_only_when_the_transaction_commits(tmp_path):
    database = Database("events", f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite'}")
    database.events = EventBroker(LocalBackend())
    try:
        async with database.events.subscribe("t") as subscription:
            with pytest.raises(RuntimeError):
                async with database.transaction() as session:
                    await session.execute(text("SELECT 1"))
                    publish_on_commit(session, "t", {"id": "rolled-back"})
                    raise RuntimeError("the write fails after the event was queued")
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))
                publish_on_commit(session, "t", {"id": "committed"})
                publish_on_commit(session, "other", {"id": "not this topic"})
            # the first event to arrive is the committed one: the rolled-back one was never sent
            assert await _next(subscription) == {"id": "committed"}
    finally:
        await database.dispose()


async def test_a_subscriber_that_falls_behind_is_ended_not_buffered():
    broker = EventBroker(LocalBackend(), queue_size=3)
    async with broker.subscribe("t") as slow, broker.subscribe("t") as keeping_up:
        for number in range(3):
            await broker.publish("t", {"n": number})
            assert await _next(keeping_up) == {"n": number}
        await broker.publish("t", {"n": 3})      # the slow one now has 3 waiting: ended, its queue dropped
        assert await _next(keeping_up) == {"n": 3}
        with pytest.raises(SubscriberTooSlow):
            await _next(slow)
        await broker.publish("t", {"n": 4})
        assert await _next(keeping_up) == {"n": 4}
    assert broker.subscriber_count() == 0


async def test_a_process_serves_at_most_max_subscriptions():
    broker = EventBroker(LocalBackend(), max_subscriptions=2)
    async with broker.subscribe("a"), broker.subscribe("b"):
        with pytest.raises(SubscriptionsBusy) as refused:
            async with broker.subscribe("c"):
                pass
        assert refused.value.extensions["code"] == "SUBSCRIPTIONS_BUSY"
        assert broker.subscriber_count() == 2
    async with broker.subscribe("c"):   # freed again
        assert broker.subscriber_count("c") == 1


async def test_an_event_clears_the_public_cache():
    broker = EventBroker(LocalBackend())
    cache = shared_cache()
    if cache.ttl <= 0:
        pytest.fail("the public cache is off in this environment (KYODO_SUBGRAPH_PUBLIC_CACHE_SECONDS)")
    cache.put(("test", "events"), "stale")
    async with broker.subscribe("t") as subscription:
        await broker.publish("t", {})
        await _next(subscription)
    assert cache.peek(("test", "events")) is None


def test_the_backend_follows_the_settings():
    sqlite, postgres = "sqlite+aiosqlite:///var/x.sqlite", "postgresql+asyncpg://u@h/db"
    assert backend_name(ServingSettings(), sqlite) == "local"
    assert backend_name(ServingSettings(), postgres) == "postgresql"
    with_redis = ServingSettings(events_redis_url="redis://127.0.0.1:6379/0")
    assert backend_name(with_redis, sqlite) == "redis"
    assert backend_name(with_redis, postgres) == "redis"
    assert backend_name(ServingSettings(events_backend="local"), postgres) == "local"
    with pytest.raises(SettingError):
        backend_name(ServingSettings(events_backend="redis"), postgres)
    with pytest.raises(SettingError):
        backend_name(ServingSettings(events_backend="postgresql"), sqlite)
    assert isinstance(make_broker("safety", with_redis, sqlite).backend, RedisBackend)
    pg = make_broker("safety", ServingSettings(), postgres).backend
    assert isinstance(pg, PostgresBackend)
    assert (pg.channel, pg.dsn) == ("kyodo.events.safety", "postgresql://u@h/db")
    env = ServingSettings.from_env({"KYODO_SUBGRAPH_EVENTS": "redis", "KYODO_SUBGRAPH_EVENTS_REDIS_URL": "redis://r",
                                    "KYODO_SUBGRAPH_EVENT_QUEUE": "8", "KYODO_SUBGRAPH_SUBSCRIPTIONS_PER_CONNECTION": "3"})
    assert (env.events_backend, env.events_redis_url, env.event_queue_size, env.subscriptions_per_connection) == (
        "redis", "redis://r", 8, 3)
    with pytest.raises(SettingError):
        ServingSettings.from_env({"KYODO_SUBGRAPH_EVENTS": "kafka"})
