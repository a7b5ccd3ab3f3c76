"""safety's subscriptions over a real WebSocket to a real uvicorn server: a mutation posted over HTTP reaches the
subscriber; refused writes and writes that change nothing publish nothing; the connection is authenticated as a
POST is, and fails closed on a bad context token.

The storage backend is parametrised: on SQLite the app's broker is `local`, on PostgreSQL it is LISTEN/NOTIFY
(the `auto` choice), so both paths run here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.serving_settings import ServingSettings
from subgraphs.safety.schema import schema
from subgraphs.safety.subscriptions import flood_sensor_topic, river_alert_topic
from tests.subgraphs.conftest import make_principal
from tests.subgraphs.subscription_client import Closed, post, served, transport_ws, wait_subscribed

ONO = "282189"
SENSOR, OTHER_SENSOR = "282189:W011", "282189:W012"   # 小野市's sensors are all dry in the seed
KUNIKANE = "282103:KUNIKANE"   # latest seeded level 4.2: CAUTION, 警戒レベル相当 2

TRIGGERED = """subscription($code: String!) {
  floodSensorTriggered(municipalityCode: $code) { id municipalityCode wet lastReportAt } }"""
ALERTS = """subscription($basin: String!) {
  riverAlertChanged(basin: $basin) { basin previousAlertLevel alertLevel observedAt
    gauge { id basin alertLevel latest { level } } } }"""
REPORT = """mutation($id: ID!, $wet: Boolean!, $at: DateTime) {
  reportFloodSensor(sensorId: $id, wet: $wet, reportedAt: $at) { wet } }"""
RECORD = """mutation($level: Float!, $at: DateTime) {
  recordRiverObservation(gaugeId: "282103:KUNIKANE", level: $level, observedAt: $at) { alertLevel } }"""


def _app(database, keys, **settings):  # noqa: ANN001, ANN202
    return create_subgraph_app("safety", schema, database_url=database.url, keys=keys,
                               settings=ServingSettings(**settings))


async def test_a_sensor_turning_wet_reaches_an_anonymous_subscriber(seeded_db, gateway_jwks, mint_context):
    app = _app(seeded_db, gateway_jwks)
    device = mint_context(make_principal(SENSOR, ONO, ("device",)), "safety")
    other = mint_context(make_principal(OTHER_SENSOR, ONO, ("device",)), "safety")
    async with served(app) as url, transport_ws(url) as ws:
        operation = await ws.subscribe(TRIGGERED, {"code": "28218"})   # the 5-digit form names the same city
        await wait_subscribed(app, flood_sensor_topic(ONO))

        # refused (another sensor's credentials), dry -> dry, and a late wet report older than the state:
        # none of them turns the sensor wet, so none publishes
        refused = await post(url, REPORT, {"id": SENSOR, "wet": True}, token=other)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await post(url, REPORT, {"id": SENSOR, "wet": False}, token=device))["data"]
        late = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
        assert (await post(url, REPORT, {"id": SENSOR, "wet": True, "at": late}, token=device))["data"] == {
            "reportFloodSensor": {"wet": False}}
        await ws.nothing_for()

        assert (await post(url, REPORT, {"id": SENSOR, "wet": True}, token=device))["data"]
        event = await ws.next_payload(operation)
        assert "errors" not in event, event
        assert event["data"]["floodSensorTriggered"]["id"] == SENSOR
        assert event["data"]["floodSensorTriggered"]["wet"] is True

        # wet -> wet is no new trigger; wet -> dry -> wet is
        assert (await post(url, REPORT, {"id": SENSOR, "wet": True}, token=device))["data"]
        await ws.nothing_for()
        await post(url, REPORT, {"id": SENSOR, "wet": False}, token=device)
        await post(url, REPORT, {"id": SENSOR, "wet": True}, token=device)
        assert (await ws.next_payload(operation))["data"]["floodSensorTriggered"]["id"] == SENSOR


async def test_river_alert_changes_are_published_per_basin(seeded_db, gateway_jwks, mint_context):
    app = _app(seeded_db, gateway_jwks)
    gauge = mint_context(make_principal(KUNIKANE, "282103", ("device",)), "safety")
    async with served(app) as url, transport_ws(url) as ws:
        operation = await ws.subscribe(ALERTS, {"basin": "加古川"})
        await wait_subscribed(app, river_alert_topic("加古川"))

        assert (await post(url, RECORD, {"level": 4.5}, token=gauge))["data"]   # still CAUTION (2): no change
        await ws.nothing_for()
        assert (await post(url, RECORD, {"level": 5.3}, token=gauge))["data"]   # 避難判断水位 reached: 2 -> 3
        change = (await ws.next_payload(operation))["data"]["riverAlertChanged"]
        assert change["basin"] == "加古川"
        assert (change["previousAlertLevel"], change["alertLevel"]) == (2, 3)
        assert change["gauge"] == {"id": KUNIKANE, "basin": "加古川", "alertLevel": 3, "latest": {"level": 5.3}}

        # an observation older than the latest one changes no alert level
        earlier = (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat()
        assert (await post(url, RECORD, {"level": 9.0, "at": earlier}, token=gauge))["data"]
        await ws.nothing_for()
        await post(url, RECORD, {"level": 1.0}, token=gauge)                    # back below 水防団待機水位
        change = (await ws.next_payload(operation))["data"]["riverAlertChanged"]
        assert (change["previousAlertLevel"], change["alertLevel"]) == (3, None)


async def test_subscription_arguments_are_checked(seeded_db, gateway_jwks):
    app = _app(seeded_db, gateway_jwks)
    async with served(app) as url, transport_ws(url) as ws:
        errors = await ws.refusal(await ws.subscribe(ALERTS, {"basin": "淀川"}))
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "加古川" in errors[0]["message"]   # the known basins are named

        errors = await ws.refusal(await ws.subscribe(TRIGGERED, {"code": "282104"}))   # wrong check digit
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert app.state.events.subscriber_count() == 0


async def test_the_connection_is_authenticated_like_a_post(seeded_db, gateway_jwks, mint_context, gateway_key):
    from auth.gateway_keys import generate_signing_key

    app = _app(seeded_db, gateway_jwks)
    async with served(app) as url:
        staff = mint_context(make_principal("staff-1", "282103", ("staff",), ("safety:read",)), "safety")
        async with transport_ws(url, {"Kyodo-Context": staff}) as ws:   # a valid token: acknowledged
            await ws.subscribe(TRIGGERED, {"code": ONO})
            await wait_subscribed(app, flood_sensor_topic(ONO))

        refused = {
            "forged": mint_context(make_principal("staff-1", "282103", ("staff",)), "safety", generate_signing_key()),
            "for another subgraph": mint_context(make_principal("staff-1", "282103", ("staff",)), "identity"),
            "garbage": "not-a-token",
        }
        for why, token in refused.items():
            async with transport_ws(url, {"Kyodo-Context": token}, init=False) as ws:
                await ws.send({"type": "connection_init", "payload": {}})
                try:
                    message = await ws.receive()
                except Closed as closed:
                    assert closed.code == 4403, (why, closed)
                else:
                    raise AssertionError(f"{why}: expected the connection closed, got {message}")


async def test_only_subscriptions_and_at_most_the_limit_per_connection(seeded_db, gateway_jwks):
    app = _app(seeded_db, gateway_jwks, subscriptions_per_connection=2)
    async with served(app) as url, transport_ws(url) as ws:
        query = await ws.subscribe('{ riverGauges { id } }')
        message = await ws.receive()
        assert (message["id"], message["type"]) == (query, "error"), message
        assert message["payload"][0]["extensions"]["code"] == "SUBSCRIPTIONS_ONLY"

        await ws.subscribe(TRIGGERED, {"code": ONO})
        await ws.subscribe(ALERTS, {"basin": "加古川"})
        await wait_subscribed(app, flood_sensor_topic(ONO))
        await wait_subscribed(app, river_alert_topic("加古川"))
        third = await ws.subscribe(TRIGGERED, {"code": "282103"})
        message = await ws.receive()
        assert (message["id"], message["type"]) == (third, "error"), message
        assert "limit" in message["payload"][0]["message"].lower()
        assert app.state.events.subscriber_count(flood_sensor_topic("282103")) == 0


async def test_a_subscription_over_http_is_a_clear_400(seeded_db, gateway_jwks):
    import httpx

    app = _app(seeded_db, gateway_jwks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://safety") as client:
        for accept in ("application/json", "text/event-stream", "multipart/mixed;subscriptionSpec=1.0"):
            response = await client.post("/graphql", json={"query": TRIGGERED, "variables": {"code": ONO}},
                                         headers={"accept": accept})
            assert response.status_code == 400, (accept, response.text)
            assert "WebSocket" in response.json()["errors"][0]["message"]
        # a query that merely mentions the word is still a query
        response = await client.post("/graphql", json={"query": '{ riverGauges { id } } # subscription'})
        assert response.status_code == 200 and response.json()["data"]["riverGauges"]
