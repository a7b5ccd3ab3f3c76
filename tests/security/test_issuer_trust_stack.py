"""Two real issuers in front of the real identity and childcare subgraphs (finding 1 of issue 10).

Issuer A is the dev IdP (Yabu's identity platform: its subjects are resident ids). Issuer B is the npm
`oidc-provider`, trusted as a vendor IdP: it may vouch for its own clients, with the `vendor`/`resident` roles
and two read scopes, and for no municipality. B then mints the attack of the issue: a token whose subject is a
Himeji guardian's resident id, claiming Himeji staff with `childcare:read` and `identity:read`.
"""

from __future__ import annotations

import pytest

from subgraphs.common.roster import STAFF, by_label, children_of
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce
from tests.integration.servers import LoopbackServer
from tests.integration.stack import AUDIENCE, compose_live, migrate_and_seed, sqlite_url
from tests.security.oidc_provider_process import running_oidc_provider

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GUARDIAN = by_label("himeji-1/taro")
CHILD = children_of(GUARDIAN.id)[0]
LINKED = by_label("kakogawa-1/makoto")          # has an account at B, linked on purpose by the city
HIMEJI_STAFF = next(s for s in STAFF if s.id.startswith("s-") and "childcare:read" in s.scopes
                    and s.municipality_code == GUARDIAN.municipality_code)
FORGED_CLAIMS = {"muni": GUARDIAN.municipality_code, "roles": ["resident", "guardian", "staff"]}
B_CLIENTS = [
    {"client_id": GUARDIAN.id, "client_secret": "b-secret-1", "claims": FORGED_CLAIMS},
    {"client_id": HIMEJI_STAFF.id, "client_secret": "b-secret-2", "claims": FORGED_CLAIMS},
    {"client_id": "acct-linked", "client_secret": "b-secret-3", "claims": {"roles": ["resident"]}},
]
PERSONAL = """query($id: ID!, $child: ID!) {
  me { id name birthDate children { id vaccinations { vaccineCode } } }
  resident(id: $id) { name birthDate }
  child(id: $child) { id vaccinations { vaccineCode } }
}"""


@pytest.fixture(scope="module")
async def two_issuers(tmp_path_factory):
    from auth.idp.app import create_idp_app
    from gateway.http.command import build_app
    from gateway.security import CONTEXT_JWKS_PATH
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph
    import importlib

    state = tmp_path_factory.mktemp("two-issuers")
    servers: list[LoopbackServer] = []
    with running_oidc_provider(B_CLIENTS) as issuer_b:
        try:
            gateway = LoopbackServer("gateway")
            servers.append(gateway)
            idp = LoopbackServer("idp")
            servers.append(idp)
            idp.start(create_idp_app(idp.url, audience=AUDIENCE, state_dir=state / "idp", admin_token="t"))
            urls = {}
            for name in ("childcare", "identity"):
                database_url = sqlite_url(state, name)
                await migrate_and_seed(name, database_url)
                app = importlib.import_module(f"subgraphs.{name}.app").create_app(
                    database_url=database_url, keys=gateway.url + CONTEXT_JWKS_PATH)
                server = LoopbackServer(name)
                servers.append(server)
                server.start(app)
                urls[name] = server.url + "/graphql"
            supergraph, _ = await compose_live(state, urls)
            settings = settings_from_mapping({"auth": {
                "context_key_file": str(state / "gateway-context-key.json"),
                "issuers": [
                    {"issuer": idp.url, "audience": AUDIENCE,
                     "trust": {"name": "yabu", "subjects": "resident-ids", "municipalities": ["*"],
                               "roles": ["*"], "scopes": ["*"]}},
                    {"issuer": issuer_b, "audience": AUDIENCE, "algorithms": ["RS256"],
                     "trust": {"name": "vendor-b", "municipalities": [], "roles": ["vendor", "resident"],
                               "scopes": ["identity:read", "childcare:read"],
                               "links": {"acct-linked": LINKED.id}}},
                ],
            }})
            gateway.start(build_app(settings, load_supergraph(supergraph)))
            yield gateway.url + "/graphql", idp.url, issuer_b, sqlite_url(state, "identity")
        finally:
            for server in reversed(servers):
                server.stop()


async def b_token(issuer_b: str, client_id: str, secret: str) -> str:
    import httpx

    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{issuer_b}/token", auth=(client_id, secret), data={
            "grant_type": "client_credentials", "scope": "identity:read childcare:read", "resource": AUDIENCE})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_issuer_a_guardian_reads_own_family(two_issuers):
    """The control: the same query with the home issuer's token answers, so the refusals below mean something."""
    graphql_url, idp_url, _, _ = two_issuers
    token = await sign_in_with_pkce(idp_url, GUARDIAN.id)
    body = (await post_graphql(graphql_url, PERSONAL, {"id": GUARDIAN.id, "child": CHILD.id}, token=token)).json()
    assert body["data"]["me"]["id"] == GUARDIAN.id
    assert body["data"]["resident"]["name"] == GUARDIAN.name
    assert body["data"]["child"]["id"] == CHILD.id


async def test_issuer_b_cannot_claim_issuer_a_resident_or_mint_himeji_staff(two_issuers):
    graphql_url, _, issuer_b, _ = two_issuers
    token = await b_token(issuer_b, GUARDIAN.id, "b-secret-1")
    body = (await post_graphql(graphql_url, PERSONAL, {"id": GUARDIAN.id, "child": CHILD.id}, token=token)).json()
    data = body.get("data") or {}
    assert data.get("me") is None                 # "vendor-b#<id>" is nobody's resident id
    assert data.get("resident") is None
    assert data.get("child") is None
    assert GUARDIAN.name not in str(body)
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    assert codes & {"FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND"}, body


async def test_audit_records_name_issuer_client_and_sign_in_method(two_issuers):
    import json

    from sqlalchemy import select

    from subgraphs.common.audit import AuditRecord
    from subgraphs.common.db import Database

    graphql_url, idp_url, issuer_b, identity_db = two_issuers
    await post_graphql(graphql_url, PERSONAL, {"id": GUARDIAN.id, "child": CHILD.id},
                       token=await b_token(issuer_b, GUARDIAN.id, "b-secret-1"))
    await post_graphql(graphql_url, "{ me { name } }", token=await sign_in_with_pkce(idp_url, GUARDIAN.id))
    database = Database("identity", identity_db)
    try:
        async with database.transaction() as session:
            rows = list((await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars())
    finally:
        await database.dispose()
    refused = [r for r in rows if r.actor == f"vendor-b#{GUARDIAN.id}"]
    assert refused and all(r.result == "denied" for r in refused)
    assert json.loads(refused[-1].actor_auth) == {"iss": issuer_b, "sub": GUARDIAN.id, "cid": GUARDIAN.id}
    own = [r for r in rows if r.actor == GUARDIAN.id and r.result == "permitted"]
    details = json.loads(own[-1].actor_auth)
    assert details["iss"] == idp_url and details["cid"] == "kyodo-web"
    assert details["acr"] == "password" and details["amr"] == ["pwd"]


async def test_issuer_b_staff_claim_is_dropped(two_issuers):
    graphql_url, _, issuer_b, _ = two_issuers
    token = await b_token(issuer_b, HIMEJI_STAFF.id, "b-secret-2")
    body = (await post_graphql(graphql_url, PERSONAL, {"id": GUARDIAN.id, "child": CHILD.id}, token=token)).json()
    data = body.get("data") or {}
    assert data.get("resident") is None and data.get("child") is None
    assert GUARDIAN.name not in str(body)


async def test_explicitly_linked_account_of_issuer_b_is_that_resident(two_issuers):
    graphql_url, _, issuer_b, _ = two_issuers
    token = await b_token(issuer_b, "acct-linked", "b-secret-3")
    body = (await post_graphql(graphql_url, "{ me { id name } }", token=token)).json()
    assert body["data"]["me"] == {"id": LINKED.id, "name": LINKED.name}
