"""The dev IdP's flows over real HTTP, and its tokens validated by the gateway's resource server."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from auth.errors import AuthenticationError
from auth.idp.card_certificates import create_card_authority, demo_card_for, load_or_create_card_authority
from auth.idp.card_reader import tap_card
from gateway.security import GatewaySecurity
from subgraphs.common.roster import STAFF, by_label, has_demo_card
from tests.security.test_gateway_security import FakeRequest

REDIRECT = "http://127.0.0.1:53682/callback"  # any loopback port is accepted (RFC 8252)
TARO = by_label("himeji-1/taro")              # a parent in Himeji: resident + guardian


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def gateway(idp, tmp_path):
    issuer, _ = idp
    security = GatewaySecurity({
        "issuers": [{"issuer": issuer, "audience": "urn:kyodo:gateway"}],
        "context_key_file": str(tmp_path / "gw.json"),
        "jwks_refresh_cooldown_seconds": 0.001,
    })
    yield security
    await security.close()


async def sign_in(http, issuer, login, *, scope="openid profile offline_access", challenge=None, method="S256"):
    params = {"response_type": "code", "client_id": "kyodo-web", "redirect_uri": REDIRECT, "scope": scope,
              "state": "st-1", "code_challenge": challenge, "code_challenge_method": method}
    params = {k: v for k, v in params.items() if v is not None}
    form_page = await http.get(f"{issuer}/authorize", params=params)
    assert form_page.status_code == 200, form_page.text
    assert "kyodo dev sign-in" in form_page.text
    return await http.post(f"{issuer}/authorize", data={**params, "login": login, "password": "kyodo-dev"})


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


async def test_discovery_and_jwks(idp, http):
    issuer, _ = idp
    meta = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
    assert meta["issuer"] == issuer and meta["code_challenge_methods_supported"] == ["S256"]
    keys = (await http.get(meta["jwks_uri"])).json()["keys"]
    assert keys and all("d" not in key for key in keys)


async def test_code_with_pkce_gives_tokens_the_gateway_accepts(idp, http, gateway):
    issuer, _ = idp
    verifier, challenge = pkce_pair()
    code = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    response = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "kyodo-web", "code_verifier": verifier})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    principal = await gateway.authenticate(FakeRequest(f"Bearer {tokens['access_token']}"))
    assert principal.subject == TARO.id
    assert principal.municipality == "282014"
    assert principal.roles == {"resident", "guardian"}
    assert principal.assurance == "password"
    # the code is single use
    again = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "kyodo-web", "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_pkce_is_enforced(idp, http):
    issuer, _ = idp
    verifier, challenge = pkce_pair()
    code = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    wrong = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "kyodo-web", "code_verifier": pkce_pair()[0]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    missing = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "kyodo-web"})
    assert missing.status_code == 400 and "code_verifier" in missing.json()["error_description"]
    plain = await http.get(f"{issuer}/authorize", params={
        "response_type": "code", "client_id": "kyodo-web", "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "plain"})
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]


async def test_wrong_password_and_unregistered_redirect_are_refused(idp, http):
    issuer, _ = idp
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": "kyodo-web", "redirect_uri": REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    bad = await http.post(f"{issuer}/authorize", data={**params, "login": TARO.id, "password": "guess"})
    assert bad.status_code == 400 and "wrong password" in bad.text
    evil = await http.get(f"{issuer}/authorize", params={**params, "redirect_uri": "https://evil.example/cb"})
    assert evil.status_code == 400 and "location" not in evil.headers


async def test_staff_get_only_their_scopes(idp, http, gateway):
    issuer, _ = idp
    staff = next(s for s in STAFF if "childcare:write" in s.scopes)
    verifier, challenge = pkce_pair()
    code = code_of(await sign_in(http, issuer, staff.id, scope="openid childcare:read currency:write",
                                 challenge=challenge))
    tokens = (await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "kyodo-web", "code_verifier": verifier})).json()
    principal = await gateway.authenticate(FakeRequest(f"Bearer {tokens['access_token']}"))
    assert principal.roles == {"staff"} and principal.municipality == staff.municipality_code
    assert principal.scopes == {"openid", "childcare:read"}  # currency:write is not theirs


async def test_refresh_rotates_and_old_refresh_token_is_dead(idp, http, gateway):
    issuer, _ = idp
    verifier, challenge = pkce_pair()
    code = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    first = (await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "kyodo-web", "code_verifier": verifier})).json()
    refreshed = await http.post(f"{issuer}/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "kyodo-web"})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    principal = await gateway.authenticate(FakeRequest(f"Bearer {second['access_token']}"))
    assert principal.subject == TARO.id and principal.assurance == "password"
    replay = await http.post(f"{issuer}/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "kyodo-web"})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


async def test_client_credentials_for_the_vendor(idp, http, gateway):
    issuer, _ = idp
    response = await http.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                               auth=("kyodo-vendor", "kyodo-vendor-dev-secret"))
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    principal = await gateway.authenticate(FakeRequest(f"Bearer {response.json()['access_token']}"))
    assert principal.subject == "kyodo-vendor" and principal.roles == {"vendor"}
    assert principal.scopes == {"currency:merchant"} and principal.assurance is None
    wrong = await http.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                            auth=("kyodo-vendor", "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    web = await http.post(f"{issuer}/token", data={"grant_type": "client_credentials", "client_id": "kyodo-web"})
    assert web.status_code in (400, 401)


async def test_card_tap_signs_in_the_linked_resident_at_tap_assurance(idp, http, gateway, tmp_path_factory):
    issuer, app = idp
    authority = app.state.server.card_authority
    assert has_demo_card(TARO)
    response = await tap_card(http, issuer, demo_card_for(authority, TARO.id))
    assert response.status_code == 200, response.text
    principal = await gateway.authenticate(FakeRequest(f"Bearer {response.json()['access_token']}"))
    assert principal.subject == TARO.id and principal.assurance == "card-tap"
    assert principal.roles == {"resident", "guardian"}


async def test_card_tap_refusals(idp, http):
    issuer, app = idp
    authority = app.state.server.card_authority
    renewed = await tap_card(http, issuer, demo_card_for(authority, TARO.id, generation=2))
    assert renewed.status_code == 400 and "not linked" in renewed.json()["error_description"]
    foreign = await tap_card(http, issuer, demo_card_for(create_card_authority(), TARO.id))
    assert foreign.status_code == 400 and "trusted card authority" in foreign.json()["error_description"]
    card = demo_card_for(authority, TARO.id)
    reader = ("kyodo-card-reader", "kyodo-card-reader-dev-secret")
    assert (await http.post(f"{issuer}/card/challenge")).status_code == 401   # only a reader gets challenges
    challenge = (await http.post(f"{issuer}/card/challenge", auth=reader)).json()["challenge"]
    signature = base64.urlsafe_b64encode(card.sign_challenge("another challenge")).decode()
    data = {"grant_type": "urn:kyodo:params:oauth:grant-type:card-tap", "certificate": card.certificate_pem,
            "challenge": challenge, "signature": signature}
    forged = await http.post(f"{issuer}/token", data=data, auth=reader)
    assert forged.status_code == 400 and "possession" in forged.json()["error_description"]
    replay = await http.post(f"{issuer}/token", data=data, auth=reader)  # the challenge was used up
    assert replay.status_code == 400 and "challenge" in replay.json()["error_description"]
    wrong_reader_secret = await tap_card(http, issuer, card, reader_secret="x")
    assert wrong_reader_secret.status_code == 401


def test_card_authority_is_kept_between_runs(tmp_path):
    first = load_or_create_card_authority(tmp_path)
    assert (tmp_path / "card-ca-key.pem").stat().st_mode & 0o077 == 0
    assert load_or_create_card_authority(tmp_path).certificate == first.certificate


async def test_key_rotation_at_the_idp_is_picked_up_by_a_running_gateway(idp, http, gateway):
    issuer, _ = idp
    grant = {"grant_type": "client_credentials"}
    vendor = ("kyodo-vendor", "kyodo-vendor-dev-secret")
    before = (await http.post(f"{issuer}/token", data=grant, auth=vendor)).json()["access_token"]
    assert await gateway.authenticate(FakeRequest(f"Bearer {before}"))
    assert (await http.post(f"{issuer}/admin/rotate-key", headers={"Authorization": "Bearer nope"})).status_code == 401
    rotated = await http.post(f"{issuer}/admin/rotate-key", headers={"Authorization": "Bearer test-admin"})
    new_kid = rotated.json()["kid"]
    after = (await http.post(f"{issuer}/token", data=grant, auth=vendor)).json()["access_token"]
    assert base64.urlsafe_b64decode(after.split(".")[0] + "==").decode().count(new_kid) == 1
    assert (await gateway.authenticate(FakeRequest(f"Bearer {after}"))).subject == "kyodo-vendor"
    assert await gateway.authenticate(FakeRequest(f"Bearer {before}"))  # old key still published


async def test_idp_tokens_for_another_audience_are_refused(idp, http, tmp_path):
    issuer, _ = idp
    security = GatewaySecurity({"issuers": [{"issuer": issuer, "audience": "urn:other"}],
                                "context_key_file": str(tmp_path / "k.json")})
    token = (await http.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                             auth=("kyodo-vendor", "kyodo-vendor-dev-secret"))).json()["access_token"]
    with pytest.raises(AuthenticationError, match="audience"):
        await security.authenticate(FakeRequest(f"Bearer {token}"))
    await security.close()
