"""Bad tokens, context propagation and field authorization through the real gateway app
(`gateway.http.command.build_app`, the production wiring) in front of a real subgraph that
counts its calls. A refused request must never reach the subgraph."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

from auth.context_token import sign_context, verify_context
from auth.errors import AuthenticationError
from auth.gateway_keys import generate_signing_key
from auth.principal import Principal
from tests.security.counting_subgraph import CallLog, CountingApp, supergraph_sdl
from tests.security.servers import serve_app
from tests.security.token_issuer import AUDIENCE, LocalIssuer, new_rsa_key

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(issuer, call log, gateway URL, gateway JWKS path): all served over real HTTP."""
    from gateway.http.command import build_app
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph

    state = tmp_path_factory.mktemp("gateway")
    key_file = state / "gateway-context-key.json"
    jwks_file = state / "gateway-context-jwks.json"
    issuer = LocalIssuer()
    log = CallLog()
    with serve_app(issuer.app()) as issuer_url, serve_app(CountingApp(log, str(jwks_file))) as subgraph_url:
        issuer.url = issuer_url
        settings = settings_from_mapping({"auth": {
            "issuers": [{"issuer": issuer_url, "audience": AUDIENCE, "algorithms": ["RS256"]}],
            "context_key_file": str(key_file),
            "jwks_refresh_cooldown_seconds": 0.001,
        }})
        app = build_app(settings, load_supergraph(supergraph_sdl(subgraph_url + "/graphql")))
        with serve_app(app) as gateway_url:
            yield issuer, log, gateway_url, jwks_file


async def post(gateway_url: str, query: str, token: str | None = None, headers: dict | None = None) -> httpx.Response:
    all_headers = {"content-type": "application/json", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(gateway_url + "/graphql", json={"query": query}, headers=all_headers)


def _bad_tokens(issuer: LocalIssuer) -> dict[str, tuple[str, str]]:
    """kind -> (token, the error message the client must get)."""
    now = int(time.time())
    claims = issuer.claims()
    none_token = f"{_b64(json.dumps({'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."
    signing_input = (_b64(json.dumps({"alg": "HS256", "kid": issuer.key.kid}).encode()) + "."
                     + _b64(json.dumps(claims).encode()))
    hs_signature = hmac.new(issuer.key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    header, payload, signature = issuer.token().split(".")
    tampered = dict(claims, roles=["staff"], scope="identity:read")
    return {
        "expired": (issuer.token(iat=now - 900, exp=now - 600), "the token has expired"),
        "not yet valid": (issuer.token(nbf=now + 600), "the token is not yet valid"),
        "wrong audience": (issuer.token(aud="urn:not:kyodo"), "the token is not meant for this audience"),
        "wrong issuer": (issuer.token(iss="https://evil.example"), "the token issuer 'https://evil.example' is not trusted"),
        "alg none": (none_token, "unsigned tokens (alg 'none') are not accepted"),
        "hs256 with the rsa public key": (f"{signing_input}.{_b64(hs_signature)}",
                                          "the token algorithm 'HS256' is not allowed for this issuer"),
        "unknown kid": (issuer.token(key=new_rsa_key()), "the token is signed with an unknown key"),
        "tampered payload": (f"{header}.{_b64(json.dumps(tampered).encode())}.{signature}",
                             "the token signature is invalid"),
        "oversized": (issuer.token(padding="x" * 20000), "the token is too large"),
    }


KINDS = ["expired", "not yet valid", "wrong audience", "wrong issuer", "alg none",
         "hs256 with the rsa public key", "unknown kid", "tampered payload", "oversized"]


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_token_is_a_401_and_no_subgraph_is_called(stack, kind):
    issuer, log, gateway_url, _ = stack
    token, message = _bad_tokens(issuer)[kind]
    calls_before = log.count
    response = await post(gateway_url, "{ whoami me { id } }", token)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"][0]["message"].startswith(message)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body or body["data"] is None
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert log.count == calls_before


async def test_valid_token_reaches_the_subgraph_as_a_context_token_for_it_alone(stack):
    issuer, log, gateway_url, jwks_file = stack
    response = await post(gateway_url, "{ whoami me { id municipality } }", issuer.token())
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"whoami": "res-282014-0001",
                                        "me": {"id": "res-282014-0001", "municipality": "282014"}}}
    context = log.contexts[-1]
    principal = verify_context(context, "people", str(jwks_file))
    assert principal.subject == "res-282014-0001" and principal.issuer == issuer.url
    with pytest.raises(AuthenticationError, match="not meant for this audience"):
        verify_context(context, "identity", str(jwks_file))


async def test_client_sent_context_header_is_dropped(stack):
    _, log, gateway_url, _ = stack
    forged = sign_context(Principal("staff-x", "282014", frozenset({"staff"}), frozenset({"identity:read"})),
                          "people", generate_signing_key())
    response = await post(gateway_url, "{ whoami }", headers={"Kyodo-Context": forged})
    assert response.json() == {"data": {"whoami": "anonymous"}}
    assert log.contexts[-1] is None


async def test_gateway_serves_its_context_jwks(stack):
    _, _, gateway_url, jwks_file = stack
    async with httpx.AsyncClient() as client:
        served = (await client.get(gateway_url + "/.well-known/kyodo-context-jwks.json")).json()
    assert served == json.loads(jwks_file.read_text())


async def test_a_subgraph_can_verify_with_the_jwks_url(stack):
    issuer, log, gateway_url, _ = stack
    await post(gateway_url, "{ whoami }", issuer.token(sub="res-url-check"))
    url = gateway_url + "/.well-known/kyodo-context-jwks.json"
    assert verify_context(log.contexts[-1], "people", url).subject == "res-url-check"


async def test_unauthorized_field_is_never_asked_for_and_comes_back_null(stack):
    _, log, gateway_url, _ = stack
    response = await post(gateway_url, "{ shelters { name occupancy } }")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"shelters": [{"name": "加古川市役所", "occupancy": None}]}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert body["errors"][0]["path"] == ["shelters", "@", "occupancy"]
    assert "occupancy" not in log.queries[-1]


async def test_scoped_root_field_without_scope_calls_no_subgraph(stack):
    issuer, log, gateway_url, _ = stack
    calls_before = log.count
    response = await post(gateway_url, "{ residents { id } }", issuer.token(scope="openid"))
    body = response.json()
    assert body["errors"][0]["path"] == ["residents"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert log.count == calls_before
    assert body["data"] is None  # residents is non-null, so its refusal nulls the whole response
    granted = await post(gateway_url, "{ residents { id } }", issuer.token(scope="identity:read"))
    assert granted.json() == {"data": {"residents": [{"id": "r-1"}]}}


async def test_key_rotation_at_the_provider_needs_no_gateway_restart(stack):
    issuer, _, gateway_url, _ = stack
    assert (await post(gateway_url, "{ whoami }", issuer.token())).status_code == 200
    new_key = issuer.rotate()
    response = await post(gateway_url, "{ whoami }", issuer.token(key=new_key, sub="res-after-rotation"))
    assert response.json() == {"data": {"whoami": "res-after-rotation"}}


async def test_anonymous_refused_nullable_root_field_reads_null(stack):
    _, log, gateway_url, _ = stack
    calls_before = log.count
    body = (await post(gateway_url, "{ me { id } }")).json()
    assert body["data"] == {"me": None}
    assert body["errors"][0]["path"] == ["me"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert log.count == calls_before
