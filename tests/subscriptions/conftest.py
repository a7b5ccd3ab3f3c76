"""Real servers for subscription tests: two strawberry subgraphs, a token issuer, gateways on uvicorn."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import pytest

from gateway.composition.compose import compose
from gateway.composition.source import SubgraphSource
from gateway.http import create_app
from gateway.security import GatewaySecurity
from gateway.settings import settings_from_mapping
from gateway.supergraph import load_supergraph
from tests.gateway_http.servers import ThreadedServer
from tests.security.servers import serve_app
from tests.security.token_issuer import AUDIENCE, LocalIssuer
from tests.subscriptions.fixture_subgraphs import Broker, gauges_app, gauges_schema, stations_app


def _sdl(schema: Any) -> str:
    return schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]


def supergraph_sdl(gauges_url: str, stations_url: str) -> str:
    return compose([
        SubgraphSource("gauges", gauges_url + "/graphql", _sdl(gauges_schema(Broker()))),
        SubgraphSource("stations", stations_url + "/graphql", _sdl(stations_app().schema)),
    ])


class Gauges:
    """The gauges subgraph served, with its broker (how many subscribers it has, per station)."""

    def __init__(self) -> None:
        self.broker = Broker()
        self.server = ThreadedServer(gauges_app(self.broker), lifespan="off")

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def gauges() -> Iterator[Gauges]:
    served = Gauges()
    with served.server:
        yield served


@pytest.fixture(scope="module")
def stations() -> Iterator[ThreadedServer]:
    with ThreadedServer(stations_app(), lifespan="off") as server:
        yield server


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    test_issuer = LocalIssuer()
    with serve_app(test_issuer.app()) as url:
        test_issuer.url = url
        yield test_issuer


@pytest.fixture(scope="module")
def serve_gateway(issuer: LocalIssuer, stations: ThreadedServer, tmp_path_factory: Any
                  ) -> Iterator[Callable[..., ThreadedServer]]:
    """serve_gateway(gauges, **settings) -> a started gateway (uvicorn) over these subgraphs, trusting `issuer`."""
    stack = contextlib.ExitStack()
    key_file = tmp_path_factory.mktemp("gateway") / "context-key.json"

    def serve(gauges_served: Gauges, authenticator: Any = None, **settings: Any) -> ThreadedServer:
        supergraph = load_supergraph(supergraph_sdl(gauges_served.url, stations.url))
        security = GatewaySecurity({
            "issuers": [{"issuer": issuer.url, "audience": AUDIENCE, "algorithms": ["RS256"]}],
            "context_key_file": str(key_file),
        })
        app = create_app(settings_from_mapping(settings), supergraph,
                         authenticator=authenticator or security.authenticate,
                         context_headers=security.context_headers, on_close=[security.close])
        server = stack.enter_context(ThreadedServer(app))
        server.security = security  # type: ignore[attr-defined]
        server.app = app  # type: ignore[attr-defined]
        return server

    yield serve
    stack.close()


@pytest.fixture(scope="module")
def gateway(serve_gateway: Callable[..., ThreadedServer], gauges: Gauges) -> ThreadedServer:
    return serve_gateway(gauges, subscriptions={"max_per_principal": 3, "max_per_connection": 2})
