"""The whole kyodo stack, for real, on loopback: four seeded subgraphs, the dev IdP and the composed gateway.

Order matters and follows the contracts (docs/architecture.md):
1. the gateway's socket is bound first, so its URL, and with it the URL of its context-token JWKS, is known;
2. the dev IdP (auth/idp) starts on its own port;
3. each subgraph gets a fresh SQLite file in the tmp dir, migrated by its Alembic scripts and seeded from the
   roster, and is told the gateway's JWKS URL (`keys`, what `KYODO_GATEWAY_JWKS` would say);
4. the supergraph is composed by our composition from the subgraphs' live `_service { sdl }`, exactly as
   `kyodo serve --subgraphs FILE` does;
5. the gateway is the production wiring (`gateway.http.command.build_app`: `gateway.http.create_app` with
   `GatewaySecurity` trusting the dev IdP through OIDC discovery + JWKS over HTTP, and the authorizer).
Every subgraph app is wrapped in a CallRecorder so tests can see what reached it.
"""

from __future__ import annotations

import importlib
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from tests.integration.servers import CallRecorder, LoopbackServer

SUBGRAPH_NAMES = ("childcare", "currency", "identity", "safety")
AUDIENCE = "urn:kyodo:gateway"
IDP_ADMIN_TOKEN = "integration-admin"


@dataclass
class RunningSubgraph:
    name: str
    url: str                 # the GraphQL endpoint
    database_url: str
    recorder: CallRecorder
    server: LoopbackServer


@dataclass
class Stack:
    state_dir: Path
    gateway_url: str
    idp_url: str
    idp_app: Any
    subgraphs: dict[str, RunningSubgraph] = field(default_factory=dict)
    sdls: dict[str, str] = field(default_factory=dict)   # subgraph name -> its live `_service { sdl }`
    supergraph_sdl: str = ""

    @property
    def graphql_url(self) -> str:
        return self.gateway_url + "/graphql"

    def calls_mark(self) -> dict[str, int]:
        return {name: sub.recorder.count() for name, sub in self.subgraphs.items()}

    def calls_since(self, mark: dict[str, int]) -> dict[str, list]:
        return {name: sub.recorder.since(mark[name]) for name, sub in self.subgraphs.items()}


def sqlite_url(state_dir: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{state_dir / f'{name}.sqlite'}"


async def migrate_and_seed(name: str, database_url: str) -> None:
    """What `kyodo seed NAME` does, on this test's own database file."""
    from subgraphs.common.db import Database, upgrade_async

    await upgrade_async(name, database_url)
    seed = importlib.import_module(f"subgraphs.{name}.seed").seed
    database = Database(name, database_url)
    try:
        async with database.transaction() as session:
            await seed(session)
    finally:
        await database.dispose()


async def compose_live(state_dir: Path, urls: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(supergraph SDL, the SDLs it was composed from), through the same config path `kyodo serve` reads."""
    from gateway.composition import compose
    from gateway.composition.config import read_config, resolve_sources

    config = state_dir / "subgraphs.json"
    config.write_text(json.dumps([{"name": name, "url": url} for name, url in urls.items()], indent=2))
    sources = await resolve_sources(read_config(str(config)))
    return compose(sources), {source.name: source.sdl for source in sources}


def gateway_settings(state_dir: Path, idp_url: str) -> Any:
    import os

    from gateway.settings import settings_from_mapping

    # The gateway asks the dev IdP whether a sign-in was revoked (RFC 7662), as `kyodo dev` configures it.
    os.environ.setdefault("KYODO_GATEWAY_INTROSPECTION_SECRET", "kyodo-gateway-dev-secret")
    return settings_from_mapping({
        "expose_query_plan": True,
        # Tests fire bursts no resident's app would (24 cross-city views at once); rate limits have their own
        # tests (tests/gateway_http/test_traffic_plugins.py, tests/traffic), so the principal buckets are wide here.
        "rate_limit": {"query": {"capacity": 100000, "refill_per_second": 10000}},
        "auth": {
            "issuers": [{"issuer": idp_url, "audience": AUDIENCE,   # discovery + JWKS over HTTP
                         "introspection": {"endpoint": f"{idp_url}/introspect", "check_seconds": 10}}],
            "context_key_file": str(state_dir / "gateway-context-key.json"),
        },
    })


@asynccontextmanager
async def running_stack(state_dir: Path) -> AsyncIterator[Stack]:
    from auth.idp.app import create_idp_app
    from auth.resource_server import TrustedIssuer
    from gateway.http.command import build_app
    from gateway.security import CONTEXT_JWKS_PATH
    from gateway.supergraph import load_supergraph

    servers: list[LoopbackServer] = []
    gateway_server = LoopbackServer("gateway")
    servers.append(gateway_server)
    try:
        context_jwks_url = gateway_server.url + CONTEXT_JWKS_PATH

        idp_server = LoopbackServer("idp")
        servers.append(idp_server)
        idp_app = create_idp_app(idp_server.url, audience=AUDIENCE, state_dir=state_dir / "idp",
                                 admin_token=IDP_ADMIN_TOKEN)
        idp_server.start(idp_app)
        stack = Stack(state_dir=state_dir, gateway_url=gateway_server.url, idp_url=idp_server.url, idp_app=idp_app)

        for name in SUBGRAPH_NAMES:
            database_url = sqlite_url(state_dir, name)
            await migrate_and_seed(name, database_url)
            # identity also takes the grant relay's own token on its @inaccessible outbox operations
            direct = {"service_issuer": TrustedIssuer(idp_server.url, (AUDIENCE,))} if name == "identity" else {}
            app = importlib.import_module(f"subgraphs.{name}.app").create_app(database_url=database_url,
                                                                             keys=context_jwks_url, **direct)
            recorder = CallRecorder(app)
            server = LoopbackServer(name)
            servers.append(server)
            server.start(recorder)
            stack.subgraphs[name] = RunningSubgraph(name, server.url + "/graphql", database_url, recorder, server)

        stack.supergraph_sdl, stack.sdls = await compose_live(
            state_dir, {name: sub.url for name, sub in stack.subgraphs.items()})
        gateway_app = build_app(gateway_settings(state_dir, idp_server.url), load_supergraph(stack.supergraph_sdl))
        gateway_server.start(gateway_app)
        yield stack
    finally:
        for server in reversed(servers):
            server.stop()
