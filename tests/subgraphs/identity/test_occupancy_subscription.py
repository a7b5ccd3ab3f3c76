"""`shelterOccupancyChanged(shelterId)` over a real WebSocket to a real uvicorn identity server: every committed
check-in and check-out (residents' and visitors', moves and the closing of a shelter's check-in) sends the
shelter's current occupancy; refused taps send nothing. SQLite runs the `local` broker, PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.roster import STAFF, by_label, demo_card_serial
from subgraphs.common.serving_settings import ServingSettings
from subgraphs.identity.occupancy_events import occupancy_topic
from subgraphs.identity.schema import schema
from tests.subgraphs.conftest import make_principal
from tests.subgraphs.subscription_client import post, served, transport_ws, wait_subscribed

SHELTER_A, SHELTER_B = "282103:0001", "282103:0002"
TARO, HANAKO = by_label("himeji-1/taro"), by_label("himeji-1/hanako")
DEVICE = make_principal("device-kakogawa-shelter-reader", "282103", ("device",))
KAKOGAWA_SAFETY = next(s for s in STAFF if s.municipality_code == "282103" and "safety:write" in s.scopes)

CHANGED = """subscription($s: ID!) { shelterOccupancyChanged(shelterId: $s) {
  id occupancy { persons households } } }"""
CHECK_IN = """mutation($i: ShelterCheckInInput!) { shelterCheckIn(input: $i) { residentId } }"""
CHECK_OUT = """mutation($shelter: ID!, $s: String!) {
  shelterCheckOut(shelterId: $shelter, certificateSerial: $s) { residentId } }"""
VISITOR_IN = """mutation($i: VisitorCheckInInput!) { shelterVisitorCheckIn(input: $i) { id } }"""
CLOSE = 'mutation($s: ID!) { closeShelterCheckIn(shelterId: $s) { shelterId } }'
VISITOR = {"name": "大西 聡", "address": "兵庫県明石市大久保町1丁目2番3号", "birthDate": "1980-06-01", "sex": 1}


def _persons(payload: dict) -> tuple[str, int]:
    assert "errors" not in payload, payload
    shelter = payload["data"]["shelterOccupancyChanged"]
    return shelter["id"], shelter["occupancy"]["persons"]


async def test_check_ins_and_check_outs_send_the_current_occupancy(identity_db, gateway_jwks, mint_context):
    from tests.subgraphs.conftest import staff_principal

    app = create_subgraph_app("identity", schema, database_url=identity_db.url, keys=gateway_jwks,
                              settings=ServingSettings())
    device = mint_context(DEVICE, "identity")
    staff = mint_context(staff_principal(KAKOGAWA_SAFETY), "identity")
    async with served(app) as url, transport_ws(url) as ws:
        at_a = await ws.subscribe(CHANGED, {"s": SHELTER_A})
        at_b = await ws.subscribe(CHANGED, {"s": SHELTER_B})
        await wait_subscribed(app, occupancy_topic(SHELTER_A))
        await wait_subscribed(app, occupancy_topic(SHELTER_B))

        # refused: no context; an unlinked card. Nothing is committed, nothing is sent.
        taro_in = {"i": {"shelterId": SHELTER_A, "certificateSerial": demo_card_serial(TARO.id),
                         "companionIds": [HANAKO.id]}}
        assert (await post(url, CHECK_IN, taro_in))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        unknown = {"i": {"shelterId": SHELTER_A, "certificateSerial": "ffff0000ffff"}}
        assert (await post(url, CHECK_IN, unknown, token=device))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await ws.nothing_for()

        assert "errors" not in await post(url, CHECK_IN, taro_in, token=device)
        assert _persons(await ws.next_payload(at_a)) == (SHELTER_A, 2)

        # Hanako moves to B: both shelters' counts change, both are sent
        await post(url, CHECK_IN, {"i": {"shelterId": SHELTER_B, "certificateSerial": demo_card_serial(HANAKO.id)}},
                   token=device)
        received = {_persons(await ws.next_payload_of((at_a, at_b))) for _ in range(2)}
        assert received == {(SHELTER_A, 1), (SHELTER_B, 1)}

        # a visitor (no municipal id here) checks in at A, then the household checks out of A
        visitor = {"i": {"shelterId": SHELTER_A, "certificateSerial": "0a1b2c3d4e5f6071", "holder": VISITOR}}
        assert "errors" not in await post(url, VISITOR_IN, visitor, token=device)
        assert _persons(await ws.next_payload(at_a)) == (SHELTER_A, 2)
        await post(url, CHECK_OUT, {"shelter": SHELTER_A, "s": demo_card_serial(TARO.id)}, token=device)
        assert _persons(await ws.next_payload(at_a)) == (SHELTER_A, 1)

        # closing A's check-in checks the visitor out
        assert "errors" not in await post(url, CLOSE, {"s": SHELTER_A}, token=staff)
        assert _persons(await ws.next_payload(at_a)) == (SHELTER_A, 0)
        await ws.nothing_for()


async def test_a_malformed_shelter_id_is_refused(identity_db, gateway_jwks):
    app = create_subgraph_app("identity", schema, database_url=identity_db.url, keys=gateway_jwks,
                              settings=ServingSettings())
    async with served(app) as url, transport_ws(url) as ws:
        errors = await ws.refusal(await ws.subscribe(CHANGED, {"s": "282104:0001"}))   # wrong check digit
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert app.state.events.subscriber_count() == 0
