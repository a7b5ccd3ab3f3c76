"""Bad bearer tokens against GatewaySecurity over a real issuer (discovery + JWKS over HTTP)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.datastructures import Headers

from auth.context_token import verify_context
from auth.errors import AuthenticationError
from gateway.security import GatewaySecurity, SecuritySettings, strip_internal_headers
from tests.security.servers import serve_app
from tests.security.token_issuer import AUDIENCE, LocalIssuer, new_rsa_key


class FakeRequest:
    def __init__(self, authorization: str | None = None) -> None:
        self.headers = Headers({"authorization": authorization} if authorization is not None else {})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_opened: list[GatewaySecurity] = []


@pytest.fixture(autouse=True)
async def _close_sessions():
    yield
    while _opened:
        await _opened.pop().close()


def security_for(issuer: LocalIssuer, tmp_path, **extra) -> GatewaySecurity:
    settings = {
        "issuers": [{"issuer": issuer.url, "audience": AUDIENCE, "algorithms": ["RS256", "ES256"]}],
        "context_key_file": str(tmp_path / "gateway-context-key.json"),
        **extra,
    }
    security = GatewaySecurity(settings)
    _opened.append(security)
    return security


async def _refused(security: GatewaySecurity, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await security.authenticate(FakeRequest(f"Bearer {token}"))
    assert caught.value.status == 401
    return caught.value.message


async def test_valid_token_gives_the_principal(issuer, tmp_path):
    security = security_for(issuer, tmp_path)
    principal = await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    assert principal.subject == "res-282014-0001"
    assert principal.municipality == "282014"
    assert principal.scopes == {"openid", "childcare:read"}
    assert principal.issuer == issuer.url


async def test_no_authorization_header_is_anonymous(issuer, tmp_path):
    security = security_for(issuer, tmp_path)
    assert await security.authenticate(FakeRequest()) is None


@pytest.mark.parametrize("header,expected", [("Basic dXNlcjpwYXNz", "Bearer scheme"), ("Bearer ", "no token")])
async def test_malformed_authorization_header(issuer, tmp_path, header, expected):
    security = security_for(issuer, tmp_path)
    with pytest.raises(AuthenticationError, match=expected):
        await security.authenticate(FakeRequest(header))


async def test_expired(issuer, tmp_path):
    now = int(time.time())
    message = await _refused(security_for(issuer, tmp_path), issuer.token(iat=now - 600, exp=now - 300))
    assert message == "the token has expired"


async def test_expired_within_clock_skew_is_accepted(issuer, tmp_path):
    now = int(time.time())
    security = security_for(issuer, tmp_path, clock_skew_seconds=30)
    assert await security.authenticate(FakeRequest(f"Bearer {issuer.token(exp=now - 5)}"))


async def test_not_yet_valid(issuer, tmp_path):
    message = await _refused(security_for(issuer, tmp_path), issuer.token(nbf=int(time.time()) + 300))
    assert message == "the token is not yet valid"


async def test_wrong_audience(issuer, tmp_path):
    message = await _refused(security_for(issuer, tmp_path), issuer.token(aud="urn:someone:else"))
    assert message == "the token is not meant for this audience"


async def test_wrong_issuer(issuer, tmp_path):
    message = await _refused(security_for(issuer, tmp_path), issuer.token(iss="https://evil.example"))
    assert message == "the token issuer 'https://evil.example' is not trusted"


async def test_alg_none(issuer, tmp_path):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(issuer.claims()).encode())}."
    message = await _refused(security_for(issuer, tmp_path), token)
    assert "alg 'none'" in message


async def test_hs256_signed_with_the_rsa_public_key(issuer, tmp_path):
    # The classic key-confusion attack: the verifier's public key used as an HMAC secret.
    secret = issuer.key.as_pem(private=False)
    signing_input = (
        _b64(json.dumps({"alg": "HS256", "kid": issuer.key.kid, "typ": "JWT"}).encode())
        + "."
        + _b64(json.dumps(issuer.claims(scope="childcare:write")).encode())
    )
    signature = _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    message = await _refused(security_for(issuer, tmp_path), f"{signing_input}.{signature}")
    assert message == "the token algorithm 'HS256' is not allowed for this issuer"


async def test_unknown_kid(issuer, tmp_path):
    security = security_for(issuer, tmp_path)
    message = await _refused(security, issuer.token(key=new_rsa_key()))
    assert message == "the token is signed with an unknown key"


async def test_tampered_payload(issuer, tmp_path):
    header, payload, signature = issuer.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["staff"]
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    message = await _refused(security_for(issuer, tmp_path), forged)
    assert message == "the token signature is invalid"


async def test_oversized(issuer, tmp_path):
    token = issuer.token(padding="x" * 20000)
    message = await _refused(security_for(issuer, tmp_path), token)
    assert message.startswith("the token is too large")
    assert issuer.jwks_hits == 0  # refused before any parsing or key lookup


async def test_signed_by_a_key_of_the_wrong_type_for_its_alg(issuer, tmp_path):
    ec = ECKey.generate_key("P-256", parameters={"kid": issuer.key.kid}, private=True)
    token = jwt.encode({"alg": "ES256", "kid": issuer.key.kid}, issuer.claims(), ec)
    message = await _refused(security_for(issuer, tmp_path), token)
    assert "does not match" in message


async def test_not_a_jwt(issuer, tmp_path):
    message = await _refused(security_for(issuer, tmp_path), "opaque-token-value")
    assert "not a signed JWT" in message


async def test_rotation_at_the_provider_is_picked_up_without_restart(issuer, tmp_path):
    security = security_for(issuer, tmp_path, jwks_refresh_cooldown_seconds=0.001)
    assert await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    assert issuer.jwks_hits == 1
    new_key = issuer.rotate()
    principal = await security.authenticate(FakeRequest(f"Bearer {issuer.token(key=new_key)}"))
    assert principal.subject == "res-282014-0001"
    assert issuer.jwks_hits == 2


async def test_unknown_kid_refetches_are_rate_limited(issuer, tmp_path):
    security = security_for(issuer, tmp_path, jwks_refresh_cooldown_seconds=3600)
    await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    for _ in range(5):
        await _refused(security, issuer.token(key=new_rsa_key()))
    assert issuer.jwks_hits == 1  # the cooldown since the first fetch has not passed


async def test_unreachable_issuer_is_a_clear_503(tmp_path):
    security = GatewaySecurity({
        "issuers": [{"issuer": "http://127.0.0.1:9", "audience": AUDIENCE}],
        "context_key_file": str(tmp_path / "k.json"),
    })
    _opened.append(security)
    issuer = LocalIssuer(url="http://127.0.0.1:9")
    with pytest.raises(AuthenticationError) as caught:
        await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    assert caught.value.status == 503 and "unavailable" in caught.value.message


def test_config_refuses_none_and_hmac_algorithms(tmp_path):
    for alg in ("none", "HS256"):
        with pytest.raises(ValueError, match=alg):
            SecuritySettings.from_mapping({"issuers": [{"issuer": "https://i", "audience": "a", "algorithms": [alg]}]})
    with pytest.raises(ValueError, match="unknown key"):
        SecuritySettings.from_mapping({"issuer": "https://i"})


async def test_context_headers_sign_per_subgraph_and_anonymous_gets_none(issuer, tmp_path):
    security = security_for(issuer, tmp_path)
    principal = await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    headers = security.context_headers(principal, "childcare")
    assert verify_context(headers["Kyodo-Context"], "childcare", security.public_jwks()) == principal
    with pytest.raises(AuthenticationError, match="audience"):
        verify_context(headers["Kyodo-Context"], "identity", security.public_jwks())
    assert security.context_headers(None, "childcare") == {}


def test_client_sent_internal_headers_are_dropped():
    cleaned = strip_internal_headers({"Kyodo-Context": "forged", "kyodo-anything": "x", "Accept": "json"})
    assert cleaned == {"Accept": "json"}


async def test_unreachable_issuer_is_not_hit_on_every_request(tmp_path):
    hits = 0

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def broken(request):
        nonlocal hits
        hits += 1
        return Response("down", status_code=503)

    with serve_app(Starlette(routes=[Route("/jwks", broken)])) as url:
        issuer = LocalIssuer(url=url)
        security = security_for(issuer, tmp_path, jwks_refresh_cooldown_seconds=3600, issuers=[
            {"issuer": url, "audience": AUDIENCE, "algorithms": ["RS256"], "jwks_uri": url + "/jwks"}])
        for _ in range(3):
            with pytest.raises(AuthenticationError) as caught:
                await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
            assert caught.value.status == 503
    assert hits == 1


async def test_provider_outage_keeps_the_cached_keys(issuer, tmp_path):
    security = security_for(issuer, tmp_path, jwks_refresh_cooldown_seconds=0.001, jwks_max_age_seconds=0.001)
    assert await security.authenticate(FakeRequest(f"Bearer {issuer.token()}"))
    issuer.jwks_down = True   # the provider's JWKS now answers 503
    hits = issuer.jwks_hits
    await asyncio.sleep(0.01)   # past the keys' max age: the next token makes the cache try a refresh
    # another token (a verified token is remembered, and would not need the keys at all)
    principal = await security.authenticate(FakeRequest(f"Bearer {issuer.token(jti='after-the-outage')}"))
    assert principal.subject == "res-282014-0001"
    assert issuer.jwks_hits > hits   # the refresh was tried and failed; the cached keys still served


def allow_case_workers(principal, policy):
    return policy == "case-worker" and principal is not None and "staff" in principal.roles


def test_policy_hook_is_loaded_from_settings(tmp_path):
    security = GatewaySecurity({
        "context_key_file": str(tmp_path / "k.json"),
        "policy_hook": "tests.security.test_gateway_security:allow_case_workers",
    })
    assert security.policy_hook is allow_case_workers
    with pytest.raises(ValueError, match="package.module:function"):
        GatewaySecurity({"context_key_file": str(tmp_path / "k.json"), "policy_hook": "nocolon"})
    assert GatewaySecurity({"context_key_file": str(tmp_path / "k.json")}).policy_hook is None


async def test_a_remembered_token_still_expires(issuer, tmp_path):
    security = security_for(issuer, tmp_path, clock_skew_seconds=0)
    # whole seconds (exp is an integer): at least 2 s ahead, so the first two calls are inside it on a busy machine
    expires = int(time.time()) + 3
    token = issuer.token(exp=expires)
    assert await security.authenticate(FakeRequest(f"Bearer {token}"))
    assert await security.authenticate(FakeRequest(f"Bearer {token}"))  # served from the cache
    while time.time() <= expires + 0.05:   # wait on the real clock until the token is past its exp
        await asyncio.sleep(0.1)
    with pytest.raises(AuthenticationError, match="expired"):
        await security.authenticate(FakeRequest(f"Bearer {token}"))
