"""Interoperability: JWT access tokens from the npm `oidc-provider` (OpenID certified), run with
node, accepted by the real gateway app through OIDC discovery, and forwarded to a subgraph.

Needs node and the npm package (tests/security/oidc_provider_process.py installs it when missing).
"""

from __future__ import annotations

import httpx
import pytest

from tests.security.oidc_provider_process import running_oidc_provider
from tests.security.counting_subgraph import CallLog, CountingApp, supergraph_sdl
from tests.security.servers import serve_app

AUDIENCE = "urn:kyodo:gateway"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def oidc_provider():
    with running_oidc_provider() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def interop_stack(oidc_provider, tmp_path_factory):
    from gateway.http.command import build_app
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph

    state = tmp_path_factory.mktemp("interop")
    log = CallLog()
    with serve_app(CountingApp(log, str(state / "gateway-context-jwks.json"))) as subgraph_url:
        settings = settings_from_mapping({"auth": {
            # no jwks_uri: the gateway finds the keys through OIDC discovery
            "issuers": [{"issuer": oidc_provider, "audience": AUDIENCE, "algorithms": ["RS256", "PS256", "ES256"]}],
            "context_key_file": str(state / "gateway-context-key.json"),
        }})
        app = build_app(settings, load_supergraph(supergraph_sdl(subgraph_url + "/graphql")))
        with serve_app(app) as gateway_url:
            yield oidc_provider, log, gateway_url


async def client_credentials_token(issuer: str, scope: str = "identity:read") -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{issuer}/token", auth=("kyodo-interop", "kyodo-interop-secret"),
                                     data={"grant_type": "client_credentials", "scope": scope, "resource": AUDIENCE})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def ask(gateway_url: str, query: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(gateway_url + "/graphql", json={"query": query},
                                 headers={"authorization": f"Bearer {token}"})


async def test_oidc_provider_token_is_accepted_and_its_scopes_apply(interop_stack):
    issuer, log, gateway_url = interop_stack
    token = await client_credentials_token(issuer)
    response = await ask(gateway_url, "{ whoami residents { id } }", token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"whoami": "kyodo-interop", "residents": [{"id": "r-1"}]}}
    assert log.contexts[-1]  # the subgraph got the gateway's context token


async def test_oidc_provider_token_without_the_scope_is_pruned(interop_stack):
    issuer, _, gateway_url = interop_stack
    token = await client_credentials_token(issuer, scope="childcare:read")
    body = (await ask(gateway_url, "{ whoami residents { id } }", token)).json()
    # residents is [Resident!]!: its removal nulls the nearest nullable ancestor, here all of data
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["residents"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    kept = (await ask(gateway_url, "{ whoami me { id municipality } }", token)).json()
    assert kept == {"data": {"whoami": "kyodo-interop", "me": {"id": "kyodo-interop", "municipality": "282103"}}}


async def test_tampered_oidc_provider_token_is_refused_before_any_subgraph(interop_stack):
    issuer, log, gateway_url = interop_stack
    header, payload, signature = (await client_credentials_token(issuer)).split(".")
    calls = log.count
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    response = await ask(gateway_url, "{ whoami }", forged)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert log.count == calls
