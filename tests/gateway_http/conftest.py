from __future__ import annotations

import shutil
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from gateway.http import create_app
from gateway.http.playground.assets import DEFAULT_ASSETS_DIR, missing_assets
from gateway.settings import Settings, settings_from_mapping
from gateway.supergraph import load_supergraph
from tests.gateway_http.servers import ThreadedServer
from tests.gateway_http.things_subgraph import things_app, things_supergraph


# GraphiQL's files come from the npm registry (`make playground`). Only a machine without npm may skip the tests
# that need them; with npm, missing files are a broken build step and those tests fail.
NPM_MISSING = shutil.which("npm") is None
needs_playground_assets = pytest.mark.skipif(
    NPM_MISSING and bool(missing_assets(DEFAULT_ASSETS_DIR)),
    reason="npm is not installed, so the playground files cannot be fetched",
)


@pytest.fixture(scope="session")
def things_server() -> Iterator[ThreadedServer]:
    with ThreadedServer(things_app(), lifespan="off") as server:
        yield server


@pytest.fixture(scope="session")
def supergraph(things_server: ThreadedServer) -> Any:
    return load_supergraph(things_supergraph(things_server.url + "/graphql"))


@pytest.fixture
def make_client(supergraph: Any):
    """make_client(settings_mapping, **hooks) -> a TestClient whose lifespan has started."""
    opened: list[TestClient] = []

    def make(settings: dict | Settings | None = None, **hooks: Any) -> TestClient:
        if not isinstance(settings, Settings):
            settings = settings_from_mapping(settings or {})
        client = TestClient(create_app(settings, supergraph, **hooks), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


# Headers a JSON-speaking client sends; CSRF prevention lets these through.
JSON = {"content-type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
