"""Pooled subgraph connections: a connection the subgraph closed while it sat idle in the pool must not fail a query.

The race seen in the integration suite (`SUBREQUEST_HTTP_ERROR … ClientOSError`): uvicorn closes a keep-alive
connection after 5 idle seconds; when the gateway reuses it at that very moment, the request is written into a
connection that is going away. `ClosingOnReuseServer` makes that moment certain: it answers the first request of
every connection and drops the connection, unanswered, when a second request arrives on it.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
import uvicorn

from gateway.executor import HttpSubgraphFetcher, SubgraphRequestError
from gateway.http.fetching import create_client_session
from gateway.settings import HttpClientSettings


class ClosingOnReuseServer:
    """A minimal HTTP/1.1 server: first request per connection answered (keep-alive), second one dropped."""

    def __init__(self) -> None:
        self.received: list[dict] = []   # every request body that arrived, in order
        self.dropped = 0                 # requests that arrived on a reused connection and were not answered
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "ClosingOnReuseServer":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/graphql"

    async def _read_request(self, reader: asyncio.StreamReader) -> dict | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return orjson.loads(await reader.readexactly(length))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while (request := await self._read_request(reader)) is not None:
                self.received.append(request)
                if served == 1:
                    self.dropped += 1
                    return   # the idle-timeout close, crossing the client's reuse of the connection
                served += 1
                body = orjson.dumps({"data": {"answer": len(self.received)}})
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def closing_server():
    async with ClosingOnReuseServer() as server:
        yield server


@pytest.fixture
async def fetcher(closing_server):
    session = create_client_session(HttpClientSettings())
    try:
        yield HttpSubgraphFetcher(session, {"THINGS": closing_server.url})
    finally:
        await session.close()


async def test_query_on_a_connection_closed_at_reuse_is_retried_once(fetcher, closing_server, caplog):
    caplog.set_level(logging.INFO, logger="gateway.executor.fetcher")
    assert await fetcher.fetch("THINGS", "{ hello }", None, None) == {"data": {"answer": 1}}

    # the pooled connection is reused and dropped; the retry goes out on a new connection and is answered
    assert await fetcher.fetch("THINGS", "query($n:Int){ thing(n:$n) { id } }", {"n": 1}, None) == \
        {"data": {"answer": 3}}
    assert closing_server.dropped == 1
    assert [r["query"] for r in closing_server.received] == \
        ["{ hello }", "query($n:Int){ thing(n:$n) { id } }", "query($n:Int){ thing(n:$n) { id } }"]

    (line,) = [r.getMessage() for r in caplog.records if r.name == "gateway.executor.fetcher"]
    assert "THINGS" in line and "query thing" in line and "ServerDisconnectedError" in line and "retry" in line


async def test_mutation_on_a_connection_closed_at_reuse_is_not_retried(fetcher, closing_server, caplog):
    caplog.set_level(logging.INFO, logger="gateway.executor.fetcher")
    assert await fetcher.fetch("THINGS", "{ hello }", None, None) == {"data": {"answer": 1}}

    # the subgraph may have run the mutation before the connection went: sending it again could run it twice
    with pytest.raises(SubgraphRequestError) as failed:
        await fetcher.fetch("THINGS", 'mutation{ setGreeting(text:"hi") }', None, None)
    assert failed.value.subgraph == "THINGS"
    assert failed.value.reason == "request failed: ServerDisconnectedError"
    assert len(closing_server.received) == 2 and closing_server.dropped == 1

    (line,) = [r.getMessage() for r in caplog.records if r.name == "gateway.executor.fetcher"]
    assert "THINGS" in line and "mutation setGreeting" in line and "ServerDisconnectedError" in line
    assert "retry" not in line


async def test_a_query_is_retried_only_once(closing_server, caplog):
    # every connection is fresh for its first request only: two stale connections in a row still fail
    caplog.set_level(logging.INFO, logger="gateway.executor.fetcher")
    session = create_client_session(HttpClientSettings())
    try:
        fetchers = HttpSubgraphFetcher(session, {"THINGS": closing_server.url})
        # two connections in the pool, each with one request behind it
        await asyncio.gather(*(fetchers.fetch("THINGS", "{ hello }", None, None) for _ in range(2)))
        assert len(closing_server.received) == 2
        with pytest.raises(SubgraphRequestError, match="ServerDisconnectedError"):
            await fetchers.fetch("THINGS", "{ hello }", None, None)
    finally:
        await session.close()
    assert len(closing_server.received) == 4 and closing_server.dropped == 2


def test_pooled_connections_are_dropped_before_uvicorn_closes_them():
    # uvicorn (our subgraphs' server) closes a connection idle for `timeout_keep_alive` seconds; the gateway's
    # pool must give a connection up earlier, or it will sometimes reuse one the subgraph is closing
    assert HttpClientSettings().keepalive_seconds < uvicorn.Config(app=None).timeout_keep_alive
