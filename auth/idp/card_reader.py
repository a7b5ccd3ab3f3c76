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
    reader_id: str = READER_CLIENT_ID,
) -> httpx.Response:
    """`reader_id`: the client whose reader it is (a municipality's own service may tap too, registered_clients)."""
    reader = (reader_id, reader_secret)
    answer = await client.post(f"{issuer}/card/challenge", auth=reader)
    if answer.status_code != 200:
        return answer     # e.g. 401 for a wrong reader secret, 429 when rate-limited
    challenge = answer.json()["challenge"]
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
        auth=reader,
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m auth.idp.card_reader --issuer URL --resident ID`: tap a demo card, print the tokens."""
    import argparse
    import asyncio
    import json

    from auth.idp.card_certificates import demo_card_for, load_or_create_card_authority

    parser = argparse.ArgumentParser(prog="python -m auth.idp.card_reader", description=main.__doc__)
    parser.add_argument("--issuer", default="http://127.0.0.1:4400")
    parser.add_argument("--resident", required=True, help="roster id of the card holder (e.g. r-…)")
    parser.add_argument("--generation", type=int, default=1, help="2 = a renewed card (not yet re-linked)")
    parser.add_argument("--state-dir", default="var/idp", help="the IdP's state dir (holds the dev card authority)")
    args = parser.parse_args(argv)
    card = demo_card_for(load_or_create_card_authority(args.state_dir), args.resident, args.generation)

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await tap_card(client, args.issuer.rstrip("/"), card)

    response = asyncio.run(run())
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
