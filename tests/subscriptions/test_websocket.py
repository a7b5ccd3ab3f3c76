"""Subscriptions through a real gateway over graphql-transport-ws: federated per event, authenticated
at connection time, limited, closed with the protocol's codes."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from auth.context_token import verify_context
from tests.subscriptions.clients import report_level, wait_for_subscribers, ws_client

LEVELS = """subscription($s: String!) {
  levelChanged(station: $s) { sequence levelCm station { id name basin } }
}"""


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


async def test_events_are_federated_per_event_and_completing_closes_the_subgraph_socket(gateway, gauges):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.subscribe("a", LEVELS, {"s": "ws-1"})
        await wait_for_subscribers(session, gauges.url, "ws-1", 1)
        for sequence, level in ((1, 120), (2, 135)):
            assert await report_level(session, gauges.url, "ws-1", level, sequence) == 1
            message = await client.receive()
            assert message == {"id": "a", "type": "next", "payload": {"data": {"levelChanged": {
                "sequence": sequence, "levelCm": level,
                "station": {"id": "ws-1", "name": "station ws-1", "basin": "Kako"}}}}}
        await client.send({"id": "a", "type": "complete"})
        # the gateway closes its socket to the subgraph, whose subscriber goes away
        await wait_for_subscribers(session, gauges.url, "ws-1", 0)
        await client.ws.close()


async def test_client_going_away_closes_the_subgraph_socket(gateway, gauges):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.subscribe("a", LEVELS, {"s": "ws-gone"})
        await wait_for_subscribers(session, gauges.url, "ws-gone", 1)
        await client.ws.close()
        await wait_for_subscribers(session, gauges.url, "ws-gone", 0)


async def test_token_in_connection_init_reaches_the_subgraph_as_a_context_token(gateway, issuer):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init({"Authorization": f"Bearer {issuer.token()}"})
        await client.subscribe("h", 'subscription { seenHeader(name: "kyodo-context") }')
        message = await client.receive()
        token = message["payload"]["data"]["seenHeader"]
        principal = verify_context(token, "kyodo-subgraph:gauges", gateway.security.public_jwks())
        assert principal.subject == "res-282014-0001"
        assert await client.receive() == {"id": "h", "type": "complete"}
        await client.ws.close()


async def test_token_on_the_upgrade_request_is_used(gateway, issuer):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway), headers={"Authorization": f"Bearer {issuer.token()}"})
        await client.init()
        await client.subscribe("h", 'subscription { seenHeader(name: "kyodo-context") }')
        message = await client.receive()
        assert message["payload"]["data"]["seenHeader"]
        await client.ws.close()


async def test_anonymous_subscription_sends_no_context_token(gateway):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.subscribe("h", 'subscription { seenHeader(name: "kyodo-context") }')
        assert (await client.receive())["payload"] == {"data": {"seenHeader": None}}
        await client.ws.close()


@pytest.mark.parametrize("token", ["not-a-jwt", "expired"])
async def test_refused_token_closes_with_4403(gateway, issuer, token):
    if token == "expired":
        token = issuer.token(exp=int(time.time()) - 600, iat=int(time.time()) - 900)
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        code, reason = await client.closed_with()
        assert (code, reason) == (4403, "Forbidden")


async def test_token_expiring_while_connected_ends_the_subscription(gateway, gauges, issuer):
    token = issuer.token(exp=int(time.time()) + 3)
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init({"Authorization": f"Bearer {token}"})
        await client.subscribe("a", LEVELS, {"s": "ws-expiry"})
        await wait_for_subscribers(session, gauges.url, "ws-expiry", 1)
        message = await client.receive()  # no event is published: the next message is the expiry
        assert message["type"] == "next" and message["id"] == "a"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
        assert await client.receive() == {"id": "a", "type": "complete"}
        assert await client.closed_with() == (4403, "Forbidden")
        await wait_for_subscribers(session, gauges.url, "ws-expiry", 0)


async def test_limits_per_connection_and_per_principal(gateway, gauges, issuer):
    # the gateway fixture allows 2 per connection and 3 per principal
    auth = {"Authorization": f"Bearer {issuer.token(sub='res-282014-0002')}"}
    async with aiohttp.ClientSession() as session:
        first = await ws_client(session, ws_url(gateway))
        await first.init(auth)
        await first.subscribe("1", LEVELS, {"s": "ws-limit-1"})
        await first.subscribe("2", LEVELS, {"s": "ws-limit-2"})
        await first.subscribe("3", LEVELS, {"s": "ws-limit-3"})
        refused = await first.receive()
        assert refused["id"] == "3" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_EXCEEDED"
        await wait_for_subscribers(session, gauges.url, "ws-limit-1", 1)
        await wait_for_subscribers(session, gauges.url, "ws-limit-2", 1)

        second = await ws_client(session, ws_url(gateway))
        await second.init(auth)
        await second.subscribe("1", LEVELS, {"s": "ws-limit-3"})
        await wait_for_subscribers(session, gauges.url, "ws-limit-3", 1)
        await second.subscribe("2", LEVELS, {"s": "ws-limit-4"})  # the principal's fourth
        refused = await second.receive()
        assert refused["id"] == "2" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_EXCEEDED"

        # completing one gives its slot back
        await first.send({"id": "1", "type": "complete"})
        await wait_for_subscribers(session, gauges.url, "ws-limit-1", 0)
        await second.subscribe("3", LEVELS, {"s": "ws-limit-4"})
        await wait_for_subscribers(session, gauges.url, "ws-limit-4", 1)
        await first.ws.close()
        await second.ws.close()
        for n in (2, 3, 4):
            await wait_for_subscribers(session, gauges.url, f"ws-limit-{n}", 0)


async def test_identical_subscriptions_share_one_subgraph_stream(gateway, gauges, issuer):
    async with aiohttp.ClientSession() as session:
        one = await ws_client(session, ws_url(gateway))
        two = await ws_client(session, ws_url(gateway))
        signed_in = await ws_client(session, ws_url(gateway))
        await one.init()
        await two.init()
        await signed_in.init({"Authorization": f"Bearer {issuer.token(sub='res-282014-0003')}"})
        for client in (one, two):
            await client.subscribe("a", LEVELS, {"s": "ws-shared"})
        await wait_for_subscribers(session, gauges.url, "ws-shared", 1)  # both anonymous: one stream
        await signed_in.subscribe("a", LEVELS, {"s": "ws-shared"})
        await wait_for_subscribers(session, gauges.url, "ws-shared", 2)  # another caller: its own
        await report_level(session, gauges.url, "ws-shared", 77, 1)
        for client in (one, two, signed_in):
            message = await client.receive()
            assert message["payload"]["data"]["levelChanged"]["levelCm"] == 77
        await one.ws.close()
        await signed_in.ws.close()
        await wait_for_subscribers(session, gauges.url, "ws-shared", 1)  # `two` still follows the shared one
        await report_level(session, gauges.url, "ws-shared", 78, 2)
        assert (await two.receive())["payload"]["data"]["levelChanged"]["levelCm"] == 78
        await two.ws.close()
        await wait_for_subscribers(session, gauges.url, "ws-shared", 0)


async def test_invalid_operation_gets_an_error_message_and_the_connection_stays(gateway):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.subscribe("bad", "subscription { levelChanged(station: 1) { nope } }")
        message = await client.receive()
        assert message["id"] == "bad" and message["type"] == "error"
        assert message["payload"] and all("message" in e for e in message["payload"])
        # still usable: a query over the socket answers once, then completes
        await client.subscribe("q", '{ station(id: "s9") { name } }')
        assert await client.receive() == {"id": "q", "type": "next",
                                          "payload": {"data": {"station": {"name": "station s9"}}}}
        assert await client.receive() == {"id": "q", "type": "complete"}
        await client.ws.close()


async def test_ping_is_answered_with_pong(gateway):
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
        await client.ws.close()


async def _closes(gateway, messages, **kwargs) -> tuple[int | None, str]:
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway), **kwargs)
        for message in messages:
            if isinstance(message, str):
                await client.ws.send_str(message)
            else:
                await client.send(message)
        return await client.closed_with()


async def test_protocol_close_codes(gateway):
    init = {"type": "connection_init"}
    subscribe = {"id": "x", "type": "subscribe", "payload": {"query": LEVELS, "variables": {"s": "ws-codes"}}}
    assert (await _closes(gateway, [subscribe]))[0] == 4401
    assert await _closes(gateway, [init, init]) == (4429, "Too many initialisation requests")
    assert await _closes(gateway, [init, subscribe, subscribe]) == (4409, "Subscriber for x already exists")
    assert (await _closes(gateway, ["{not json"]))[0] == 4400
    assert (await _closes(gateway, [{"type": "what"}]))[0] == 4400
    assert (await _closes(gateway, [init], protocols=("graphql-ws",)))[0] == 4406


async def test_no_connection_init_closes_with_4408(serve_gateway, gauges):
    server = serve_gateway(gauges, subscriptions={"connection_init_timeout_seconds": 0.3})
    assert await _closes(server, []) == (4408, "Connection initialisation timeout")


async def test_subscription_metrics(gateway, gauges):
    metrics = gateway.app.state.gateway.metrics
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(gateway))
        await client.init()
        await client.subscribe("m", LEVELS, {"s": "ws-metrics"})
        await wait_for_subscribers(session, gauges.url, "ws-metrics", 1)
        before = metrics.registry.get_sample_value("kyodo_gateway_subscription_events_total",
                                                   {"transport": "websocket"}) or 0.0
        assert metrics.registry.get_sample_value("kyodo_gateway_subscriptions_active",
                                                 {"transport": "websocket"}) >= 1
        await report_level(session, gauges.url, "ws-metrics", 10, 1)
        await client.receive()
        after = metrics.registry.get_sample_value("kyodo_gateway_subscription_events_total", {"transport": "websocket"})
        assert after == before + 1
        await client.ws.close()
        await wait_for_subscribers(session, gauges.url, "ws-metrics", 0)


async def test_demand_control_and_rate_limits_apply_at_subscribe_time(serve_gateway, gauges):
    server = serve_gateway(gauges, demand_control={"max_cost": 1},
                           rate_limit={"anonymous": {"capacity": 3, "refill_per_second": 0.001}})
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(server))
        await client.init()
        await client.subscribe("costly", LEVELS, {"s": "ws-admission"})
        refused = await client.receive()
        assert refused["id"] == "costly" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
        cheap = 'subscription { seenHeader(name: "x") }'
        codes = []
        for n in range(4):
            await client.subscribe(f"cheap{n}", cheap)
            message = await client.receive()
            if message["type"] == "error":
                codes.append(message["payload"][0]["extensions"]["code"])
            else:
                assert await client.receive() == {"id": f"cheap{n}", "type": "complete"}
                codes.append("ok")
        # the bucket holds 3 units and the costly attempt drew none (refused before the rate limit)
        assert codes == ["ok", "ok", "ok", "RATE_LIMITED"], codes
        await client.ws.close()


async def test_subgraph_streams_do_not_take_the_query_fetch_pool(serve_gateway, gauges):
    # Each stream holds its subgraph connection while it lives; past the query pool's per-host cap they
    # must still open, and queries must still get connections.
    server = serve_gateway(gauges, http_client={"max_connections_per_host": 2})
    async with aiohttp.ClientSession() as session:
        client = await ws_client(session, ws_url(server))
        await client.init()
        for n in range(5):
            await client.subscribe(f"s{n}", LEVELS, {"s": f"ws-pool-{n}"})
        for n in range(5):
            await wait_for_subscribers(session, gauges.url, f"ws-pool-{n}", 1)
        await client.subscribe("q", '{ station(id: "p") { name } }')
        assert (await client.receive())["payload"] == {"data": {"station": {"name": "station p"}}}
        await client.ws.close()
        for n in range(5):
            await wait_for_subscribers(session, gauges.url, f"ws-pool-{n}", 0)


async def test_a_gateway_failure_at_connection_time_closes_with_4500_and_no_detail(serve_gateway, gauges):
    async def broken(request):  # e.g. the issuer's keys could not be fetched
        raise RuntimeError("jwks fetch failed at 10.0.0.7")

    server = serve_gateway(gauges, authenticator=broken)
    code, reason = await _closes(server, [{"type": "connection_init", "payload": {"Authorization": "Bearer x"}}])
    assert (code, reason) == (4500, "Internal server error")
