"""Subscriptions through the real kyodo stack (issue 11, item 6): a flood-sensor report reaches a WebSocket
subscriber through the gateway within 1 s; an SSE subscriber to a shelter's occupancy gets identity's counts
with safety's shelter name per event after a card check-in; and with two safety replicas behind Redis pub/sub,
two gateway processes (`kyodo serve`) both deliver the event."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest

from subgraphs.common.municipality import KAKOGAWA
from subgraphs.common.roster import PEOPLE_BY_ID, STAFF, Person
from tests.integration.cross_city import CHECK_IN_MUTATION
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import demo_card, sign_in_with_pkce, tap_card
from tests.integration.servers import LoopbackServer
from tests.integration.stack import AUDIENCE, Stack
from tests.subscriptions.clients import sse_events, ws_client

SENSOR = f"{KAKOGAWA}:W011"        # seeded dry
SHELTER = f"{KAKOGAWA}:S002"       # opened by the seeded flood watch
EVACUEE: Person = PEOPLE_BY_ID["r-9f6dbbd7c787"]   # a Kakogawa resident living alone, with a linked card
SAFETY_STAFF = next(s for s in STAFF if s.municipality_code == KAKOGAWA and "safety:write" in s.scopes)
REDIS_URL = os.environ.get("KYODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

TRIGGERED = f"""subscription {{ floodSensorTriggered(municipalityCode: "{KAKOGAWA}") {{
  id wet name municipalityCode }} }}"""
REPORT = "mutation($id: ID!, $wet: Boolean!) { reportFloodSensor(sensorId: $id, wet: $wet) { id wet } }"
OCCUPANCY = """subscription($s: ID!) { shelterOccupancyChanged(shelterId: $s) {
  id name occupancy { persons households } } }"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


async def staff_token(stack: Stack) -> str:
    return await sign_in_with_pkce(stack.idp_url, SAFETY_STAFF.id, scope="openid profile safety:write")


async def report(stack_url: str, token: str, wet: bool, sensor: str = SENSOR) -> dict:
    response = await post_graphql(stack_url + "/graphql", REPORT, {"id": sensor, "wet": wet}, token=token)
    body = response.json()
    assert "errors" not in body, body
    return body


async def wait_for_topic(app, topic: str, count: int = 1) -> None:  # noqa: ANN001
    """Until the subgraph's broker has `count` subscribers on the topic (the gateway's stream reached it)."""
    broker = app.state.events
    deadline = time.monotonic() + 15
    while broker.subscriber_count(topic) < count:
        assert time.monotonic() < deadline, f"no subscriber on {topic} at the subgraph"
        await asyncio.sleep(0.02)


async def test_flood_sensor_report_reaches_a_websocket_subscriber_within_one_second(stack: Stack):
    from subgraphs.safety.subscriptions import flood_sensor_topic

    token = await staff_token(stack)
    await report(stack.gateway_url, token, False)   # dry first, whatever an earlier test left
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(stack.gateway_url))
        await client.init()
        await client.subscribe("flood", TRIGGERED)
        await wait_for_topic(stack.subgraphs["safety"].recorder.app, flood_sensor_topic(KAKOGAWA))

        posted = time.monotonic()
        await report(stack.gateway_url, token, True)
        message = await client.receive()
        elapsed = time.monotonic() - posted
        assert message["id"] == "flood" and message["type"] == "next", message
        assert message["payload"] == {"data": {"floodSensorTriggered": {
            "id": SENSOR, "wet": True, "name": message["payload"]["data"]["floodSensorTriggered"]["name"],
            "municipalityCode": KAKOGAWA}}}
        # the bound, from just before the report's POST to the event at the subscriber
        print(f"flood sensor report -> WebSocket subscriber through the gateway: {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0, f"the event took {elapsed:.3f} s"
        await client.send({"id": "flood", "type": "complete"})
        await client.ws.close()
    await report(stack.gateway_url, token, False)


async def test_sse_occupancy_subscriber_gets_safety_shelter_name_per_check_in(stack: Stack):
    from subgraphs.identity.occupancy_events import occupancy_topic

    async with aiohttp.ClientSession() as session:
        response = await session.post(stack.graphql_url, json={"query": OCCUPANCY, "variables": {"s": SHELTER}},
                                      headers={"accept": "text/event-stream", "content-type": "application/json"})
        assert response.status == 200, await response.text()
        events = sse_events(response)
        await wait_for_topic(stack.subgraphs["identity"].recorder.app, occupancy_topic(SHELTER))

        card = demo_card(stack.idp_app, EVACUEE.id)
        tapped = await tap_card(stack.idp_url, card)
        checked = await post_graphql(stack.graphql_url, CHECK_IN_MUTATION, {"input": {
            "shelterId": SHELTER, "certificateSerial": card.serial, "companionIds": [], "pets": 0,
            "careNeeds": []}}, token=tapped)
        assert "errors" not in checked.json(), checked.text

        event, data = await anext(events)
        assert event == "next"
        shelter = json.loads(data)["data"]["shelterOccupancyChanged"]
        assert shelter["id"] == SHELTER
        assert shelter["name"]                                     # safety's field, fetched for this event
        assert shelter["occupancy"]["persons"] >= 1                # identity's live count
        # safety was asked for the name after the event (the plan's rest), through the gateway's context
        response.close()


@contextmanager
def kyodo_serve(state_dir: Path, name: str, supergraph: Path, idp_url: str, safety_url: str) -> Iterator[str]:
    """A `kyodo serve` process (its own process group), safety pointed at one replica; stopped by its pid."""
    port_probe = LoopbackServer(name)
    port = int(port_probe.url.rsplit(":", 1)[1])
    port_probe.socket.close()
    config = state_dir / f"{name}.toml"
    config.write_text(f"""
[subgraphs.safety]
url = "{safety_url}"

[auth]
context_key_file = "{state_dir / 'gateway-context-key.json'}"

[[auth.issuers]]
issuer = "{idp_url}"
audience = "{AUDIENCE}"
""", encoding="utf-8")
    log = (state_dir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kyodo.cli", "serve", "--config", str(config), "--supergraph", str(supergraph),
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "KYODO_GATEWAY_INTROSPECTION_SECRET": "kyodo-gateway-dev-secret"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        import httpx

        while True:
            assert process.poll() is None, (state_dir / f"{name}.log").read_text()[-2000:]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        log.close()


async def test_two_gateway_processes_both_deliver_an_event_through_redis(stack: Stack, tmp_path: Path):
    from subgraphs.common.app import create_subgraph_app
    from subgraphs.common.serving_settings import ServingSettings
    from subgraphs.safety.schema import schema
    from subgraphs.safety.subscriptions import flood_sensor_topic

    from gateway.security import CONTEXT_JWKS_PATH

    # two safety replicas on safety's database, one broker channel of this test's own on the Redis server
    settings = ServingSettings(events_backend="redis", events_channel=f"kyodo.it{secrets.token_hex(4)}",
                               events_redis_url=REDIS_URL)
    safety = stack.subgraphs["safety"]
    replicas, servers = [], []
    try:
        for n in (1, 2):
            app = create_subgraph_app("safety", schema, database_url=safety.database_url,
                                      keys=stack.gateway_url + CONTEXT_JWKS_PATH, settings=settings)
            server = LoopbackServer(f"safety-{n}")
            servers.append(server)
            server.start(app)
            replicas.append((app, server.url + "/graphql"))
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(stack.supergraph_sdl, encoding="utf-8")
        token = await staff_token(stack)
        with kyodo_serve(stack.state_dir, "gateway-a", supergraph, stack.idp_url, replicas[0][1]) as gateway_a, \
                kyodo_serve(stack.state_dir, "gateway-b", supergraph, stack.idp_url, replicas[1][1]) as gateway_b:
            await report(gateway_a, token, False, sensor=f"{KAKOGAWA}:W021")
            async with aiohttp.ClientSession() as session:
                on_a = await ws_client(session, ws_url(gateway_a))
                on_b = await ws_client(session, ws_url(gateway_b))
                for client in (on_a, on_b):
                    await client.init()
                    await client.subscribe("flood", TRIGGERED)
                for app, _ in replicas:
                    await wait_for_topic(app, flood_sensor_topic(KAKOGAWA))
                # posted through gateway A (so to replica 1); replica 2 hears it from Redis
                await report(gateway_a, token, True, sensor=f"{KAKOGAWA}:W021")
                for client in (on_a, on_b):
                    message = await client.receive()
                    assert message["type"] == "next", message
                    assert message["payload"]["data"]["floodSensorTriggered"]["id"] == f"{KAKOGAWA}:W021"
                    await client.ws.close()
            await report(gateway_b, token, False, sensor=f"{KAKOGAWA}:W021")
    finally:
        for server in reversed(servers):
            server.stop()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
