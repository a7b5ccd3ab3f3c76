"""Real tokens from the dev IdP, over HTTP, by the flows a client would use.

* `sign_in_with_pkce`: authorization code + PKCE (S256) for the public web client, through the sign-in form;
* `tap_card`: the card-tap grant a counter or shelter reader uses (the resident at tap assurance);
* `vendor_token`: client credentials for the merchant back-end (role `vendor`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from auth.idp.card_certificates import DemoCard, demo_card_for
from auth.idp.card_reader import tap_card as reader_tap
from auth.idp.directory import dev_password

WEB_CLIENT = "kyodo-web"
REDIRECT_URI = "http://127.0.0.1:8765/callback"   # loopback redirect: any port matches (RFC 8252)
VENDOR_CLIENT = ("kyodo-vendor", "kyodo-vendor-dev-secret")


class TokenFlowError(AssertionError):
    """A step of a token flow did not answer as the protocol says."""


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def sign_in_with_pkce(issuer: str, login: str, scope: str = "openid profile") -> str:
    """The access token of `login` (a roster resident or staff id) after the code + PKCE flow."""
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(8)
    params = {"response_type": "code", "client_id": WEB_CLIENT, "redirect_uri": REDIRECT_URI, "scope": scope,
              "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    async with httpx.AsyncClient(timeout=15) as client:
        form = await client.get(f"{issuer}/authorize", params=params)
        if form.status_code != 200:
            raise TokenFlowError(f"sign-in form: HTTP {form.status_code} {form.text[:200]}")
        redirect = await client.post(f"{issuer}/authorize", data={**params, "login": login,
                                                                  "password": dev_password()})
        if redirect.status_code != 302:
            raise TokenFlowError(f"sign-in: HTTP {redirect.status_code} {redirect.text[:200]}")
        query = parse_qs(urlsplit(redirect.headers["location"]).query)
        if query.get("state") != [state]:
            raise TokenFlowError(f"sign-in redirect lost the state: {redirect.headers['location']}")
        response = await client.post(f"{issuer}/token", data={
            "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT_URI,
            "client_id": WEB_CLIENT, "code_verifier": verifier})
    if response.status_code != 200:
        raise TokenFlowError(f"token endpoint: HTTP {response.status_code} {response.text[:200]}")
    return response.json()["access_token"]


def demo_card(idp_app, person_id: str) -> DemoCard:
    """The simulated My Number Card of a roster resident, issued by this IdP's card authority."""
    return demo_card_for(idp_app.state.server.card_authority, person_id)


async def tap_card(issuer: str, card: DemoCard) -> str:
    async with httpx.AsyncClient(timeout=15) as client:
        response = await reader_tap(client, issuer, card)
    if response.status_code != 200:
        raise TokenFlowError(f"card tap: HTTP {response.status_code} {response.text[:200]}")
    return response.json()["access_token"]


async def vendor_token(issuer: str) -> str:
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                                     auth=VENDOR_CLIENT)
    if response.status_code != 200:
        raise TokenFlowError(f"client credentials: HTTP {response.status_code} {response.text[:200]}")
    return response.json()["access_token"]
