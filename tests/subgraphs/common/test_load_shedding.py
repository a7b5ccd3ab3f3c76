"""Load shedding (issue 8, item 3): past the in-flight bound a request is answered at once with 503,
Retry-After and a GraphQL error body; work for a client that went away is cancelled; a request past its time
is abandoned with 503. Driven by events, not clocks: each test decides when the held request may finish."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from subgraphs.common.load_shedding import LoadShedding
from subgraphs.common.serving_settings import ServingSettings, SettingError
from subgraphs.common.roster import by_label
from tests.subgraphs.conftest import resident_principal

TARO = by_label("himeji-1/taro")


class HeldApp:
    """An ASGI app whose requests wait until released (or are cancelled, which it notes)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = 0

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"data": {"ok": true}}'})


def _client(app) -> httpx.AsyncClient:  # noqa: ANN001
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph")


async def test_past_the_bound_requests_are_shed_at_once_with_503_and_retry_after():
    held = HeldApp()
    shedding = LoadShedding(held, ServingSettings(max_in_flight=2, retry_after=3), subgraph="identity")
    async with _client(shedding) as client:
        first = asyncio.create_task(client.post("/graphql", json={"query": "{ a }"}))
        second = asyncio.create_task(client.post("/graphql", json={"query": "{ b }"}))
        while shedding.in_flight < 2:
            await asyncio.sleep(0)
        shed = await client.post("/graphql", json={"query": "{ c }"})   # answered while the two still run
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "3"
        assert shed.json() == {"data": None, "errors": [{
            "message": "identity is at capacity; retry shortly",
            "extensions": {"code": "SERVICE_OVERLOADED", "retryAfter": 3}}]}
        held.release.set()
        assert [(await t).status_code for t in (first, second)] == [200, 200]
        assert shedding.in_flight == 0 and shedding.shed == 1
        assert (await client.post("/graphql", json={"query": "{ d }"})).status_code == 200   # back to normal


async def test_work_for_a_client_that_went_away_is_cancelled():
    held = HeldApp()
    shedding = LoadShedding(held, ServingSettings(), subgraph="identity")
    body = json.dumps({"query": "{ a }"}).encode()
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    client_left = asyncio.Event()
    sent: list[dict] = []

    async def receive() -> dict:
        if incoming:
            return incoming.pop(0)
        await client_left.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": [], "query_string": b""}
    request = asyncio.create_task(shedding(scope, receive, send))
    await held.entered.wait()
    client_left.set()
    await request
    assert held.cancelled == 1 and sent == [] and shedding.abandoned == 1 and shedding.in_flight == 0


async def test_a_request_past_its_time_is_abandoned_with_503():
    held = HeldApp()
    shedding = LoadShedding(held, ServingSettings(request_timeout=0.05), subgraph="safety")
    async with _client(shedding) as client:
        response = await client.post("/graphql", json={"query": "{ a }"})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert held.cancelled == 1


async def test_every_subgraph_app_sheds(database_url, gateway_jwks, mint_context, monkeypatch):
    """identity's real app with a bound of one: while one `me` is held, the next request gets 503."""
    from subgraphs.common.db import upgrade_async
    from subgraphs.identity import resolvers
    from subgraphs.identity.app import create_app

    await upgrade_async("identity", database_url)
    entered, release = asyncio.Event(), asyncio.Event()
    real = resolvers.read_resident

    async def held_read(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        entered.set()
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(resolvers, "read_resident", held_read)
    monkeypatch.setenv("KYODO_SUBGRAPH_MAX_IN_FLIGHT", "1")
    app = create_app(database_url=database_url, keys=gateway_jwks)
    headers = {"Kyodo-Context": mint_context(resident_principal(TARO), "identity")}
    try:
        async with _client(app) as client:
            first = asyncio.create_task(client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers))
            await entered.wait()
            shed = await client.post("/graphql", json={"query": "{ elections { id } }"})
            assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
            assert shed.json()["errors"][0]["extensions"]["code"] == "SERVICE_OVERLOADED"
            release.set()
            assert (await first).status_code == 200
            assert (await client.post("/graphql", json={"query": "{ elections { id } }"})).status_code == 200
    finally:
        await app.state.database.dispose()


@pytest.mark.parametrize("name, value", [("KYODO_SUBGRAPH_MAX_IN_FLIGHT", "0"), ("KYODO_DB_POOL_TIMEOUT", "soon"),
                                         ("KYODO_SUBGRAPH_MAX_ENTITIES", "-1")])
def test_bad_settings_refuse_to_start(name, value):
    with pytest.raises(SettingError, match=name):
        ServingSettings.from_env({name: value})


def test_settings_defaults_and_overrides():
    assert ServingSettings.from_env({}) == ServingSettings()
    assert ServingSettings.from_env({"KYODO_SUBGRAPH_MAX_IN_FLIGHT": "8", "KYODO_DB_POOL_OVERFLOW": "0",
                                     "KYODO_DB_POOL_TIMEOUT": "0.25"}) == ServingSettings(
        max_in_flight=8, pool_overflow=0, pool_timeout=0.25)
