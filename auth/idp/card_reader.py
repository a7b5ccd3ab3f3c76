"""A simulated card reader: taps a demo card at the dev IdP and gets the resident's tokens.

What a counter terminal would do: fetch a challenge, let the card sign it, send certificate +
challenge + signature with its own client credentials on the card-tap grant.
"""

from __future__ import annotations

import base64

import httpx

from auth.idp.card_certificates import DemoCard
from auth.idp.clients import CARD_TAP_GRANT

READER_CLIENT_ID = "kyodo-card-reader"


async def tap_card(
    client: httpx.AsyncClient,
    issuer: str,
    card: DemoCard,
    *,
    reader_secret: str = "kyodo-card-reader-dev-secret",
    scope: str = "openid",
) -> httpx.Response:
    challenge = (await client.post(f"{issuer}/card/challenge")).json()["challenge"]
    signature = base64.urlsafe_b64encode(card.sign_challenge(challenge)).rstrip(b"=").decode()
    return await client.post(
        f"{issuer}/token",
        data={
            "grant_type": CARD_TAP_GRANT,
            "certificate": card.certificate_pem,
            "challenge": challenge,
            "signature": signature,
            "scope": scope,
        },
        auth=(READER_CLIENT_ID, reader_secret),
    )
