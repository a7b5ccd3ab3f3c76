"""Subscriptions through a real gateway as GraphQL over SSE (distinct connections), and what happens
when a subgraph's stream drops."""

from __future__ import annotations

import json
import time

import aiohttp

from tests.subscriptions.clients import report_level, sse_events, wait_for_subscribers, ws_client
from tests.subscriptions.conftest import Gauges
from tests.subscriptions.test_websocket import LEVELS, ws_url

STREAM = {"accept": "text/event-stream", "content-type": "application/json"}


async def test_sse_events_are_federated_and_closing_the_response_ends_the_subgraph_stream(gateway, gauges):
    async with aiohttp.ClientSession() as session:
        response = await session.post(gateway.url + "/graphql", headers=STREAM,
                                      json={"query": LEVELS, "variables": {"s": "sse-1"}})
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        await wait_for_subscribers(session, gauges.url, "sse-1", 1)
        for sequence in (1, 2):
            await report_level(session, gauges.url, "sse-1", 100 + sequence, sequence)
            event, data = await anext(events)
            assert event == "next"
            assert json.loads(data) == {"data": {"levelChanged": {
                "sequence": sequence, "levelCm": 100 + sequence,
                "station": {"id": "sse-1", "name": "station sse-1", "basin": "Kako"}}}}
        response.close()
        await wait_for_subscribers(session, gauges.url, "sse-1", 0)


async def test_sse_query_answers_once_then_completes(gateway):
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.url + "/graphql", headers=STREAM,
                                json={"query": '{ station(id: "q1") { name } }'}) as response:
            assert [event async for event in sse_events(response)] == [
                ("next", json.dumps({"data": {"station": {"name": "station q1"}}}, separators=(",", ":"))),
                ("complete", ""),
            ]


async def test_sse_refusals_are_answered_before_any_stream(gateway, issuer):
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.url + "/graphql", headers=STREAM,
                                json={"query": "subscription { levelChanged { sequence } }"}) as response:
            assert response.status == 400
            body = await response.json()
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        async with session.post(gateway.url + "/graphql", headers={**STREAM, "authorization": "Bearer nonsense"},
                                json={"query": LEVELS, "variables": {"s": "x"}}) as response:
            assert response.status == 401
            assert "errors" in await response.json()


async def test_subscription_without_a_streaming_transport_is_refused(gateway):
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.url + "/graphql", json={"query": LEVELS, "variables": {"s": "x"}}) as response:
            body = await response.json()
    assert response.status == 400
    assert body["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_NOT_SUPPORTED"


async def test_sse_token_expiry_ends_the_stream(gateway, gauges, issuer):
    token = issuer.token(exp=int(time.time()) + 3)
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.url + "/graphql", headers={**STREAM, "authorization": f"Bearer {token}"},
                                json={"query": LEVELS, "variables": {"s": "sse-exp"}}) as response:
            assert response.status == 200
            received = [event async for event in sse_events(response)]
        assert [event for event, _ in received] == ["next", "complete"]
        assert json.loads(received[0][1])["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
        await wait_for_subscribers(session, gauges.url, "sse-exp", 0)


async def test_a_subgraph_that_drops_gives_the_client_an_error_then_complete(serve_gateway):
    doomed = Gauges()
    doomed.server.__enter__()
    try:
        server = serve_gateway(doomed)
        async with aiohttp.ClientSession() as session:
            client = await ws_client(session, ws_url(server))
            await client.init()
            await client.subscribe("d", LEVELS, {"s": "drop"})
            response = await session.post(server.url + "/graphql", headers=STREAM,
                                          json={"query": LEVELS, "variables": {"s": "drop"}})
            events = sse_events(response)
            # the two are identical (same operation, variables, anonymous caller): one shared subgraph stream
            await wait_for_subscribers(session, doomed.url, "drop", 1)
            doomed.server.__exit__(None, None, None)

            message = await client.receive()
            assert message["id"] == "d" and message["type"] == "next"
            error = message["payload"]["errors"][0]
            assert error["extensions"] == {"code": "SUBREQUEST_HTTP_ERROR", "service": "gauges"}
            assert await client.receive() == {"id": "d", "type": "complete"}

            event, data = await anext(events)
            assert event == "next"
            assert json.loads(data)["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
            assert (await anext(events))[0] == "complete"
            response.close()
            await client.ws.close()
    finally:
        doomed.server.server.should_exit = True


async def test_sse_over_get_streams_a_subscription(gateway, gauges):
    params = {"query": LEVELS, "variables": json.dumps({"s": "sse-get"})}
    async with aiohttp.ClientSession() as session:
        # without a preflight-forcing header a GET is what a cross-site page could send: refused, as for queries
        async with session.get(gateway.url + "/graphql", params=params,
                               headers={"accept": "text/event-stream"}) as refused:
            assert refused.status == 400
            assert (await refused.json())["errors"][0]["extensions"]["code"] == "CSRF_PREVENTED"
        response = await session.get(gateway.url + "/graphql", params=params,
                                     headers={"accept": "text/event-stream", "apollo-require-preflight": "true"})
        assert response.status == 200
        events = sse_events(response)
        await wait_for_subscribers(session, gauges.url, "sse-get", 1)
        await report_level(session, gauges.url, "sse-get", 5, 1)
        event, data = await anext(events)
        assert event == "next" and json.loads(data)["data"]["levelChanged"]["levelCm"] == 5
        response.close()
        await wait_for_subscribers(session, gauges.url, "sse-get", 0)
