"""Subscriptions through a real gateway over Apollo's multipart HTTP protocol (what Apollo Client speaks)."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import aiohttp

from tests.subscriptions.clients import WAIT, report_level, wait_for_subscribers
from tests.subscriptions.conftest import Gauges
from tests.subscriptions.test_websocket import LEVELS

MULTIPART = {"accept": "multipart/mixed;subscriptionSpec=1.0, application/json", "content-type": "application/json"}
BOUNDARY = b"\r\n--graphql"


async def parts(response: aiohttp.ClientResponse) -> AsyncIterator[dict | None]:
    """Each part's JSON; None for the closing boundary."""
    buffer = b""
    while True:
        chunk = await asyncio.wait_for(response.content.readany(), WAIT)
        if not chunk:
            return
        buffer += chunk
        while True:
            start = buffer.find(BOUNDARY)
            if start < 0:
                break
            if buffer[start + len(BOUNDARY):start + len(BOUNDARY) + 2] == b"--":
                yield None
                return
            end = buffer.find(BOUNDARY, start + len(BOUNDARY))
            if end < 0:
                break
            head, _, body = buffer[start + len(BOUNDARY):end].partition(b"\r\n\r\n")
            assert b"content-type: application/json" in head.lower()
            yield json.loads(body)
            buffer = buffer[end:]


async def test_multipart_events_heartbeat_first_and_the_end(gateway, gauges):
    async with aiohttp.ClientSession() as session:
        response = await session.post(gateway.url + "/graphql", headers=MULTIPART,
                                      json={"query": LEVELS, "variables": {"s": "mp-1"}})
        assert response.status == 200
        assert response.headers["content-type"] == 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0'
        received = parts(response)
        assert await anext(received) == {}            # the stream is open
        await wait_for_subscribers(session, gauges.url, "mp-1", 1)
        await report_level(session, gauges.url, "mp-1", 42, 1)
        assert await anext(received) == {"payload": {"data": {"levelChanged": {
            "sequence": 1, "levelCm": 42, "station": {"id": "mp-1", "name": "station mp-1", "basin": "Kako"}}}}}
        response.close()
        await wait_for_subscribers(session, gauges.url, "mp-1", 0)


async def test_multipart_stream_failure_is_a_transport_error_then_the_end(serve_gateway):
    doomed = Gauges()
    doomed.server.__enter__()
    try:
        server = serve_gateway(doomed)
        async with aiohttp.ClientSession() as session:
            response = await session.post(server.url + "/graphql", headers=MULTIPART,
                                          json={"query": LEVELS, "variables": {"s": "mp-drop"}})
            received = parts(response)
            assert await anext(received) == {}
            await wait_for_subscribers(session, doomed.url, "mp-drop", 1)
            doomed.server.__exit__(None, None, None)
            failed = await anext(received)
            assert failed["payload"] is None
            assert failed["errors"][0]["extensions"] == {"code": "SUBREQUEST_HTTP_ERROR", "service": "gauges"}
            assert await anext(received) is None      # --graphql--
            response.close()
    finally:
        doomed.server.server.should_exit = True


async def test_defer_style_multipart_accept_does_not_start_a_stream(gateway):
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.url + "/graphql", json={"query": LEVELS, "variables": {"s": "x"}},
                                headers={"accept": "multipart/mixed;deferSpec=20220824, application/json",
                                         "content-type": "application/json"}) as response:
            assert response.status == 400
            assert (await response.json())["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_NOT_SUPPORTED"
