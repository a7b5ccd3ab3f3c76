"""How much work one subgraph process takes on at once, from the environment (defaults fit a 2-core host).

    KYODO_SUBGRAPH_MAX_IN_FLIGHT        GraphQL requests executing at once; past it: 503 + Retry-After (64)
    KYODO_SUBGRAPH_RETRY_AFTER          seconds a shed client is told to wait (1)
    KYODO_SUBGRAPH_REQUEST_TIMEOUT      seconds one request may run before it is abandoned with 503 (15)
    KYODO_SUBGRAPH_MAX_ENTITIES         representations one `_entities` call may carry (1000: a full page)
    KYODO_SUBGRAPH_REQUEST_CONNECTIONS  database connections one request may hold at once (2)
    KYODO_DB_POOL_SIZE / KYODO_DB_POOL_OVERFLOW   connection pool per process (10 / 5)
    KYODO_DB_POOL_TIMEOUT               seconds a request waits for a pooled connection before DATABASE_BUSY (0.5)
    KYODO_SUBGRAPH_EVENTS               where published events travel (`subgraphs.common.events`): auto (the
                                        default: redis when a Redis URL is set, postgresql when the database is
                                        PostgreSQL, else local), local (this process only), postgresql, redis
    KYODO_SUBGRAPH_EVENTS_REDIS_URL     redis://… for the redis backend
    KYODO_SUBGRAPH_EVENTS_CHANNEL       prefix of the broker's channel names (kyodo.events); one per deployment
    KYODO_SUBGRAPH_EVENT_QUEUE          events one subscriber may have waiting; past it the subscription ends (64)
    KYODO_SUBGRAPH_SUBSCRIPTIONS_PER_CONNECTION  operations one WebSocket may run at once (20)
    KYODO_SUBGRAPH_MAX_SUBSCRIPTIONS    subscriptions one process serves at once (5000)

The per-request connection share is what keeps one heavy request (60 aliases, a big `_entities` batch) from
taking the whole pool while another resident's `me` waits behind it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


EVENT_BACKENDS = ("auto", "local", "postgresql", "redis")


class SettingError(ValueError):
    """A setting that is not a positive number: refuse to start rather than guess."""


def _number(environ: Mapping[str, str], name: str, default: float, kind: type = int, *,
            zero_ok: bool = False) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        raise SettingError(f"{name} must be {'zero or more' if zero_ok else 'positive'}, got {raw!r}")
    return value


@dataclass(frozen=True)
class ServingSettings:
    max_in_flight: int = 64
    retry_after: int = 1
    request_timeout: float = 15.0
    max_entities: int = 1000
    request_connections: int = 2
    pool_size: int = 10
    pool_overflow: int = 5
    pool_timeout: float = 0.5
    events_backend: str = "auto"
    events_redis_url: str | None = None
    events_channel: str = "kyodo.events"
    event_queue_size: int = 64
    subscriptions_per_connection: int = 20
    max_subscriptions: int = 5000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServingSettings:
        env = os.environ if environ is None else environ
        return cls(
            max_in_flight=int(_number(env, "KYODO_SUBGRAPH_MAX_IN_FLIGHT", cls.max_in_flight)),
            retry_after=int(_number(env, "KYODO_SUBGRAPH_RETRY_AFTER", cls.retry_after)),
            request_timeout=_number(env, "KYODO_SUBGRAPH_REQUEST_TIMEOUT", cls.request_timeout, float),
            max_entities=int(_number(env, "KYODO_SUBGRAPH_MAX_ENTITIES", cls.max_entities)),
            request_connections=int(_number(env, "KYODO_SUBGRAPH_REQUEST_CONNECTIONS", cls.request_connections)),
            pool_size=int(_number(env, "KYODO_DB_POOL_SIZE", cls.pool_size)),
            pool_overflow=int(_number(env, "KYODO_DB_POOL_OVERFLOW", cls.pool_overflow, zero_ok=True)),
            pool_timeout=_number(env, "KYODO_DB_POOL_TIMEOUT", cls.pool_timeout, float),
            events_backend=_choice(env, "KYODO_SUBGRAPH_EVENTS", cls.events_backend, EVENT_BACKENDS),
            events_redis_url=(env.get("KYODO_SUBGRAPH_EVENTS_REDIS_URL") or "").strip() or None,
            events_channel=(env.get("KYODO_SUBGRAPH_EVENTS_CHANNEL") or "").strip() or cls.events_channel,
            event_queue_size=int(_number(env, "KYODO_SUBGRAPH_EVENT_QUEUE", cls.event_queue_size)),
            subscriptions_per_connection=int(_number(env, "KYODO_SUBGRAPH_SUBSCRIPTIONS_PER_CONNECTION",
                                                     cls.subscriptions_per_connection)),
            max_subscriptions=int(_number(env, "KYODO_SUBGRAPH_MAX_SUBSCRIPTIONS", cls.max_subscriptions)),
        )


def _choice(environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw
