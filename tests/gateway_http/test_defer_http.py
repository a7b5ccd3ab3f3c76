"""@defer through the HTTP server: the multipart/mixed byte stream, as a client reads it off the socket.

The gateway and its subgraphs run under uvicorn on loopback ports; the client is aiohttp reading the
raw body chunk by chunk. Checked against Apollo Router's documented behaviour: `multipart/mixed` with
`deferSpec=20220824`, parts `content-type: application/json; charset=utf-8`, the initial payload with
`hasNext: true`, later ones `{"incremental": [...], "hasNext"}`; a client that does not accept
multipart gets 406 with `DEFER_BAD_HEADER` and nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import uvicorn

from gateway.http import create_app
from gateway.http.negotiation import accepts_multipart
from gateway.settings import settings_from_mapping
from gateway.supergraph import load_supergraph

# the engine tests' kit and @defer fixture subgraphs (tests/federation imports them as top-level modules)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "federation"))
from engine_kit import serve, supergraph_sdl  # noqa: E402
from test_defer import SUPERGRAPH, subgraphs  # noqa: E402
from deploy.free_port import free_port as _free_port

MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"
QUERY = '{ topProducts { name ... @defer(label: "reviews") { reviews { body author { name } } } } }'




@contextlib.asynccontextmanager
async def gateway(subs: list[Any] | None = None, settings: dict[str, Any] | None = None,
                  apps: list[Any] | None = None) -> AsyncIterator[tuple[str, list[Any]]]:
    """The subgraphs and a gateway app in front of them, both served over HTTP; yields (url, subgraphs)
    (and puts the app in `apps` when given)."""
    subs = subs if subs is not None else subgraphs()
    async with serve(subs) as urls:
        supergraph = load_supergraph(supergraph_sdl({s.name.upper(): urls[s.name] for s in subs}, SUPERGRAPH))
        app = create_app(settings_from_mapping(settings or {}), supergraph)
        if apps is not None:
            apps.append(app)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
            if task.done():
                task.result()
        try:
            yield f"http://127.0.0.1:{port}/graphql", subs
        finally:
            server.should_exit = True
            await task


def parse_multipart(body: bytes, boundary: str) -> list[tuple[dict[str, str], Any]]:
    """The parts of a multipart body (RFC 2046): (headers, JSON payload) each."""
    delimiter = b"--" + boundary.encode()
    assert body.startswith(delimiter + b"\r\n") or body.startswith(b"\r\n" + delimiter + b"\r\n"), body[:40]
    closing = b"\r\n" + delimiter + b"--\r\n"
    assert body.endswith(closing), body[-40:]
    inner = body[: -len(closing)]
    inner = inner[inner.index(delimiter) + len(delimiter):]
    parts = []
    for raw in inner.split(b"\r\n" + delimiter):
        assert raw.startswith(b"\r\n")
        head, _, payload = raw[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, orjson.loads(payload)))
    return parts


def boundary_of(content_type: str) -> str:
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    assert found, content_type
    return found.group(1)


async def test_deferred_parts_come_as_multipart_mixed() -> None:
    async with gateway() as (url, _subs), aiohttp.ClientSession() as session:
        async with session.post(url, json={"query": QUERY}, headers={"accept": MULTIPART}) as response:
            assert response.status == 200
            content_type = response.headers["content-type"]
            assert content_type.startswith("multipart/mixed") and "deferSpec=20220824" in content_type
            assert response.headers["cache-control"] == "no-store"
            body = await response.read()
    parts = parse_multipart(body, boundary_of(content_type))
    assert all(h["content-type"] == "application/json; charset=utf-8" for h, _ in parts)
    payloads = [p for _, p in parts]
    assert payloads[0] == {"data": {"topProducts": [{"name": "Futon"}, {"name": "Kotatsu"}, {"name": "Noren"}]},
                           "hasNext": True}
    assert payloads[-1]["hasNext"] is False and all(p["hasNext"] for p in payloads[:-1])
    incremental = [e for p in payloads[1:] for e in p["incremental"]]
    assert incremental[1] == {"data": {"reviews": [{"body": "warm", "author": {"name": "Aiko"}},
                                                   {"body": "big", "author": {"name": "Ren"}}]},
                              "path": ["topProducts", 1], "label": "reviews"}
    assert [e["path"] for e in incremental] == [["topProducts", 0], ["topProducts", 1], ["topProducts", 2]]


async def test_the_primary_part_reaches_the_client_before_a_deferred_fetch_answers() -> None:
    release = asyncio.Event()
    subs = subgraphs()

    async def held_stock(rep: dict) -> dict:
        await release.wait()
        return {"__typename": "Product", "upc": rep["upc"], "inStock": rep["upc"] != "p2"}

    subs[3].entities["Product"] = held_stock  # type: ignore[assignment]
    query = '{ topProducts { name ... @defer(label: "stock") { inStock } } }'
    async with gateway(subs) as (url, _), aiohttp.ClientSession() as session:
        try:
            received = await _read_holding(session, url, query, release)
        finally:
            release.set()  # (a failed check must not leave the held subgraph request for the shutdown)
    payloads = [p for _, p in parse_multipart(received, "-")]
    assert [e["data"] for e in payloads[1]["incremental"]] == [{"inStock": True}, {"inStock": False}, {"inStock": True}]


async def _read_holding(session: aiohttp.ClientSession, url: str, query: str, release: asyncio.Event,
                        barrier: asyncio.Barrier | None = None) -> bytes:
    """Read the stream up to the initial part while the deferred fetch is held, then let it go."""
    async with session.post(url, json={"query": query}, headers={"accept": MULTIPART}) as response:
        assert boundary_of(response.headers["content-type"]) == "-"
        received = b""
        # the inventory subgraph has not answered yet: the initial part must already be readable
        while b'"hasNext":true' not in received:
            chunk = await response.content.readany()
            assert chunk, "the stream ended before the initial part"
            received += chunk
        assert b"inStock" not in received
        if barrier is not None:
            await barrier.wait()  # every reader has its initial part while the deferred fetches are held
        release.set()
        received += await response.content.read()
    return received


async def test_a_client_without_multipart_gets_406_and_nothing_runs() -> None:
    async with gateway() as (url, subs), aiohttp.ClientSession() as session:
        async with session.post(url, json={"query": QUERY}, headers={"accept": "application/json"}) as response:
            assert response.status == 406
            body = await response.json()
        assert body["errors"][0]["extensions"]["code"] == "DEFER_BAD_HEADER"
        assert "multipart/mixed" in body["errors"][0]["message"]
        assert not any(s.received for s in subs)
        # @defer(if: false) for this request: a plain JSON answer, as the routers give
        query = 'query($d: Boolean!) { topProducts { name ... @defer(if: $d) { reviews { body } } } }'
        async with session.post(url, json={"query": query, "variables": {"d": False}},
                                headers={"accept": "application/json"}) as response:
            assert response.status == 200
            body = await response.json()
        assert body["data"]["topProducts"][2] == {"name": "Noren", "reviews": []} and "hasNext" not in body


async def test_defer_on_a_mutation_root_is_refused() -> None:
    query = 'mutation { ... @defer { renameProduct(upc: "p1", name: "x") { name } } }'
    async with gateway() as (url, subs), aiohttp.ClientSession() as session:
        async with session.post(url, json={"query": query}, headers={"accept": MULTIPART}) as response:
            assert response.status == 400
            body = await response.json()
        assert body["errors"][0]["message"] == "Defer directive cannot be used on root mutation type 'Mutation'."
        assert not any(s.received for s in subs)


async def test_identical_deferred_requests_are_not_merged() -> None:
    release = asyncio.Event()
    subs = subgraphs()

    async def held_stock(rep: dict) -> dict:
        await release.wait()
        return {"__typename": "Product", "upc": rep["upc"], "inStock": True}

    subs[3].entities["Product"] = held_stock  # type: ignore[assignment]
    query = '{ topProducts { name ... @defer { inStock } } }'
    apps: list[Any] = []
    async with gateway(subs, apps=apps) as (url, _), aiohttp.ClientSession() as session:
        try:
            # both in flight at once, while the deferred fetches are held: neither may follow the other
            barrier = asyncio.Barrier(2)
            bodies = await asyncio.gather(*(_read_holding(session, url, query, release, barrier)
                                            for _ in range(2)))
        finally:
            release.set()
    for body in bodies:
        payloads = [p for _, p in parse_multipart(body, "-")]
        assert len(payloads) == 2 and payloads[1]["incremental"][0]["data"] == {"inStock": True}
    # operation coalescing (on by default) neither led nor followed: each request ran its own plan
    (coalescing,) = [p for p in apps[0].state.gateway.plugins if p.name == "operation_coalescing"]
    assert (coalescing.executions, coalescing.shared) == (0, 0)


async def test_plugins_still_see_the_request() -> None:
    settings = {"expose_query_plan": True, "admin": {"metrics_on_public_port": True}}
    async with gateway(settings=settings) as (url, _), aiohttp.ClientSession() as session:
        headers = {"accept": MULTIPART, "apollo-expose-query-plan": "true", "x-request-id": "defer-test-1"}
        async with session.post(url, json={"query": QUERY}, headers=headers) as response:
            assert response.status == 200
            assert response.headers["x-request-id"] == "defer-test-1"
            body = await response.read()
        payloads = [p for _, p in parse_multipart(body, boundary_of(response.headers["content-type"]))]
        plan = payloads[0]["extensions"]["apolloQueryPlan"]
        assert plan["object"]["node"]["kind"] == "Defer" and "Deferred(path:" in plan["text"]
        # repeated: answered again in parts, never from the response cache
        async with session.post(url, json={"query": QUERY}, headers={"accept": MULTIPART}) as again:
            assert again.headers["content-type"].startswith("multipart/mixed")
            assert again.headers["cache-control"] == "no-store"
            await again.read()
        async with session.get(url.replace("/graphql", "/metrics")) as metrics:
            assert metrics.status == 200
            text = await metrics.text()
        assert 'kyodo_gateway_requests_total{method="POST",status="200"} 2.0' in text
        # the deferred parts' fetches go through the same per-request fetcher and its hooks
        assert 'kyodo_gateway_subgraph_fetch_duration_seconds_count{subgraph="reviews"} 2.0' in text


@pytest.mark.parametrize(("accept", "expected"), [
    ("multipart/mixed;deferSpec=20220824, application/json", True),   # Apollo Client
    ('multipart/mixed; boundary="graphql"; deferSpec=20220824', True),
    ("application/json, multipart/mixed", True),                       # GraphiQL's fetcher
    ("multipart/mixed;deferSpec=20990101", False),                     # a spec version we do not write
    ("multipart/mixed;subscriptionSpec=1.0, application/json", False),  # subscription events only
    ("multipart/mixed;q=0", False),
    ("application/json", False),
    (None, False),
])
def test_which_accept_headers_take_parts(accept: str | None, expected: bool) -> None:
    assert accepts_multipart(accept) is expected
