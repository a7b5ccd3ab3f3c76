"""Two replicas of safety (two apps, two uvicorn servers, two brokers, one database): a sensor report posted to
one reaches a subscriber connected to the other, through Redis pub/sub or PostgreSQL LISTEN/NOTIFY. A write
refused on one replica sends nothing to the other."""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import text

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.serving_settings import ServingSettings
from subgraphs.safety.schema import schema
from subgraphs.safety.subscriptions import flood_sensor_topic
from tests.subgraphs.conftest import make_principal
from tests.subgraphs.subscription_client import post, served, transport_ws, wait_subscribed

REDIS_URL = os.environ.get("KYODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ONO, SENSOR = "282189", "282189:W011"
TRIGGERED = 'subscription { floodSensorTriggered(municipalityCode: "282189") { id wet } }'
REPORT = 'mutation($wet: Boolean!) { reportFloodSensor(sensorId: "282189:W011", wet: $wet) { wet } }'


@pytest.mark.parametrize(("storage_backend", "broker"), [("sqlite", "redis"), ("postgresql", "redis"),
                                                         ("postgresql", "postgresql")])
async def test_an_event_reaches_the_subscribers_of_every_replica(storage_backend, broker, seeded_db, gateway_jwks,
                                                                mint_context):
    if storage_backend == "postgresql" and seeded_db.url.startswith("sqlite"):
        pytest.fail("PostgreSQL storage asked for but not given")
    # a channel of this test's own: other test runs may share the Redis server
    settings = ServingSettings(events_backend=broker, events_channel=f"kyodo.t{secrets.token_hex(4)}",
                               events_redis_url=REDIS_URL if broker == "redis" else None)
    first = create_subgraph_app("safety", schema, database_url=seeded_db.url, keys=gateway_jwks, settings=settings)
    second = create_subgraph_app("safety", schema, database_url=seeded_db.url, keys=gateway_jwks, settings=settings)
    assert first.state.events is not second.state.events and first.state.events.backend.name == broker
    device = mint_context(make_principal(SENSOR, ONO, ("device",)), "safety")
    stranger = mint_context(make_principal("282189:W012", ONO, ("device",)), "safety")
    async with served(first, "safety-1") as first_url, served(second, "safety-2") as second_url:
        async with transport_ws(first_url) as on_first, transport_ws(second_url) as on_second:
            watching_first = await on_first.subscribe(TRIGGERED)
            watching_second = await on_second.subscribe(TRIGGERED)
            await wait_subscribed(first, flood_sensor_topic(ONO))
            await wait_subscribed(second, flood_sensor_topic(ONO))

            refused = await post(second_url, REPORT, {"wet": True}, token=stranger)
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            await on_first.nothing_for()

            assert "errors" not in await post(second_url, REPORT, {"wet": True}, token=device)
            for client, operation in ((on_first, watching_first), (on_second, watching_second)):
                assert (await client.next_payload(operation))["data"] == {
                    "floodSensorTriggered": {"id": SENSOR, "wet": True}}

            # and the other way round
            await post(first_url, REPORT, {"wet": False}, token=device)
            assert "errors" not in await post(first_url, REPORT, {"wet": True}, token=device)
            assert (await on_second.next_payload(watching_second))["data"]["floodSensorTriggered"]["id"] == SENSOR


async def _kill_listener(broker: str, app, database, channel: str) -> None:  # noqa: ANN001
    """Cut the broker's listening connection from the server side."""
    if broker == "postgresql":
        async with database.transaction() as session:
            pid = app.state.events.backend.listener_pid()
            assert (await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar()
        return
    import redis.asyncio as redis

    admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:   # only this test's connection: it is named after the test's own channel
        ours = [c["id"] for c in await admin.client_list(_type="pubsub") if c.get("name") == f"{channel}.safety"]
        assert len(ours) == 1, ours
        await admin.client_kill_filter(_id=ours[0])
    finally:
        await admin.aclose()


@pytest.mark.parametrize(("storage_backend", "broker"), [("postgresql", "postgresql"), ("sqlite", "redis")])
async def test_subscriptions_end_when_the_broker_connection_is_lost(storage_backend, broker, seeded_db,
                                                                   gateway_jwks):
    """The listening connection is cut by the server: the subscription completes (the client subscribes again)
    instead of waiting forever for events that can no longer arrive; a new subscription listens anew."""
    channel = f"kyodo.t{secrets.token_hex(4)}"
    settings = ServingSettings(events_backend=broker, events_channel=channel,
                               events_redis_url=REDIS_URL if broker == "redis" else None)
    app = create_subgraph_app("safety", schema, database_url=seeded_db.url, keys=gateway_jwks, settings=settings)
    async with served(app) as url, transport_ws(url) as ws:
        first = await ws.subscribe(TRIGGERED)
        await wait_subscribed(app, flood_sensor_topic(ONO))
        await _kill_listener(broker, app, seeded_db, channel)
        assert await ws.receive() == {"id": first, "type": "complete"}
        assert app.state.events.subscriber_count() == 0

        again = await ws.subscribe(TRIGGERED)
        await wait_subscribed(app, flood_sensor_topic(ONO))
        await app.state.events.publish(flood_sensor_topic(ONO), {"sensorId": SENSOR})
        assert (await ws.next_payload(again))["data"]["floodSensorTriggered"]["id"] == SENSOR
