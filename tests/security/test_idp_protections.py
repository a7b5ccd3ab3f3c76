"""The dev IdP's protections (issue 10 finding 8, issue 8 item 4): no refresh token for the card reader, token
families revoked on refresh-token reuse and on a replayed code, lockout with backoff on client secrets and
passwords, rate limits on failed sign-ins, card challenges and token issuance, RFC 7009 revocation, RFC 7662
introspection, and a token store bounded per account. Each test gets its own IdP and a clock it moves itself."""

from __future__ import annotations

import httpx
import pytest

from auth.idp.card_certificates import demo_card_for
from auth.idp.card_reader import tap_card
from auth.idp.store import MAX_FAMILIES_PER_ACCOUNT, IdpStore
from subgraphs.common.roster import by_label
from tests.security.servers import serve_factory
from tests.security.test_dev_idp import REDIRECT, code_of, pkce_pair, sign_in

TARO = by_label("himeji-1/taro")
HANAKO = by_label("himeji-1/hanako")
VENDOR = ("kyodo-vendor", "kyodo-vendor-dev-secret")
READER = ("kyodo-card-reader", "kyodo-card-reader-dev-secret")
GATEWAY = ("kyodo-gateway", "kyodo-gateway-dev-secret")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fresh_idp(tmp_path, clock):
    from auth.idp.app import create_idp_app

    with serve_factory(lambda url: create_idp_app(url, state_dir=tmp_path, admin_token="t", clock=clock)) as served:
        yield served


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def code_tokens(http, issuer: str, login: str = TARO.id) -> tuple[dict, str, str]:
    """(tokens, code, verifier) of one code + PKCE sign-in."""
    verifier, challenge = pkce_pair()
    code = code_of(await sign_in(http, issuer, login, challenge=challenge))
    response = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "kyodo-web",
        "code_verifier": verifier})
    assert response.status_code == 200, response.text
    return response.json(), code, verifier


async def refresh(http, issuer: str, token: str) -> httpx.Response:
    return await http.post(f"{issuer}/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                                    "client_id": "kyodo-web"})


async def active(http, issuer: str, token: str) -> bool:
    response = await http.post(f"{issuer}/introspect", data={"token": token}, auth=GATEWAY)
    assert response.status_code == 200, response.text
    return response.json()["active"]


async def test_card_reader_gets_no_refresh_token_even_when_asking(fresh_idp, http):
    issuer, app = fresh_idp
    card = demo_card_for(app.state.server.card_authority, TARO.id)
    response = await tap_card(http, issuer, card, scope="openid profile offline_access")
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    # and it cannot use the refresh grant at all
    misuse = await http.post(f"{issuer}/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                             auth=READER)
    assert misuse.status_code in (400, 401) and misuse.json()["error"] in ("unauthorized_client", "invalid_grant")


async def test_refresh_token_reuse_revokes_the_whole_family(fresh_idp, http):
    issuer, _ = fresh_idp
    first, _, _ = await code_tokens(http, issuer)
    second = (await refresh(http, issuer, first["refresh_token"])).json()
    assert await active(http, issuer, second["access_token"])
    replay = await refresh(http, issuer, first["refresh_token"])         # the thief (or the victim) reuses it
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = await refresh(http, issuer, second["refresh_token"])         # the family is gone
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert not await active(http, issuer, second["access_token"])
    assert not await active(http, issuer, first["access_token"])
    # another sign-in of the same person is a different family and unaffected
    other, _, _ = await code_tokens(http, issuer)
    assert (await refresh(http, issuer, other["refresh_token"])).status_code == 200


async def test_replayed_code_revokes_what_its_first_exchange_issued(fresh_idp, http):
    issuer, _ = fresh_idp
    tokens, code, verifier = await code_tokens(http, issuer)
    assert await active(http, issuer, tokens["access_token"])
    replay = await http.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "kyodo-web",
        "code_verifier": verifier})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert not await active(http, issuer, tokens["access_token"])
    assert (await refresh(http, issuer, tokens["refresh_token"])).status_code == 400


async def test_wrong_client_secrets_lock_the_client_out_with_backoff(fresh_idp, http, clock):
    issuer, _ = fresh_idp
    grant = {"grant_type": "client_credentials"}
    for _ in range(4):
        wrong = await http.post(f"{issuer}/token", data=grant, auth=("kyodo-vendor", "guess"))
        assert wrong.status_code == 401
    assert (await http.post(f"{issuer}/token", data=grant, auth=("kyodo-vendor", "guess"))).status_code == 401
    locked = await http.post(f"{issuer}/token", data=grant, auth=VENDOR)   # the right secret, but locked
    assert locked.status_code == 429 and locked.json()["error"] == "invalid_client"
    first_lock = int(locked.headers["Retry-After"])
    assert first_lock > 0
    clock.now += first_lock + 1
    assert (await http.post(f"{issuer}/token", data=grant, auth=("kyodo-vendor", "guess"))).status_code == 401
    second = await http.post(f"{issuer}/token", data=grant, auth=VENDOR)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > first_lock   # backoff doubles
    clock.now += int(second.headers["Retry-After"]) + 1
    assert (await http.post(f"{issuer}/token", data=grant, auth=VENDOR)).status_code == 200
    # another client was never affected
    assert (await http.post(f"{issuer}/card/challenge", auth=READER)).status_code == 200


async def test_wrong_passwords_lock_the_account_then_it_recovers(fresh_idp, http, clock):
    issuer, _ = fresh_idp
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": "kyodo-web", "redirect_uri": REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    for _ in range(5):
        bad = await http.post(f"{issuer}/authorize", data={**params, "login": TARO.id, "password": "guess"})
        assert bad.status_code == 400
    locked = await http.post(f"{issuer}/authorize", data={**params, "login": TARO.id, "password": "kyodo-dev"})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert int(locked.headers["Retry-After"]) > 0
    # someone else signs in normally meanwhile
    assert (await code_tokens(http, issuer, HANAKO.id))[0]["access_token"]
    clock.now += int(locked.headers["Retry-After"]) + 1
    assert (await code_tokens(http, issuer, TARO.id))[0]["access_token"]


async def test_failed_sign_ins_are_rate_limited_per_address(fresh_idp, http):
    issuer, _ = fresh_idp
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": "kyodo-web", "redirect_uri": REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    statuses = []
    for n in range(25):    # a password spray: one guess each for many (made-up) accounts
        response = await http.post(f"{issuer}/authorize", data={**params, "login": f"r-guess-{n}", "password": "x"})
        statuses.append(response.status_code)
    assert statuses[:20] == [400] * 20 and set(statuses[20:]) == {429}


async def test_card_challenge_flood_does_not_starve_the_reader(fresh_idp, http, clock):
    issuer, app = fresh_idp
    anonymous = [(await http.post(f"{issuer}/card/challenge")).status_code for _ in range(200)]
    assert set(anonymous) == {401}
    vendor = await http.post(f"{issuer}/card/challenge", auth=VENDOR)       # a client that is not a reader
    assert vendor.status_code == 403
    card = demo_card_for(app.state.server.card_authority, TARO.id)
    assert (await tap_card(http, issuer, card)).status_code == 200
    # the reader itself is rate-limited too (a stolen reader secret cannot flood either)
    answers = [(await http.post(f"{issuer}/card/challenge", auth=READER)).status_code for _ in range(110)]
    assert 429 in answers and answers[0] == 200
    clock.now += 60
    assert (await tap_card(http, issuer, card)).status_code == 200


async def test_token_issuance_is_rate_limited_per_account(fresh_idp, http, clock):
    issuer, _ = fresh_idp
    grant = {"grant_type": "client_credentials"}
    statuses = [(await http.post(f"{issuer}/token", data=grant, auth=VENDOR)).status_code for _ in range(65)]
    assert statuses[:60] == [200] * 60 and set(statuses[60:]) == {429}
    limited = await http.post(f"{issuer}/token", data=grant, auth=VENDOR)
    assert limited.json()["error"] == "too_many_requests" and int(limited.headers["Retry-After"]) >= 1
    relay = await http.post(f"{issuer}/token", data=grant,
                            auth=("kyodo-grant-relay", "kyodo-grant-relay-dev-secret"))
    assert relay.status_code == 200           # another account is not affected
    clock.now += 30
    assert (await http.post(f"{issuer}/token", data=grant, auth=VENDOR)).status_code == 200


async def test_token_store_is_bounded_per_account_without_failing_others(fresh_idp, http):
    issuer, app = fresh_idp
    store = app.state.server.store
    other, _, _ = await code_tokens(http, issuer, HANAKO.id)
    oldest, _, _ = await code_tokens(http, issuer, TARO.id)
    for _ in range(MAX_FAMILIES_PER_ACCOUNT + 3):
        await code_tokens(http, issuer, TARO.id)
    assert len(store.families_of(TARO.id)) == MAX_FAMILIES_PER_ACCOUNT
    assert (await refresh(http, issuer, oldest["refresh_token"])).status_code == 400   # retired
    assert (await refresh(http, issuer, other["refresh_token"])).status_code == 200     # untouched


def test_one_account_signing_in_ten_thousand_times_leaves_room_for_everyone():
    store = IdpStore()
    keep = store.new_family("someone-else", "kyodo-web")
    for _ in range(10_080):
        store.new_family("r-flood", "kyodo-web")
    assert len(store.families_of("r-flood")) == MAX_FAMILIES_PER_ACCOUNT
    assert store.family(keep.id) is not None


async def test_revocation_rfc7009(fresh_idp, http):
    issuer, _ = fresh_idp
    tokens, _, _ = await code_tokens(http, issuer)
    # a public client revokes its own refresh token: the whole sign-in ends, access token included
    revoked = await http.post(f"{issuer}/revoke", data={"token": tokens["refresh_token"],
                                                        "token_type_hint": "refresh_token", "client_id": "kyodo-web"})
    assert revoked.status_code == 200
    assert (await refresh(http, issuer, tokens["refresh_token"])).status_code == 400
    assert not await active(http, issuer, tokens["access_token"])
    # an access token alone
    vendor_token = (await http.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                                    auth=VENDOR)).json()["access_token"]
    assert await active(http, issuer, vendor_token)
    assert (await http.post(f"{issuer}/revoke", data={"token": vendor_token}, auth=VENDOR)).status_code == 200
    assert not await active(http, issuer, vendor_token)
    # a confidential client cannot pass as public by sending only its id
    fresh_vendor = (await http.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                                    auth=VENDOR)).json()["access_token"]
    as_public = await http.post(f"{issuer}/revoke", data={"token": fresh_vendor, "client_id": "kyodo-vendor"})
    assert as_public.status_code == 401
    # and one client cannot revoke another's token
    web_tokens, _, _ = await code_tokens(http, issuer)
    foreign = await http.post(f"{issuer}/revoke", data={"token": web_tokens["access_token"]}, auth=VENDOR)
    assert foreign.status_code == 400
    assert await active(http, issuer, web_tokens["access_token"]) and await active(http, issuer, fresh_vendor)


async def test_introspection_rfc7662(fresh_idp, http):
    issuer, _ = fresh_idp
    meta = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
    assert meta["introspection_endpoint"] == f"{issuer}/introspect"
    assert meta["revocation_endpoint"] == f"{issuer}/revoke"
    tokens, _, _ = await code_tokens(http, issuer)
    answer = (await http.post(f"{issuer}/introspect", data={"token": tokens["access_token"]}, auth=GATEWAY)).json()
    assert answer["active"] is True and answer["sub"] == TARO.id and answer["client_id"] == "kyodo-web"
    assert answer["acr"] == "password" and answer["iss"] == issuer
    as_refresh = (await http.post(f"{issuer}/introspect", data={"token": tokens["refresh_token"],
                                                               "token_type_hint": "refresh_token"},
                                  auth=GATEWAY)).json()
    assert as_refresh["active"] is True and as_refresh["sub"] == TARO.id
    assert (await http.post(f"{issuer}/introspect", data={"token": "nonsense"}, auth=GATEWAY)).json() == {
        "active": False}
    assert (await http.post(f"{issuer}/introspect", data={"token": tokens["access_token"]})).status_code == 401
    # a client may not introspect another client's token
    other = await http.post(f"{issuer}/introspect", data={"token": tokens["access_token"]}, auth=VENDOR)
    assert other.json() == {"active": False}


async def test_pending_codes_are_bounded_per_account_without_failing_others(fresh_idp, http):
    issuer, _ = fresh_idp
    verifier, challenge = pkce_pair()

    async def exchange(code: str) -> int:
        return (await http.post(f"{issuer}/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "kyodo-web",
            "code_verifier": verifier})).status_code

    others = code_of(await sign_in(http, issuer, HANAKO.id, challenge=challenge))
    oldest = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    for _ in range(12):      # one account piling up sign-ins it never exchanges
        newest = code_of(await sign_in(http, issuer, TARO.id, challenge=challenge))
    assert await exchange(oldest) == 400         # its own oldest code made room
    assert await exchange(newest) == 200
    assert await exchange(others) == 200         # nobody else's
