"""A second real subgraph beside `things`, that tests can make fail: answer 503, answer GraphQL errors, or be slow.

`GaugesControl` is shared by the test and the server thread: `mode` ("ok", "503", "graphql-error") decides the
next answers, `requests` counts what reached the server, and `slow(seconds)` records whether each slow resolver
finished or was cancelled. The app sits behind the subgraphs' own LoadShedding middleware, so it honours the
gateway's `Kyodo-Request-Timeout-Ms` and cancels work whose caller has gone, as kyodo's subgraphs do.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import strawberry
import strawberry.federation
from strawberry.asgi import GraphQL
from strawberry.types import Info

from gateway.composition.compose import compose
from gateway.composition.source import SubgraphSource
from subgraphs.common.load_shedding import LoadShedding
from subgraphs.common.serving_settings import ServingSettings
from tests.gateway_http.things_subgraph import things_app


class GaugesControl:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode = "ok"
        self.requests = 0
        self.slow_started = 0
        self.slow_finished = 0
        self.slow_cancelled = 0
        self.slow_running = 0
        self.slow_most = 0      # most slow resolvers running at once
        self.deadline_headers: list[str] = []

    def reset(self) -> None:
        with self.lock:
            self.__init__()  # type: ignore[misc]


CONTROL = GaugesControl()


@strawberry.type
class Query:
    @strawberry.field
    def gauge(self) -> int | None:
        return 7

    @strawberry.field
    async def slow(self, seconds: float, info: Info) -> str | None:
        CONTROL.slow_started += 1
        CONTROL.slow_running += 1
        CONTROL.slow_most = max(CONTROL.slow_most, CONTROL.slow_running)
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            CONTROL.slow_cancelled += 1
            raise
        finally:
            CONTROL.slow_running -= 1
        CONTROL.slow_finished += 1
        return "done"


class FailingOnDemand:
    """ASGI: counts requests to /graphql and answers 503 or a GraphQL error in a 200 when told to."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        CONTROL.requests += 1
        headers = dict(scope.get("headers") or ())
        if b"kyodo-request-timeout-ms" in headers:
            CONTROL.deadline_headers.append(headers[b"kyodo-request-timeout-ms"].decode())
        mode = CONTROL.mode
        if mode == "ok":
            await self.app(scope, receive, send)
            return
        status, body = ((503, {"errors": [{"message": "overloaded", "extensions": {"code": "SERVICE_OVERLOADED"}}]})
                        if mode == "503" else
                        (200, {"data": None, "errors": [{"message": "no gauge today"}]}))
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def gauges_app() -> Any:
    schema = strawberry.federation.Schema(query=Query)
    return FailingOnDemand(LoadShedding(GraphQL(schema, graphql_ide=None), ServingSettings(request_timeout=120), paths=("/graphql",),
                                        subgraph="gauges"))


def gauges_sdl() -> str:
    return strawberry.federation.Schema(query=Query).as_str()


def things_sdl() -> str:
    return things_app().schema.as_str()


def two_subgraph_supergraph(things_url: str, gauges_url: str) -> str:
    return compose([SubgraphSource("things", things_url, things_sdl()),
                    SubgraphSource("gauges", gauges_url, gauges_sdl())])
